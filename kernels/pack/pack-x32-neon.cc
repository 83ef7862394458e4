// NEON pack: 4 floats per vector, compared (ordered: -0.0 and NaN give 0) against zero or the thresholds.
// Each compare mask is ANDed with its lanes' bit weights and ORed into one accumulator, so a word takes one
// horizontal reduction. Channels past the last full group of 4 in a word go through scalar compares.
#include <arm_neon.h>

#include "onebit/kernels/bit_contract.h"
#include "pack/pack-ukernels.h"

namespace {
inline uint32_t horizontal_or(uint32x4_t v) {
  const uint32x2_t h = vorr_u32(vget_low_u32(v), vget_high_u32(v));
  return vget_lane_u32(h, 0) | vget_lane_u32(h, 1);
}
}  // namespace

void onebit_pack_ukernel_x32__neon(size_t pixels, size_t channels, const float* x, uint32_t* out,
                                   const onebit::kernels::QuantizeThresholds* t) {
  const size_t words = onebit::packed_words(channels);
  static const uint32_t kWeights[4] = {1u, 2u, 4u, 8u};
  const uint32x4_t weights0 = vld1q_u32(kWeights);
  const float32x4_t zero = vdupq_n_f32(0.0f);
  for (size_t p = 0; p < pixels; ++p, x += channels, out += words) {
    for (size_t w = 0; w < words; ++w) {
      const size_t c0 = w * 32;
      const size_t n = channels - c0 < 32 ? channels - c0 : 32;
      uint32x4_t lt_acc = vdupq_n_u32(0), gt_acc = vdupq_n_u32(0);
      uint32x4_t weights = weights0;
      size_t b = 0;
      for (; b + 4 <= n; b += 4, weights = vshlq_n_u32(weights, 4)) {
        const float32x4_t v = vld1q_f32(x + c0 + b);
        const float32x4_t th = t == nullptr ? zero : vld1q_f32(t->threshold + c0 + b);
        lt_acc = vorrq_u32(lt_acc, vandq_u32(vcltq_f32(v, th), weights));
        if (t != nullptr) gt_acc = vorrq_u32(gt_acc, vandq_u32(vcgtq_f32(v, th), weights));
      }
      uint32_t lt = horizontal_or(lt_acc), gt = horizontal_or(gt_acc);
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
