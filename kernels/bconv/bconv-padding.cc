// Exact zero-padding correction.
//
// PyTorch pads the binarized activations of a binary conv with 0, which a bit cannot hold. im2col writes
// padded taps as 0-bits (+1), so the GEMM computes
//     dot_computed = sum_{real taps} a_t w_t + sum_{padded taps} (+1) w_t,
// while zero padding wants only the first sum. The correction for output channel o at a border position is
//     correction = sum_{padded taps t} w_t = sum_{padded (ky, kx)} (cin_g - 2 * popcount(W[o][ky][kx]))
// and the transform uses dot = taps - 2 * popcount - correction. Which (ky, kx) are padded depends on oy
// only through the set of valid ky and on ox only through the set of valid kx, so positions are grouped
// into row classes and column classes (class 0 = fully inside); one correction row per class pair.
// With 2-bit (Bipolar) weights the table holds the sum of the weight LEVELS on padded taps instead,
// L_w = -(u_0 + 2 u_1) with u_j = 1 - 2 * bit_j (bconv-levels.cc scales it by the activation's fill level).
#include <map>
#include <vector>

#include "bconv/bconv-impl.h"
#include "onebit/kernels/bit_contract.h"
#include "onebit/pool.h"
#include "util/bits.h"

namespace onebit::kernels {
namespace {

// Valid-tap mask of each output coordinate along one axis, mapped to class ids (0 = all taps valid).
Vec<int32_t> classify(int out, int in, int kernel, int stride, int dilation, int pad,
                              Vec<Vec<bool>>* class_masks) {
  std::map<Vec<bool>, int32_t, std::less<Vec<bool>>, Allocator<std::pair<const Vec<bool>, int32_t>>> ids;
  class_masks->assign(1, Vec<bool>(kernel, true));
  ids[class_masks->front()] = 0;
  Vec<int32_t> cls(out);
  for (int o = 0; o < out; ++o) {
    Vec<bool> valid(kernel);
    for (int k = 0; k < kernel; ++k) {
      const int i = o * stride - pad + k * dilation;
      valid[k] = i >= 0 && i < in;
    }
    auto it = ids.find(valid);
    if (it == ids.end()) {
      it = ids.emplace(valid, static_cast<int32_t>(class_masks->size())).first;
      class_masks->push_back(valid);
    }
    cls[o] = it->second;
  }
  return cls;
}

}  // namespace

void bconv_zero_padding_correction(BConvPlan& impl, const uint32_t* weights) {
  const BConvGeometry& g = impl.g;
  Vec<Vec<bool>> rows, cols;
  impl.row_class = classify(impl.out_h, g.in_h, g.kernel_h, g.stride_h, g.dilation_h, g.pad_top, &rows);
  impl.col_class = classify(impl.out_w, g.in_w, g.kernel_w, g.stride_w, g.dilation_w, g.pad_left, &cols);
  impl.col_classes = cols.size();
  if (rows.size() == 1 && cols.size() == 1) {  // no window ever leaves the image
    impl.correction.clear();
    return;
  }
  // Sum of the weight levels of each (o, ky, kx) tap: sigma * sum_j 2^j (cin_g - 2 popcount(plane j)),
  // sigma = +1 for 1-bit Binary weights (L = u_0), -1 for 2-bit Bipolar ones (L = -(u_0 + 2 u_1)).
  const size_t taps2d = static_cast<size_t>(g.kernel_h) * g.kernel_w;
  const size_t out_c = static_cast<size_t>(g.out_c);
  const int32_t sigma = g.weight_bits == 1 ? 1 : -1;
  // The table first, then the temporary: freed last-made-first, the temporary leaves no hole (onebit/pool.h).
  impl.correction.assign(rows.size() * cols.size() * g.out_c, 0);
  Vec<int32_t> tap_sum(out_c * taps2d, 0);
  for (size_t j = 0; j < static_cast<size_t>(g.weight_bits); ++j) {
    for (size_t o = 0; o < out_c; ++o) {
      for (size_t t = 0; t < taps2d; ++t) {
        const uint32_t* w = weights + ((j * out_c + o) * taps2d + t) * impl.tap_words;
        int32_t ones = 0;
        for (size_t i = 0; i < impl.tap_words; ++i) ones += popcount32(w[i] & channel_mask(impl.cin_g, i));
        tap_sum[o * taps2d + t] += sigma * (int32_t{1} << j) * (static_cast<int32_t>(impl.cin_g) - 2 * ones);
      }
    }
  }
  for (size_t r = 0; r < rows.size(); ++r) {
    for (size_t c = 0; c < cols.size(); ++c) {
      int32_t* out = impl.correction.data() + (r * cols.size() + c) * g.out_c;
      for (size_t o = 0; o < static_cast<size_t>(g.out_c); ++o) {
        int32_t sum = 0;
        for (int ky = 0; ky < g.kernel_h; ++ky) {
          for (int kx = 0; kx < g.kernel_w; ++kx) {
            if (!(rows[r][ky] && cols[c][kx])) sum += tap_sum[o * taps2d + ky * g.kernel_w + kx];
          }
        }
        out[o] = sum;
      }
    }
  }
}

}  // namespace onebit::kernels
