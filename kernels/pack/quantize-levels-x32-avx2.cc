// AVX2 QuantizeLevels: 8 channels per vector. t = fl(fl(x * scale) + shift) with separate vmulps / vaddps
// (never FMA). Unipolar / Bipolar: vroundps to nearest-even (the default rounding of std::nearbyint), then
// vmaxps(r, 0), which returns its second operand when r is NaN (NaN -> 0, as the scalar reference), vminps
// against 2^bits - 1 (+-inf and huge values clamp), vcvttps2dq (exact: an integer in [0, 15]); bit i of the
// 8 indices is moved to the sign bit (shift left by 31 - i) and gathered with vmovmskps. Ternary: ordered
// compares (t < 0) and (t > 0) (NaN: both false -> planes (0, 1), level 0). Binary: (t < 0).
// Tails of a word (fewer than 8 channels) use masked loads (vmaskmovps): no over-reads; their bits are
// masked off.
#include "util/immintrin.h"

#include "onebit/kernels/bit_contract.h"
#include "pack/pack-ukernels.h"

using onebit::LevelKind;

ONEBIT_QUANTIZE_LEVELS_UKERNEL(onebit_quantize_levels_ukernel_x32__avx2) {
  const size_t words = onebit::packed_words(channels);
  const int bits = quantizer->bits;
  const LevelKind kind = quantizer->kind;
  const float* scale = quantizer->scale;
  const float* shift = quantizer->shift;
  const __m256 zero = _mm256_setzero_ps();
  const __m256 top = _mm256_set1_ps(static_cast<float>((1u << bits) - 1));
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  for (size_t p = 0; p < pixels; ++p, x += channels, out += words) {
    for (size_t w = 0; w < words; ++w) {
      uint32_t planes[4] = {0, 0, 0, 0};
      for (size_t b = 0; b < 32; b += 8) {
        const size_t c = w * 32 + b;
        if (c >= channels) break;
        const size_t n = channels - c < 8 ? channels - c : 8;
        const __m256i load_mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), lane);
        __m256 t = n == 8 ? _mm256_loadu_ps(x + c) : _mm256_maskload_ps(x + c, load_mask);
        if (scale != nullptr) {
          t = _mm256_mul_ps(t, n == 8 ? _mm256_loadu_ps(scale + c) : _mm256_maskload_ps(scale + c, load_mask));
        }
        if (shift != nullptr) {
          t = _mm256_add_ps(t, n == 8 ? _mm256_loadu_ps(shift + c) : _mm256_maskload_ps(shift + c, load_mask));
        }
        const uint32_t valid = (1u << n) - 1;
        if (kind == LevelKind::kTernary) {
          planes[0] |= (static_cast<uint32_t>(_mm256_movemask_ps(_mm256_cmp_ps(t, zero, _CMP_LT_OQ))) & valid) << b;
          planes[1] |= (~static_cast<uint32_t>(_mm256_movemask_ps(_mm256_cmp_ps(t, zero, _CMP_GT_OQ))) & valid) << b;
        } else if (kind == LevelKind::kBinary) {
          planes[0] |= (static_cast<uint32_t>(_mm256_movemask_ps(_mm256_cmp_ps(t, zero, _CMP_LT_OQ))) & valid) << b;
        } else {
          const __m256 r = _mm256_round_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
          const __m256i q = _mm256_cvttps_epi32(_mm256_min_ps(_mm256_max_ps(r, zero), top));
          for (int i = 0; i < bits; ++i) {
            const __m256i bit = _mm256_slli_epi32(q, 31 - i);  // shift counts are immediates after unrolling
            planes[i] |= (static_cast<uint32_t>(_mm256_movemask_ps(_mm256_castsi256_ps(bit))) & valid) << b;
          }
        }
      }
      for (int i = 0; i < bits; ++i) out[static_cast<size_t>(i) * plane_words + w] = planes[i];
    }
  }
}
