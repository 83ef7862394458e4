// Exact zero-padding correction.
//
// PyTorch pads the binarized activations of a binary conv with 0, which a bit cannot hold. im2col writes
// padded taps as 0-bits (+1), so the GEMM computes
//     dot_computed = sum_{real taps} a_t w_t + sum_{padded taps} (+1) w_t,
// while zero padding wants only the first sum. The correction for output channel o at a border position is
//     correction = sum_{padded taps t} w_t = sum_{padded (ky, kx)} (cin_g - 2 * popcount(W[o][ky][kx]))
// and the transform uses dot = taps - 2 * popcount - correction. The real taps of a window are a rectangle
// [ky0, ky1) x [kx0, kx1) of the kernel (the input coordinate grows with the tap index), which depends on
// oy only through its rows and on ox only through its columns. Two ways to get the correction:
// - a table (packed weights, application processors): output positions are grouped into row classes and
//   column classes (class 0 = fully inside), one correction row per class pair, built at prepare;
// - per pixel (row weights, Cortex-M, where SRAM is what the model competes for: 16 KB of tables for the
//   shipped model): run() computes the row of each border pixel of a block from the weights in flash into
//   a cache of block_m rows in the thread's scratch, tagged by their rectangle (a 3x3 conv has at most 8),
//   so each is computed about once per run.
// With 2-bit (Bipolar) weights the correction holds the sum of the weight LEVELS on padded taps instead,
// L_w = -(u_0 + 2 u_1) with u_j = 1 - 2 * bit_j (bconv-levels.cc scales it by the activation's fill level).
#include <algorithm>
#include <map>
#include <utility>

#include "bconv/bconv-impl.h"
#include "onebit/kernels/bit_contract.h"
#include "onebit/pool.h"
#include "util/bits.h"

namespace onebit::kernels {
namespace {

using Span = std::pair<int, int>;  // real taps [k0, k1) along one axis

Span real_taps(int o, int in, int kernel, int stride, int dilation, int pad) {
  int k0 = kernel, k1 = 0;
  for (int k = 0; k < kernel; ++k) {
    const int i = o * stride - pad + k * dilation;
    if (i >= 0 && i < in) k0 = std::min(k0, k), k1 = k + 1;
  }
  return k0 < k1 ? Span{k0, k1} : Span{0, 0};
}

// Class id of each output coordinate along one axis (0 = all taps real) and the span of each class.
Vec<int32_t> classify(int out, int in, int kernel, int stride, int dilation, int pad, Vec<Span>* spans) {
  std::map<Span, int32_t, std::less<Span>, Allocator<std::pair<const Span, int32_t>>> ids;
  spans->assign(1, Span{0, kernel});
  ids[spans->front()] = 0;
  Vec<int32_t> cls(out);
  for (int o = 0; o < out; ++o) {
    const Span s = real_taps(o, in, kernel, stride, dilation, pad);
    auto it = ids.find(s);
    if (it == ids.end()) {
      it = ids.emplace(s, static_cast<int32_t>(spans->size())).first;
      spans->push_back(s);
    }
    cls[o] = it->second;
  }
  return cls;
}

// Sum of the weight levels of output channel o on the taps outside rows [y.first, y.second) x columns
// [x.first, x.second): sigma * sum_j 2^j sum_taps (cin_g - 2 popcount(plane j)), sigma = +1 for 1-bit
// Binary weights (L = u_0), -1 for 2-bit Bipolar ones (L = -(u_0 + 2 u_1)). `weights` as
// bconv_zero_padding_correction's.
int32_t padded_level_sum(const BConvPlan& p, const uint32_t* weights, size_t o, Span y, Span x) {
  const BConvGeometry& g = p.g;
  const int32_t sigma = g.weight_bits == 1 ? 1 : -1;
  int32_t sum = 0;
  for (int j = 0; j < g.weight_bits; ++j) {
    const uint32_t* row = weights + (static_cast<size_t>(j) * g.out_c + o) * p.row_words;
    for (int ky = 0; ky < g.kernel_h; ++ky) {
      for (int kx = 0; kx < g.kernel_w; ++kx) {
        if (ky >= y.first && ky < y.second && kx >= x.first && kx < x.second) continue;
        const uint32_t* w = row + (static_cast<size_t>(ky) * g.kernel_w + kx) * p.tap_words;
        int32_t ones = 0;
        for (size_t i = 0; i < p.tap_words; ++i) ones += popcount32(w[i] & channel_mask(p.cin_g, i));
        sum += sigma * (int32_t{1} << j) * (static_cast<int32_t>(p.cin_g) - 2 * ones);
      }
    }
  }
  return sum;
}

Span row_span(const BConvPlan& p, int oy) {
  const BConvGeometry& g = p.g;
  return real_taps(oy, g.in_h, g.kernel_h, g.stride_h, g.dilation_h, g.pad_top);
}
Span col_span(const BConvPlan& p, int ox) {
  const BConvGeometry& g = p.g;
  return real_taps(ox, g.in_w, g.kernel_w, g.stride_w, g.dilation_w, g.pad_left);
}

}  // namespace

void bconv_zero_padding_correction(BConvPlan& impl, const uint32_t* weights) {
  const BConvGeometry& g = impl.g;
  Vec<Span> rows, cols;
  impl.row_class = classify(impl.out_h, g.in_h, g.kernel_h, g.stride_h, g.dilation_h, g.pad_top, &rows);
  impl.col_class = classify(impl.out_w, g.in_w, g.kernel_w, g.stride_w, g.dilation_w, g.pad_left, &cols);
  impl.col_classes = cols.size();
  if (rows.size() == 1 && cols.size() == 1) {  // no window ever leaves the image
    impl.correction.clear();
    return;
  }
  impl.correction.assign(rows.size() * cols.size() * g.out_c, 0);
  for (size_t r = 0; r < rows.size(); ++r) {
    for (size_t c = 0; c < cols.size(); ++c) {
      if (r == 0 && c == 0) continue;  // all taps real: never read (correction_for gives null)
      int32_t* out = impl.correction.data() + (r * cols.size() + c) * g.out_c;
      for (size_t o = 0; o < static_cast<size_t>(g.out_c); ++o) out[o] = padded_level_sum(impl, weights, o, rows[r], cols[c]);
    }
  }
}

namespace {
struct CacheTag {  // the padded-tap rectangle a cached row holds, and 1 + the last block that used it (0: empty)
  Span y, x;
  size_t used;
};
}  // namespace

size_t bconv_correction_cache_bytes(const BConvPlan& p) {
  return p.block_m * (sizeof(CacheTag) + static_cast<size_t>(p.g.out_c) * sizeof(int32_t));
}

void bconv_correction_cache_clear(const BConvPlan& p, void* cache) {
  CacheTag* tags = static_cast<CacheTag*>(cache);
  for (size_t i = 0; i < p.block_m; ++i) tags[i] = CacheTag{Span{-1, -1}, Span{-1, -1}, 0};
}

const int32_t* bconv_correction_cached(const BConvPlan& p, void* cache, int oy, int ox, size_t c0, size_t c1,
                                       size_t block) {
  CacheTag* tags = static_cast<CacheTag*>(cache);
  int32_t* rows = reinterpret_cast<int32_t*>(tags + p.block_m);
  const size_t out_c = static_cast<size_t>(p.g.out_c);
  const Span y = row_span(p, oy), x = col_span(p, ox);
  size_t victim = 0;  // least recently used row (a block has at most block_m pixels: it is not this block's)
  for (size_t i = 0; i < p.block_m; ++i) {
    if (tags[i].y == y && tags[i].x == x) {
      tags[i].used = block + 1;
      return rows + i * out_c;
    }
    if (tags[i].used < tags[victim].used) victim = i;
  }
  int32_t* row = rows + victim * out_c;
  for (size_t o = c0; o < c1; ++o) row[o] = padded_level_sum(p, p.weights, o, y, x);
  tags[victim] = CacheTag{y, x, block + 1};
  return row;
}

}  // namespace onebit::kernels
