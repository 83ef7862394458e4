// AVX2 pack: 8 floats -> 8 bits with an ordered compare (x < 0: -0.0 and NaN give 0) and vmovmskps.
// Thresholds: (x < t) or, for flipped channels, (x > t), then the constant bits. Channels past the last
// full group of 8 in a word go through scalar compares: no over-reads.
#include "util/immintrin.h"

#include "onebit/kernels/bit_contract.h"
#include "pack/pack-ukernels.h"

void onebit_pack_ukernel_x32__avx2(size_t pixels, size_t channels, const float* x, uint32_t* out,
                                   const onebit::kernels::QuantizeThresholds* t) {
  const size_t words = onebit::packed_words(channels);
  const __m256 zero = _mm256_setzero_ps();
  for (size_t p = 0; p < pixels; ++p, x += channels, out += words) {
    for (size_t w = 0; w < words; ++w) {
      const size_t c0 = w * 32;
      const size_t n = channels - c0 < 32 ? channels - c0 : 32;
      uint32_t lt = 0, gt = 0;
      size_t b = 0;
      for (; b + 8 <= n; b += 8) {
        const __m256 v = _mm256_loadu_ps(x + c0 + b);
        const __m256 th = t == nullptr ? zero : _mm256_loadu_ps(t->threshold + c0 + b);
        lt |= static_cast<uint32_t>(_mm256_movemask_ps(_mm256_cmp_ps(v, th, _CMP_LT_OQ))) << b;
        if (t != nullptr) gt |= static_cast<uint32_t>(_mm256_movemask_ps(_mm256_cmp_ps(v, th, _CMP_GT_OQ))) << b;
      }
      for (; b < n; ++b) {
        const float v = x[c0 + b];
        const float th = t == nullptr ? 0.0f : t->threshold[c0 + b];
        lt |= uint32_t{v < th} << b;
        gt |= uint32_t{v > th} << b;
      }
      uint32_t bits = lt;
      if (t != nullptr) {
        bits = (lt & ~t->flip[w]) | (gt & t->flip[w]);
        bits = ((bits & ~t->const_mask[w]) | (t->const_bits[w] & t->const_mask[w])) & onebit::channel_mask(channels, w);
      }
      out[w] = bits;
    }
  }
}
