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

// Stand-ins for a missing scale / shift: x * 1 and x + (-0.0) are x exactly (NaN stays NaN), so a word always
// multiplies and adds and has no null tests.
alignas(16) const float kOnes[32] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
                                     1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
alignas(16) const float kMinusZeros[32] = {-0.0f, -0.0f, -0.0f, -0.0f, -0.0f, -0.0f, -0.0f, -0.0f,
                                           -0.0f, -0.0f, -0.0f, -0.0f, -0.0f, -0.0f, -0.0f, -0.0f,
                                           -0.0f, -0.0f, -0.0f, -0.0f, -0.0f, -0.0f, -0.0f, -0.0f,
                                           -0.0f, -0.0f, -0.0f, -0.0f, -0.0f, -0.0f, -0.0f, -0.0f};

// Groups [0, groups) of 4 channels of one word into kBits plane words. kKind: kBinary (kBits 1), kTernary
// (kBits 2) or kUnipolar (Unipolar and Bipolar: the rounding path). For a whole word (groups = 8, a constant)
// the loop unrolls into one straight block.
template <LevelKind kKind, int kBits>
inline void quantize_groups(const float* x, const float* scale, const float* shift, size_t groups,
                            uint32x4_t weights0, float32x4_t top, uint32_t* planes) {
  const float32x4_t zero = vdupq_n_f32(0.0f);
  uint32x4_t acc[kBits];
  for (int i = 0; i < kBits; ++i) acc[i] = vdupq_n_u32(0);
  uint32x4_t weights = weights0;
  for (size_t g = 0; g < groups; ++g, weights = vshlq_n_u32(weights, 4)) {
    const float32x4_t scaled = vmulq_f32(vld1q_f32(x + 4 * g), vld1q_f32(scale + 4 * g));
    const float32x4_t t = vaddq_f32(scaled, vld1q_f32(shift + 4 * g));
    if (kKind == LevelKind::kTernary) {
      acc[0] = vorrq_u32(acc[0], vandq_u32(vcltq_f32(t, zero), weights));
      acc[1] = vorrq_u32(acc[1], vandq_u32(vmvnq_u32(vcgtq_f32(t, zero)), weights));
    } else if (kKind == LevelKind::kBinary) {
      acc[0] = vorrq_u32(acc[0], vandq_u32(vcltq_f32(t, zero), weights));
    } else {
      const float32x4_t r = vminq_f32(vmaxnmq_f32(vrndnq_f32(t), zero), top);
      const uint32x4_t q = vcvtq_u32_f32(r);
      for (int i = 0; i < kBits; ++i)
        acc[i] = vorrq_u32(acc[i], vandq_u32(vtstq_u32(q, vdupq_n_u32(1u << i)), weights));
    }
  }
  for (int i = 0; i < kBits; ++i) planes[i] = horizontal_or(acc[i]);
}

template <LevelKind kKind, int kBits>
void quantize(size_t pixels, size_t channels, const float* x, uint32_t* out, size_t plane_words,
              const onebit::kernels::LevelQuantizer* quantizer) {
  const size_t words = onebit::packed_words(channels), full = channels / 32;
  static const uint32_t kWeights[4] = {1u, 2u, 4u, 8u};
  const uint32x4_t weights0 = vld1q_u32(kWeights);
  const float32x4_t top = vdupq_n_f32(static_cast<float>((1u << kBits) - 1));
  const LevelKind kind = quantizer->kind;  // Unipolar or Bipolar on the rounding path: the scalar tail's rule
  for (size_t p = 0; p < pixels; ++p, x += channels, out += words) {
    for (size_t w = 0; w < words; ++w) {
      const size_t c0 = w * 32;
      const size_t n = w < full ? 32 : channels - c0;
      const float* scale = quantizer->scale != nullptr ? quantizer->scale + c0 : kOnes;
      const float* shift = quantizer->shift != nullptr ? quantizer->shift + c0 : kMinusZeros;
      uint32_t planes[kBits];
      quantize_groups<kKind, kBits>(x + c0, scale, shift, w < full ? 8 : n / 4, weights0, top, planes);
      for (size_t b = n / 4 * 4; b < n; ++b) {
        const size_t c = c0 + b;
        float t = x[c];
        if (quantizer->scale != nullptr) t = t * quantizer->scale[c];
        if (quantizer->shift != nullptr) t = t + quantizer->shift[c];
        const uint32_t q = quantize_level_index(kind, kBits, t);
        for (int i = 0; i < kBits; ++i) planes[i] |= ((q >> i) & 1u) << b;
      }
      for (int i = 0; i < kBits; ++i) out[static_cast<size_t>(i) * plane_words + w] = planes[i];
    }
  }
}
}  // namespace

ONEBIT_QUANTIZE_LEVELS_UKERNEL(onebit_quantize_levels_ukernel_x32__neon) {
  switch (quantizer->kind) {
    case LevelKind::kBinary: return quantize<LevelKind::kBinary, 1>(pixels, channels, x, out, plane_words, quantizer);
    case LevelKind::kTernary: return quantize<LevelKind::kTernary, 2>(pixels, channels, x, out, plane_words, quantizer);
    default: break;
  }
  switch (quantizer->bits) {
    case 1: return quantize<LevelKind::kUnipolar, 1>(pixels, channels, x, out, plane_words, quantizer);
    case 2: return quantize<LevelKind::kUnipolar, 2>(pixels, channels, x, out, plane_words, quantizer);
    case 3: return quantize<LevelKind::kUnipolar, 3>(pixels, channels, x, out, plane_words, quantizer);
    default: return quantize<LevelKind::kUnipolar, 4>(pixels, channels, x, out, plane_words, quantizer);
  }
}
#endif  // __aarch64__
