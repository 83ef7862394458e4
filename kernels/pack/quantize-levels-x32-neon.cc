// NEON QuantizeLevels, aarch64 only (armv7 NEON flushes subnormals to zero and has no round-to-nearest-even
// instruction; quantize-levels-config.cc keeps the scalar path there, so this file is empty on armv7).
// 4 channels per vector: t = fl(fl(x * scale) + shift) with separate fmul / fadd (never FMA). Unipolar /
// Bipolar: frintn (round to nearest, ties to even; quiets a signalling NaN), fmaxnm(r, 0) (the number when
// r is NaN: NaN -> 0, as the scalar reference), fmin against 2^bits - 1, fcvtzu (exact); plane i of the 4
// indices is a vtst against 1 << i, ANDed with the lanes' bit weights and ORed into one accumulator per plane
// (one horizontal OR per word, as pack-x32-neon.cc). Ternary: ordered compares (t < 0) and !(t > 0) (NaN ->
// planes (0, 1), level 0). Binary: (t < 0). Channels past the last full group of 4 go through the scalar
// rule (quantize_level_index): no over-reads.
#if defined(__aarch64__)
#include <arm_neon.h>

#include "onebit/kernels/bit_contract.h"
#include "pack/pack-ukernels.h"

using onebit::LevelKind;
using onebit::kernels::quantize_level_index;

namespace {
inline uint32_t horizontal_or(uint32x4_t v) {
  const uint32x2_t h = vorr_u32(vget_low_u32(v), vget_high_u32(v));
  return vget_lane_u32(h, 0) | vget_lane_u32(h, 1);
}
}  // namespace

ONEBIT_QUANTIZE_LEVELS_UKERNEL(onebit_quantize_levels_ukernel_x32__neon) {
  const size_t words = onebit::packed_words(channels);
  const int bits = quantizer->bits;
  const LevelKind kind = quantizer->kind;
  const float* scale = quantizer->scale;
  const float* shift = quantizer->shift;
  static const uint32_t kWeights[4] = {1u, 2u, 4u, 8u};
  const uint32x4_t weights0 = vld1q_u32(kWeights);
  const float32x4_t zero = vdupq_n_f32(0.0f);
  const float32x4_t top = vdupq_n_f32(static_cast<float>((1u << bits) - 1));
  for (size_t p = 0; p < pixels; ++p, x += channels, out += words) {
    for (size_t w = 0; w < words; ++w) {
      const size_t c0 = w * 32;
      const size_t n = channels - c0 < 32 ? channels - c0 : 32;
      uint32x4_t acc[4] = {vdupq_n_u32(0), vdupq_n_u32(0), vdupq_n_u32(0), vdupq_n_u32(0)};
      uint32x4_t weights = weights0;
      size_t b = 0;
      for (; b + 4 <= n; b += 4, weights = vshlq_n_u32(weights, 4)) {
        float32x4_t t = vld1q_f32(x + c0 + b);
        if (scale != nullptr) t = vmulq_f32(t, vld1q_f32(scale + c0 + b));
        if (shift != nullptr) t = vaddq_f32(t, vld1q_f32(shift + c0 + b));
        if (kind == LevelKind::kTernary) {
          acc[0] = vorrq_u32(acc[0], vandq_u32(vcltq_f32(t, zero), weights));
          acc[1] = vorrq_u32(acc[1], vandq_u32(vmvnq_u32(vcgtq_f32(t, zero)), weights));
        } else if (kind == LevelKind::kBinary) {
          acc[0] = vorrq_u32(acc[0], vandq_u32(vcltq_f32(t, zero), weights));
        } else {
          const float32x4_t r = vminq_f32(vmaxnmq_f32(vrndnq_f32(t), zero), top);
          const uint32x4_t q = vcvtq_u32_f32(r);
          for (int i = 0; i < bits; ++i) {
            acc[i] = vorrq_u32(acc[i], vandq_u32(vtstq_u32(q, vdupq_n_u32(1u << i)), weights));
          }
        }
      }
      uint32_t planes[4];
      for (int i = 0; i < bits; ++i) planes[i] = horizontal_or(acc[i]);
      for (; b < n; ++b) {
        const size_t c = c0 + b;
        float t = x[c];
        if (scale != nullptr) t = t * scale[c];
        if (shift != nullptr) t = t + shift[c];
        const uint32_t q = quantize_level_index(kind, bits, t);
        for (int i = 0; i < bits; ++i) planes[i] |= ((q >> i) & 1u) << b;
      }
      for (int i = 0; i < bits; ++i) out[static_cast<size_t>(i) * plane_words + w] = planes[i];
    }
  }
}
#endif  // __aarch64__
