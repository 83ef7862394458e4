// AVX-512 pack: 16 floats -> 16 bits with one compare-into-mask (x < 0, ordered: -0.0 and NaN give 0).
// Thresholds: (x < t) or, for flipped channels, (x > t), then the constant bits. Masked tails: no
// over-reads or over-writes.
#include "util/immintrin.h"

#include "onebit/kernels/bit_contract.h"
#include "pack/pack-ukernels.h"

void onebit_pack_ukernel_x32__avx512vpopcnt(size_t pixels, size_t channels, const float* x, uint32_t* out,
                                            const onebit::kernels::QuantizeThresholds* t) {
  const size_t words = onebit::packed_words(channels);
  const __m512 zero = _mm512_setzero_ps();
  for (size_t p = 0; p < pixels; ++p, x += channels, out += words) {
    for (size_t w = 0; w < words; ++w) {
      uint32_t bits = 0;
      for (size_t h = 0; h < 2; ++h) {
        const size_t c = w * 32 + h * 16;
        if (c >= channels) break;
        const __mmask16 mask = channels - c >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (channels - c)) - 1);
        const __m512 v = _mm512_maskz_loadu_ps(mask, x + c);
        __mmask16 neg;
        if (t == nullptr) {
          neg = _mm512_mask_cmp_ps_mask(mask, v, zero, _CMP_LT_OQ);
        } else {
          const __m512 th = _mm512_maskz_loadu_ps(mask, t->threshold + c);
          const __mmask16 flip = static_cast<__mmask16>(t->flip[w] >> (16 * h));
          const __mmask16 lt = _mm512_mask_cmp_ps_mask(mask, v, th, _CMP_LT_OQ);
          const __mmask16 gt = _mm512_mask_cmp_ps_mask(mask, v, th, _CMP_GT_OQ);
          neg = static_cast<__mmask16>((lt & ~flip) | (gt & flip));
        }
        bits |= uint32_t{neg} << (16 * h);
      }
      if (t != nullptr) bits = ((bits & ~t->const_mask[w]) | (t->const_bits[w] & t->const_mask[w])) & onebit::channel_mask(channels, w);
      out[w] = bits;
    }
  }
}
