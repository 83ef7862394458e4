// AVX2 output transforms: 8 channels per vector; the last n % 8 channels go through the scalar code.
// Float: fl(fl(m * dot) + b) with separate mul and add (never FMA), then + residual (a separate add, when
// present), clamped with the scalar operand order.
#include "util/immintrin.h"

#include <algorithm>

#include "transform/transform.h"

using onebit::kernels::BitsTransform;
using onebit::kernels::FloatTransform;

namespace {
inline __m256i dots8(const int32_t* popcount, const int32_t* correction, __m256i taps) {
  const __m256i pc = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(popcount));
  __m256i dot = _mm256_sub_epi32(taps, _mm256_add_epi32(pc, pc));
  if (correction != nullptr) dot = _mm256_sub_epi32(dot, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(correction)));
  return dot;
}
inline int32_t dot1(const int32_t* popcount, const int32_t* correction, size_t c, int32_t taps) {
  return taps - 2 * popcount[c] - (correction != nullptr ? correction[c] : 0);
}

void f32_pixel(size_t n, const int32_t* popcount, const int32_t* correction, const float* residual,
               const FloatTransform* p, float* out) {
  const __m256i taps = _mm256_set1_epi32(p->taps);
  const __m256 lo = _mm256_set1_ps(p->clamp_min), hi = _mm256_set1_ps(p->clamp_max);
  size_t c = 0;
  for (; c + 8 <= n; c += 8) {
    const __m256i dot = dots8(popcount + c, correction != nullptr ? correction + c : nullptr, taps);
    const __m256 product = _mm256_mul_ps(_mm256_loadu_ps(p->multiplier + c), _mm256_cvtepi32_ps(dot));
    __m256 y = _mm256_add_ps(product, _mm256_loadu_ps(p->bias + c));
    if (residual != nullptr) y = _mm256_add_ps(y, _mm256_loadu_ps(residual + c));
    _mm256_storeu_ps(out + c, _mm256_min_ps(hi, _mm256_max_ps(lo, y)));
  }
  for (; c < n; ++c) {
    const float product = p->multiplier[c] * static_cast<float>(dot1(popcount, correction, c, p->taps));
    float y = product + p->bias[c];
    if (residual != nullptr) y = y + residual[c];
    out[c] = std::min(std::max(y, p->clamp_min), p->clamp_max);
  }
}

void bits_pixel(size_t n, const int32_t* popcount, const int32_t* correction,
               const BitsTransform* p, uint32_t* out) {
  const __m256i taps = _mm256_set1_epi32(p->taps);
  for (size_t c = 0; c < n; c += 32) {
    uint32_t bits = 0;
    size_t b = 0;
    for (; b < 32 && c + b + 8 <= n; b += 8) {
      const size_t c0 = c + b;
      const __m256i dot = dots8(popcount + c0, correction != nullptr ? correction + c0 : nullptr, taps);
      const __m256i s = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p->sign_mask + c0));
      const __m256i signed_dot = _mm256_sub_epi32(_mm256_xor_si256(dot, s), s);
      const __m256i t = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p->threshold + c0));
      const int lt = _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(t, signed_dot)));
      bits |= static_cast<uint32_t>(lt) << b;
    }
    for (; b < 32 && c + b < n; ++b) {
      const int32_t dot = dot1(popcount, correction, c + b, p->taps);
      const int32_t s = p->sign_mask[c + b];
      bits |= uint32_t{((dot ^ s) - s) < p->threshold[c + b]} << b;
    }
    out[c / 32] = bits;
  }
}

}  // namespace

ONEBIT_TRANSFORM_F32_UKERNEL(onebit_transform_f32_ukernel_x8__avx2) {
  for (size_t i = 0; i < pixels; ++i)
    f32_pixel(n, popcount + i * n, correction != nullptr ? correction[i] : nullptr,
              params->residual != nullptr ? params->residual + i * n : nullptr, params, out + i * n);
}

ONEBIT_TRANSFORM_BITS_UKERNEL(onebit_transform_bits_ukernel_x8__avx2) {
  const size_t words = (n + 31) / 32;
  for (size_t i = 0; i < pixels; ++i)
    bits_pixel(n, popcount + i * n, correction != nullptr ? correction[i] : nullptr, params, out + i * words);
}
