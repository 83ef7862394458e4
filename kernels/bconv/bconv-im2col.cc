// im2col on packed words: one row of kernel_h * kernel_w * packed_words(cin_g) words per output pixel and
// group, in the weights' OHWI order, for one bit-plane of the input. Padded taps get the plane's fill bit on
// real channels (padding channel bits stay 0): for a binary input the pad mode's bits, 0-bits (+1) for kOne
// and kZero (kZero is then corrected exactly, see bconv-padding.cc), 1-bits (-1) for kMinusOne; for a k-bit
// input the plane's bit of the zero level (see bconv-levels.cc).
#include <cstring>

#include "bconv/bconv-impl.h"
#include "onebit/kernels/bit_contract.h"
#include "util/bits.h"

namespace onebit::kernels {

void bconv_im2col(const BConvPlan& impl, const uint32_t* input, int n, int oy, int ox0, size_t count,
                  size_t group, bool fill_ones, uint32_t* rows) {
  const BConvGeometry& g = impl.g;
  const size_t tw = impl.tap_words;
  const uint32_t* image = input + static_cast<size_t>(n) * g.in_h * g.in_w * impl.in_words;
  // Fast path: word-aligned channels and dilation_w 1 make the kernel_w taps of one kernel row a single
  // contiguous run of kernel_w * tap_words words in the input whenever the whole run is inside the image.
  const bool runs = !impl.extract && g.dilation_w == 1;
  const size_t run_words = static_cast<size_t>(g.kernel_w) * tw;
  for (size_t i = 0; i < count; ++i, rows += impl.row_words) {
    const int ox = ox0 + static_cast<int>(i);
    const int ix0 = ox * g.stride_w - g.pad_left;
    const bool row_inside = runs && ix0 >= 0 && ix0 + g.kernel_w <= g.in_w;
    uint32_t* dst = rows;
    for (int ky = 0; ky < g.kernel_h; ++ky) {
      const int iy = oy * g.stride_h - g.pad_top + ky * g.dilation_h;
      if (row_inside && iy >= 0 && iy < g.in_h) {
        const uint32_t* src = image + (static_cast<size_t>(iy) * g.in_w + ix0) * impl.in_words + group * tw;
        if (tw == impl.in_words) {
          for (size_t k = 0; k < run_words; ++k) dst[k] = src[k];
        } else {
          for (int kx = 0; kx < g.kernel_w; ++kx)
            for (size_t k = 0; k < tw; ++k) dst[kx * tw + k] = src[kx * impl.in_words + k];
        }
        dst += run_words;
        continue;
      }
      for (int kx = 0; kx < g.kernel_w; ++kx, dst += tw) {
        const int ix = ox * g.stride_w - g.pad_left + kx * g.dilation_w;
        if (iy < 0 || iy >= g.in_h || ix < 0 || ix >= g.in_w) {
          for (size_t w = 0; w < tw; ++w) dst[w] = fill_ones ? channel_mask(impl.cin_g, w) : 0u;
          continue;
        }
        const uint32_t* src = image + (static_cast<size_t>(iy) * g.in_w + ix) * impl.in_words;
        if (impl.extract) {
          extract_bits(src, group * impl.cin_g, impl.cin_g, dst);
        } else {
          std::memcpy(dst, src + group * tw, tw * sizeof(uint32_t));
        }
      }
    }
  }
}

}  // namespace onebit::kernels
