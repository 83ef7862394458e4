// AVX-512 output transforms: 16 channels per vector, masked tails (no over-reads or over-writes).
// Float: fl(fl(m * dot) + b) with separate mul and add (never FMA), clamped with the operand order of the
// scalar std::max / std::min so NaN handling matches too.
#include "util/immintrin.h"

#include "transform/transform.h"

using onebit::kernels::BitsTransform;
using onebit::kernels::FloatTransform;

namespace {
inline __m512i dots16(__mmask16 mask, const int32_t* popcount, const int32_t* correction, __m512i taps) {
  const __m512i pc = _mm512_maskz_loadu_epi32(mask, popcount);
  __m512i dot = _mm512_sub_epi32(taps, _mm512_add_epi32(pc, pc));
  if (correction != nullptr) dot = _mm512_sub_epi32(dot, _mm512_maskz_loadu_epi32(mask, correction));
  return dot;
}
inline __mmask16 tail_mask(size_t left) { return left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1); }
}  // namespace

void onebit_transform_f32_ukernel_x16__avx512vpopcnt(size_t n, const int32_t* popcount, const int32_t* correction,
                                                     const FloatTransform* p, float* out) {
  const __m512i taps = _mm512_set1_epi32(p->taps);
  const __m512 lo = _mm512_set1_ps(p->clamp_min), hi = _mm512_set1_ps(p->clamp_max);
  for (size_t c = 0; c < n; c += 16) {
    const __mmask16 mask = tail_mask(n - c);
    const __m512i dot = dots16(mask, popcount + c, correction != nullptr ? correction + c : nullptr, taps);
    const __m512 product = _mm512_mul_ps(_mm512_maskz_loadu_ps(mask, p->multiplier + c), _mm512_cvtepi32_ps(dot));
    const __m512 y = _mm512_add_ps(product, _mm512_maskz_loadu_ps(mask, p->bias + c));
    _mm512_mask_storeu_ps(out + c, mask, _mm512_min_ps(hi, _mm512_max_ps(lo, y)));
  }
}

void onebit_transform_bits_ukernel_x16__avx512vpopcnt(size_t n, const int32_t* popcount, const int32_t* correction,
                                                      const BitsTransform* p, uint32_t* out) {
  const __m512i taps = _mm512_set1_epi32(p->taps);
  for (size_t c = 0; c < n; c += 32) {
    uint32_t bits = 0;
    for (size_t h = 0; h < 2 && c + 16 * h < n; ++h) {
      const size_t c0 = c + 16 * h;
      const __mmask16 mask = tail_mask(n - c0);
      const __m512i dot = dots16(mask, popcount + c0, correction != nullptr ? correction + c0 : nullptr, taps);
      const __m512i s = _mm512_maskz_loadu_epi32(mask, p->sign_mask + c0);
      const __m512i signed_dot = _mm512_sub_epi32(_mm512_xor_si512(dot, s), s);
      const __mmask16 lt = _mm512_mask_cmplt_epi32_mask(mask, signed_dot, _mm512_maskz_loadu_epi32(mask, p->threshold + c0));
      bits |= uint32_t{lt} << (16 * h);
    }
    out[c / 32] = bits;
  }
}
