// AVX-512 output transforms: 16 channels per vector, masked tails (no over-reads or over-writes).
// Float: fl(fl(m * dot) + b) with separate mul and add (never FMA), then + residual (a separate, masked add,
// when present), clamped with the operand order of the
// scalar std::max / std::min so NaN handling matches too. With clamps -inf / +inf the clamp is the identity
// for every y (NaN included: max/min return their second operand, y), so it is skipped.
// A block of pixels is walked channel group by channel group, so multiplier, bias (or thresholds) are loaded
// once per group and block, not once per pixel.
#include "util/immintrin.h"

#include <cmath>

#include "onebit/kernels/bit_contract.h"
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
inline const int32_t* corr_at(const int32_t* const* correction, size_t i, size_t c) {
  return correction != nullptr && correction[i] != nullptr ? correction[i] + c : nullptr;
}

template <bool kClamp>
void f32_block(size_t pixels, size_t n, const int32_t* popcount, const int32_t* const* correction,
               const FloatTransform* p, float* out) {
  const __m512i taps = _mm512_set1_epi32(p->taps);
  const __m512 lo = _mm512_set1_ps(p->clamp_min), hi = _mm512_set1_ps(p->clamp_max);
  for (size_t c = 0; c < n; c += 16) {
    const __mmask16 mask = tail_mask(n - c);
    const __m512 m = _mm512_maskz_loadu_ps(mask, p->multiplier + c);
    const __m512 b = _mm512_maskz_loadu_ps(mask, p->bias + c);
    for (size_t i = 0; i < pixels; ++i) {
      const __m512i dot = dots16(mask, popcount + i * n + c, corr_at(correction, i, c), taps);
      __m512 y = _mm512_add_ps(_mm512_mul_ps(m, _mm512_cvtepi32_ps(dot)), b);
      if (p->residual != nullptr) y = _mm512_add_ps(y, _mm512_maskz_loadu_ps(mask, p->residual + i * n + c));
      if (kClamp) y = _mm512_min_ps(hi, _mm512_max_ps(lo, y));
      _mm512_mask_storeu_ps(out + i * n + c, mask, y);
    }
  }
}
}  // namespace

ONEBIT_TRANSFORM_F32_UKERNEL(onebit_transform_f32_ukernel_x16__avx512vpopcnt) {
  if (std::isinf(params->clamp_min) && params->clamp_min < 0 && std::isinf(params->clamp_max) && params->clamp_max > 0) {
    f32_block<false>(pixels, n, popcount, correction, params, out);
  } else {
    f32_block<true>(pixels, n, popcount, correction, params, out);
  }
}

ONEBIT_TRANSFORM_BITS_UKERNEL(onebit_transform_bits_ukernel_x16__avx512vpopcnt) {
  const __m512i taps = _mm512_set1_epi32(params->taps);
  const size_t words = (n + 31) / 32;
  for (size_t c = 0; c < n; c += 32) {
    const __mmask16 mask0 = tail_mask(n - c), mask1 = n - c > 16 ? tail_mask(n - c - 16) : __mmask16(0);
    const __m512i s0 = _mm512_maskz_loadu_epi32(mask0, params->sign_mask + c);
    const __m512i s1 = _mm512_maskz_loadu_epi32(mask1, params->sign_mask + c + 16);
    const __m512i t0 = _mm512_maskz_loadu_epi32(mask0, params->threshold + c);
    const __m512i t1 = _mm512_maskz_loadu_epi32(mask1, params->threshold + c + 16);
    for (size_t i = 0; i < pixels; ++i) {
      const int32_t* pc = popcount + i * n + c;
      const int32_t* corr = corr_at(correction, i, c);
      const __m512i d0 = dots16(mask0, pc, corr, taps);
      const __mmask16 lt0 = _mm512_mask_cmplt_epi32_mask(mask0, _mm512_sub_epi32(_mm512_xor_si512(d0, s0), s0), t0);
      uint32_t bits = lt0;
      if (mask1 != 0) {
        const __m512i d1 = dots16(mask1, pc + 16, corr != nullptr ? corr + 16 : nullptr, taps);
        const __mmask16 lt1 = _mm512_mask_cmplt_epi32_mask(mask1, _mm512_sub_epi32(_mm512_xor_si512(d1, s1), s1), t1);
        bits |= uint32_t{lt1} << 16;
      }
      out[i * words + c / 32] = bits;
    }
  }
}

// Float and bits: 32 channels (one output word) per step, pixels inner. The pack's (x < t), or (x > t) on
// flipped channels, is one compare: x > t <=> -x < -t exactly (negation is exact and reverses the order;
// NaN compares false either way), so flipped lanes compare sign-flipped operands.
namespace {
struct Half {
  __mmask16 mask;
  __m512 m, b, t, flip;  // multiplier, bias, threshold (sign-flipped where flipped), sign bits to flip
};

Half half(const FloatTransform* p, const onebit::kernels::QuantizeThresholds* q, size_t n, size_t c, uint32_t flip) {
  Half h;
  h.mask = c < n ? tail_mask(n - c) : __mmask16(0);
  h.m = _mm512_maskz_loadu_ps(h.mask, p->multiplier + c);
  h.b = _mm512_maskz_loadu_ps(h.mask, p->bias + c);
  h.flip = _mm512_castsi512_ps(
      _mm512_maskz_mov_epi32(static_cast<__mmask16>(flip), _mm512_set1_epi32(static_cast<int>(0x80000000u))));
  h.t = q != nullptr ? _mm512_xor_ps(_mm512_maskz_loadu_ps(h.mask, q->threshold + c), h.flip) : _mm512_setzero_ps();
  return h;
}

template <bool kClamp>
__mmask16 f32_bits16(const Half& h, const int32_t* popcount, const int32_t* correction, const float* residual,
                     __m512i taps, __m512 lo, __m512 hi, float* out) {
  const __m512i dot = dots16(h.mask, popcount, correction, taps);
  __m512 y = _mm512_add_ps(_mm512_mul_ps(h.m, _mm512_cvtepi32_ps(dot)), h.b);
  if (residual != nullptr) y = _mm512_add_ps(y, _mm512_maskz_loadu_ps(h.mask, residual));
  if (kClamp) y = _mm512_min_ps(hi, _mm512_max_ps(lo, y));
  _mm512_mask_storeu_ps(out, h.mask, y);
  return _mm512_mask_cmp_ps_mask(h.mask, _mm512_xor_ps(y, h.flip), h.t, _CMP_LT_OQ);
}

template <bool kClamp>
void f32_bits_block(size_t pixels, size_t n, const int32_t* popcount, const int32_t* const* correction,
                    const FloatTransform* p, float* out, const onebit::kernels::QuantizeThresholds* q,
                    uint32_t* bits) {
  const __m512i taps = _mm512_set1_epi32(p->taps);
  const __m512 lo = _mm512_set1_ps(p->clamp_min), hi = _mm512_set1_ps(p->clamp_max);
  const size_t words = (n + 31) / 32;
  for (size_t w = 0; w < words; ++w) {
    const size_t c = w * 32;
    const uint32_t flip = q != nullptr ? q->flip[w] : 0;
    const Half h0 = half(p, q, n, c, flip), h1 = half(p, q, n, c + 16, flip >> 16);
    // Constant bits (gamma = 0 channels) and padding: bits = (bits & keep) | set.
    const uint32_t cm = q != nullptr ? q->const_mask[w] : 0, cb = q != nullptr ? q->const_bits[w] : 0;
    const uint32_t valid = onebit::channel_mask(n, w);
    const uint32_t keep = ~cm & valid, set = cb & cm & valid;
    for (size_t i = 0; i < pixels; ++i) {
      const int32_t* pc = popcount + i * n + c;
      const int32_t* corr = corr_at(correction, i, c);
      const float* r = p->residual != nullptr ? p->residual + i * n + c : nullptr;
      uint32_t word = f32_bits16<kClamp>(h0, pc, corr, r, taps, lo, hi, out + i * n + c);
      if (h1.mask != 0) {
        word |= uint32_t{f32_bits16<kClamp>(h1, pc + 16, corr != nullptr ? corr + 16 : nullptr,
                                            r != nullptr ? r + 16 : nullptr, taps, lo, hi, out + i * n + c + 16)}
                << 16;
      }
      bits[i * words + w] = (word & keep) | set;
    }
  }
}
}  // namespace

ONEBIT_TRANSFORM_F32_BITS_UKERNEL(onebit_transform_f32_bits_ukernel_x32__avx512vpopcnt) {
  if (std::isinf(params->clamp_min) && params->clamp_min < 0 && std::isinf(params->clamp_max) && params->clamp_max > 0) {
    f32_bits_block<false>(pixels, n, popcount, correction, params, out, quantize, bits);
  } else {
    f32_bits_block<true>(pixels, n, popcount, correction, params, out, quantize, bits);
  }
}
