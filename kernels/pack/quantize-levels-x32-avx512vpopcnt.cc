// AVX-512 QuantizeLevels: 16 channels per vector, masked loads for tails (no over-reads). t = fl(fl(x *
// scale) + shift) with separate vmulps / vaddps (never FMA). Unipolar / Bipolar: vrndscaleps to
// nearest-even (imm 8: round to nearest, no precision exception), vmaxps(r, 0) (second operand on NaN:
// NaN -> 0, as the scalar reference), vminps against 2^bits - 1, vcvttps2dq (exact), then plane i of the
// 16 indices is one vptestmd against 1 << i. Ternary: ordered compares into masks, (t < 0) and !(t > 0)
// (NaN -> planes (0, 1), level 0). Binary: (t < 0). Same semantics, lane for lane, as the AVX2 file.
#include "util/immintrin.h"

#include "onebit/kernels/bit_contract.h"
#include "pack/pack-ukernels.h"

using onebit::LevelKind;

ONEBIT_QUANTIZE_LEVELS_UKERNEL(onebit_quantize_levels_ukernel_x32__avx512vpopcnt) {
  const size_t words = onebit::packed_words(channels);
  const int bits = quantizer->bits;
  const LevelKind kind = quantizer->kind;
  const float* scale = quantizer->scale;
  const float* shift = quantizer->shift;
  const __m512 zero = _mm512_setzero_ps();
  const __m512 top = _mm512_set1_ps(static_cast<float>((1u << bits) - 1));
  for (size_t p = 0; p < pixels; ++p, x += channels, out += words) {
    for (size_t w = 0; w < words; ++w) {
      uint32_t planes[4] = {0, 0, 0, 0};
      for (size_t h = 0; h < 2; ++h) {
        const size_t c = w * 32 + h * 16;
        if (c >= channels) break;
        const __mmask16 mask = channels - c >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (channels - c)) - 1);
        __m512 t = _mm512_maskz_loadu_ps(mask, x + c);
        if (scale != nullptr) t = _mm512_mul_ps(t, _mm512_maskz_loadu_ps(mask, scale + c));
        if (shift != nullptr) t = _mm512_add_ps(t, _mm512_maskz_loadu_ps(mask, shift + c));
        const unsigned shift_bits = static_cast<unsigned>(16 * h);
        if (kind == LevelKind::kTernary) {
          const __mmask16 lt = _mm512_mask_cmp_ps_mask(mask, t, zero, _CMP_LT_OQ);
          const __mmask16 gt = _mm512_mask_cmp_ps_mask(mask, t, zero, _CMP_GT_OQ);
          planes[0] |= uint32_t{lt} << shift_bits;
          planes[1] |= (uint32_t{static_cast<__mmask16>(~gt)} & uint32_t{mask}) << shift_bits;
        } else if (kind == LevelKind::kBinary) {
          planes[0] |= uint32_t{_mm512_mask_cmp_ps_mask(mask, t, zero, _CMP_LT_OQ)} << shift_bits;
        } else {
          const __m512 r = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
          const __m512i q = _mm512_cvttps_epi32(_mm512_min_ps(_mm512_max_ps(r, zero), top));
          for (int i = 0; i < bits; ++i) {
            const __mmask16 bit = _mm512_mask_test_epi32_mask(mask, q, _mm512_set1_epi32(1 << i));
            planes[i] |= uint32_t{bit} << shift_bits;
          }
        }
      }
      for (int i = 0; i < bits; ++i) out[static_cast<size_t>(i) * plane_words + w] = planes[i];
    }
  }
}
