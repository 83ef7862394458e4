// Scalar reference of the pack family (the truth the SIMD variants are compared with).
#include "pack/pack-ukernels.h"

#include "onebit/kernels/bit_contract.h"

void onebit_pack_ukernel_x32__scalar(size_t pixels, size_t channels, const float* x, uint32_t* out,
                                     const onebit::kernels::QuantizeThresholds* t) {
  const size_t words = onebit::packed_words(channels);
  for (size_t p = 0; p < pixels; ++p, x += channels, out += words) {
    for (size_t w = 0; w < words; ++w) {
      const size_t c0 = w * 32;
      const size_t n = channels - c0 < 32 ? channels - c0 : 32;
      uint32_t bits = 0;
      if (t == nullptr) {
        for (size_t b = 0; b < n; ++b) bits |= onebit::binarize_bit(x[c0 + b]) << b;
      } else {
        const uint32_t flip = t->flip[w];
        for (size_t b = 0; b < n; ++b) {
          const float v = x[c0 + b];
          const float th = t->threshold[c0 + b];
          const bool neg = ((flip >> b) & 1u) ? (v > th) : (v < th);
          bits |= uint32_t{neg} << b;
        }
        bits = (bits & ~t->const_mask[w]) | (t->const_bits[w] & t->const_mask[w]);
        bits &= onebit::channel_mask(channels, w);
      }
      out[w] = bits;
    }
  }
}
