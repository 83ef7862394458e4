// NEON output transforms: 4 channels per vector; the last n % 4 channels go through the scalar code.
// Float: fl(fl(m * dot) + b) with separate vmulq/vaddq (never vmlaq/vfmaq), then + residual (one more vaddq,
// when present); the clamps are compare+select in the scalar operand order (std::max(y, lo), std::min(., hi)),
// so NaN and -0.0 pass through as in scalar code.
// armv7 NEON always flushes denormals to zero and returns the default NaN, unlike the scalar VFP code: a
// group with a lane where that could matter (denormal or NaN values) is recomputed in scalar code; exact
// zeros (dot == 0, m == ±0, product == -bias, sum == -residual) are not suspect. aarch64 NEON follows FPCR
// like scalar code.
#include <arm_neon.h>

#include <algorithm>
#include <cmath>

#include "transform/transform.h"

using onebit::kernels::BitsTransform;
using onebit::kernels::FloatTransform;

namespace {
// kCorrection: whether there is a correction row (a template argument: a test of `correction + c` against
// null inside a loop is one GCC cannot drop).
template <bool kCorrection>
inline int32x4_t dots4(const int32_t* popcount, const int32_t* correction, int32x4_t taps) {
  const int32x4_t pc = vld1q_s32(popcount);
  int32x4_t dot = vsubq_s32(taps, vaddq_s32(pc, pc));
  if (kCorrection) dot = vsubq_s32(dot, vld1q_s32(correction));
  return dot;
}
inline int32_t dot1(const int32_t* popcount, const int32_t* correction, size_t c, int32_t taps) {
  return taps - 2 * popcount[c] - (correction != nullptr ? correction[c] : 0);
}
inline float f32_one(const int32_t* popcount, const int32_t* correction, const float* residual,
                     const FloatTransform* p, size_t c) {
  const float product = p->multiplier[c] * static_cast<float>(dot1(popcount, correction, c, p->taps));
  float y = product + p->bias[c];
  if (residual != nullptr) y = y + residual[c];
  return std::min(std::max(y, p->clamp_min), p->clamp_max);
}
inline uint32_t horizontal_or(uint32x4_t v) {
  const uint32x2_t h = vorr_u32(vget_low_u32(v), vget_high_u32(v));
  return vget_lane_u32(h, 0) | vget_lane_u32(h, 1);
}

// kCorrection / kResidual: whether correction / residual are there (template twins, so that no loop tests them).
template <bool kCorrection, bool kResidual>
void f32_pixel(size_t n, const int32_t* popcount, const int32_t* correction, const float* residual,
               const FloatTransform* p, float* out) {
  if (!kCorrection) correction = nullptr;
  if (!kResidual) residual = nullptr;
  const int32x4_t taps = vdupq_n_s32(p->taps);
  const float32x4_t lo = vdupq_n_f32(p->clamp_min), hi = vdupq_n_f32(p->clamp_max);
#if !defined(__aarch64__)
  const float32x4_t smallest_normal = vdupq_n_f32(1.17549435e-38f);
  const uint32x4_t abs_mask = vdupq_n_u32(0x7FFFFFFFu), one = vdupq_n_u32(1), max_denormal = vdupq_n_u32(0x007FFFFFu);
#endif
#if !defined(__aarch64__)
  // NEON compares against a denormal clamp would see zero: leave such (odd) parameters to scalar code.
  const size_t vector_end = std::fpclassify(p->clamp_min) == FP_SUBNORMAL || std::fpclassify(p->clamp_max) == FP_SUBNORMAL ? 0 : n;
#else
  const size_t vector_end = n;
#endif
  size_t c = 0;
#if defined(__aarch64__)
  // 16 channels per iteration: four independent chains of ~10 dependent instructions each, which an in-order
  // core (Cortex-A55) would otherwise wait out one group at a time; every operand through its own pointer,
  // bumped once per iteration (immediate offsets: no register-offset loads and stores, and no reload of p's
  // pointers after each store; llvm-mca: bench/RESULTS.md).
  const float *mul = p->multiplier, *bias = p->bias, *res = residual;
  const int32_t *pc = popcount, *corr = correction;
  float* o = out;
  for (; c + 16 <= n; c += 16) {
    float32x4_t y[4];
    for (int g = 0; g < 4; ++g) {
      const int32x4_t dot = dots4<kCorrection>(pc + 4 * g, kCorrection ? corr + 4 * g : nullptr, taps);
      y[g] = vaddq_f32(vmulq_f32(vld1q_f32(mul + 4 * g), vcvtq_f32_s32(dot)), vld1q_f32(bias + 4 * g));
      if (kResidual) y[g] = vaddq_f32(y[g], vld1q_f32(res + 4 * g));
      y[g] = vbslq_f32(vcltq_f32(y[g], lo), lo, y[g]);  // std::max(y, lo)
      y[g] = vbslq_f32(vcltq_f32(hi, y[g]), hi, y[g]);  // std::min(y, hi)
    }
    for (int g = 0; g < 4; ++g) vst1q_f32(o + 4 * g, y[g]);
    mul += 16, bias += 16, pc += 16, o += 16;
    if (kCorrection) corr += 16;
    if (kResidual) res += 16;
  }
#endif
  for (; c + 4 <= vector_end; c += 4) {
    const int32x4_t dot = dots4<kCorrection>(popcount + c, kCorrection ? correction + c : nullptr, taps);
    const float32x4_t product = vmulq_f32(vld1q_f32(p->multiplier + c), vcvtq_f32_s32(dot));
    const float32x4_t bias = vld1q_f32(p->bias + c);
    float32x4_t y = vaddq_f32(product, bias);
#if !defined(__aarch64__)
    // Lanes where flush-to-zero or default NaN could differ from IEEE: a product that is not normal (unless
    // exactly zero because dot == 0 or m == ±0), a sum that is not normal (unless exactly zero because
    // product == -bias), NaN, or a denormal bias (tested on the bits: NEON compares flush it to zero).
    const uint32x4_t abs_m = vandq_u32(vld1q_u32(reinterpret_cast<const uint32_t*>(p->multiplier + c)), abs_mask);
    const uint32x4_t abs_bias = vandq_u32(vreinterpretq_u32_f32(bias), abs_mask);
    const uint32x4_t product_ok = vorrq_u32(vcageq_f32(product, smallest_normal),
                                            vorrq_u32(vceqq_s32(dot, vdupq_n_s32(0)), vceqq_u32(abs_m, vdupq_n_u32(0))));
    const uint32x4_t sum_ok = vorrq_u32(vcageq_f32(y, smallest_normal),
                                        vandq_u32(vceqq_f32(y, vdupq_n_f32(0.0f)), vceqq_f32(product, vnegq_f32(bias))));
    uint32x4_t suspect = vorrq_u32(vmvnq_u32(vandq_u32(product_ok, sum_ok)),
                                   vcltq_u32(vsubq_u32(abs_bias, one), max_denormal));
    if (kResidual) {  // the same test for fl(y + r): a sum not normal unless y == -r, a denormal r
      const float32x4_t r = vld1q_f32(residual + c);
      const float32x4_t y2 = vaddq_f32(y, r);
      const uint32x4_t abs_r = vandq_u32(vreinterpretq_u32_f32(r), abs_mask);
      const uint32x4_t sum2_ok = vorrq_u32(vcageq_f32(y2, smallest_normal),
                                           vandq_u32(vceqq_f32(y2, vdupq_n_f32(0.0f)), vceqq_f32(y, vnegq_f32(r))));
      suspect = vorrq_u32(suspect, vorrq_u32(vmvnq_u32(sum2_ok), vcltq_u32(vsubq_u32(abs_r, one), max_denormal)));
      y = y2;
    }
    if (horizontal_or(suspect) != 0) {
      for (size_t k = c; k < c + 4; ++k) out[k] = f32_one(popcount, correction, residual, p, k);
      continue;
    }
#else
    if (kResidual) y = vaddq_f32(y, vld1q_f32(residual + c));
#endif
    y = vbslq_f32(vcltq_f32(y, lo), lo, y);  // std::max(y, lo)
    y = vbslq_f32(vcltq_f32(hi, y), hi, y);  // std::min(y, hi)
    vst1q_f32(out + c, y);
  }
  for (; c < n; ++c) out[c] = f32_one(popcount, correction, residual, p, c);
}

// One whole word (channels c .. c + 31): 8 groups of 4, no exits, the correction test hoisted (kCorrection),
// so the word is one straight block.
template <bool kCorrection>
inline uint32_t bits_word(const int32_t* popcount, const int32_t* correction, const BitsTransform* p, size_t c,
                          int32x4_t taps, uint32x4_t weights0) {
  uint32x4_t acc = vdupq_n_u32(0), weights = weights0;
  for (size_t b = 0; b < 32; b += 4, weights = vshlq_n_u32(weights, 4)) {
    const size_t c0 = c + b;
    const int32x4_t dot = dots4<kCorrection>(popcount + c0, kCorrection ? correction + c0 : nullptr, taps);
    const int32x4_t s = vld1q_s32(p->sign_mask + c0);
    const int32x4_t signed_dot = vsubq_s32(veorq_s32(dot, s), s);
    acc = vorrq_u32(acc, vandq_u32(vcltq_s32(signed_dot, vld1q_s32(p->threshold + c0)), weights));
  }
  return horizontal_or(acc);
}

template <bool kCorrection>
void bits_pixel(size_t n, const int32_t* popcount, const int32_t* correction, const BitsTransform* p,
                uint32_t* out) {
  const int32x4_t taps = vdupq_n_s32(p->taps);
  static const uint32_t kWeights[4] = {1u, 2u, 4u, 8u};
  const uint32x4_t weights0 = vld1q_u32(kWeights);
  size_t c = 0;
  for (; c + 32 <= n; c += 32) out[c / 32] = bits_word<kCorrection>(popcount, correction, p, c, taps, weights0);
  if (c == n) return;
  // The last, partial word: groups of 4, then single channels.
  uint32x4_t acc = vdupq_n_u32(0), weights = weights0;
  size_t b = 0;
  for (; c + b + 4 <= n; b += 4, weights = vshlq_n_u32(weights, 4)) {
    const size_t c0 = c + b;
    const int32x4_t dot = dots4<kCorrection>(popcount + c0, kCorrection ? correction + c0 : nullptr, taps);
    const int32x4_t s = vld1q_s32(p->sign_mask + c0);
    const int32x4_t signed_dot = vsubq_s32(veorq_s32(dot, s), s);
    acc = vorrq_u32(acc, vandq_u32(vcltq_s32(signed_dot, vld1q_s32(p->threshold + c0)), weights));
  }
  uint32_t bits = horizontal_or(acc);
  for (; c + b < n; ++b) {
    const int32_t dot = dot1(popcount, kCorrection ? correction : nullptr, c + b, p->taps);
    const int32_t s = p->sign_mask[c + b];
    bits |= uint32_t{((dot ^ s) - s) < p->threshold[c + b]} << b;
  }
  out[c / 32] = bits;
}

}  // namespace

ONEBIT_TRANSFORM_F32_UKERNEL(onebit_transform_f32_ukernel_x4__neon) {
  for (size_t i = 0; i < pixels; ++i) {
    const int32_t* corr = correction != nullptr ? correction[i] : nullptr;
    const float* res = params->residual != nullptr ? params->residual + i * n : nullptr;
    auto* f = corr != nullptr ? (res != nullptr ? f32_pixel<true, true> : f32_pixel<true, false>)
                              : (res != nullptr ? f32_pixel<false, true> : f32_pixel<false, false>);
    f(n, popcount + i * n, corr, res, params, out + i * n);
  }
}

ONEBIT_TRANSFORM_BITS_UKERNEL(onebit_transform_bits_ukernel_x4__neon) {
  const size_t words = (n + 31) / 32;
  for (size_t i = 0; i < pixels; ++i) {
    if (correction != nullptr && correction[i] != nullptr)
      bits_pixel<true>(n, popcount + i * n, correction[i], params, out + i * words);
    else
      bits_pixel<false>(n, popcount + i * n, nullptr, params, out + i * words);
  }
}
