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


// One word's groups of 4 channels [0, groups) from channel c0: the lanes' "v < th" and (kThresholds) "v > th"
// bits. For a whole word (groups = 8, a constant) the loop unrolls into one straight block.
template <bool kThresholds>
inline void compare_groups(const float* x, const float* th, size_t groups, uint32x4_t weights0, uint32_t* lt,
                           uint32_t* gt) {
  uint32x4_t lt_acc = vdupq_n_u32(0), gt_acc = vdupq_n_u32(0), weights = weights0;
  for (size_t g = 0; g < groups; ++g, weights = vshlq_n_u32(weights, 4)) {
    const float32x4_t v = vld1q_f32(x + 4 * g);
    const float32x4_t t = kThresholds ? vld1q_f32(th + 4 * g) : vdupq_n_f32(0.0f);
    lt_acc = vorrq_u32(lt_acc, vandq_u32(vcltq_f32(v, t), weights));
    if (kThresholds) gt_acc = vorrq_u32(gt_acc, vandq_u32(vcgtq_f32(v, t), weights));
  }
  *lt = horizontal_or(lt_acc);
  *gt = kThresholds ? horizontal_or(gt_acc) : 0;
}

template <bool kThresholds>
void pack(size_t pixels, size_t channels, const float* x, uint32_t* out, const onebit::kernels::QuantizeThresholds* t) {
  const size_t words = onebit::packed_words(channels), full = channels / 32;
  static const uint32_t kWeights[4] = {1u, 2u, 4u, 8u};
  const uint32x4_t weights0 = vld1q_u32(kWeights);
  for (size_t p = 0; p < pixels; ++p, x += channels, out += words) {
    for (size_t w = 0; w < words; ++w) {
      const size_t c0 = w * 32;
      const size_t n = w < full ? 32 : channels - c0;
      const float* th = kThresholds ? t->threshold + c0 : nullptr;
      uint32_t lt, gt;
      if (w < full) {
        compare_groups<kThresholds>(x + c0, th, 8, weights0, &lt, &gt);
      } else {
        compare_groups<kThresholds>(x + c0, th, n / 4, weights0, &lt, &gt);
        for (size_t b = n / 4 * 4; b < n; ++b) {
          const float v = x[c0 + b];
          const float thb = kThresholds ? th[b] : 0.0f;
          lt |= uint32_t{v < thb} << b;
          gt |= uint32_t{v > thb} << b;
        }
      }
      uint32_t bits = lt;
      if (kThresholds) {
        bits = (lt & ~t->flip[w]) | (gt & t->flip[w]);
        bits = ((bits & ~t->const_mask[w]) | (t->const_bits[w] & t->const_mask[w])) & onebit::channel_mask(channels, w);
      }
      out[w] = bits;
    }
  }
}
}  // namespace

void onebit_pack_ukernel_x32__neon(size_t pixels, size_t channels, const float* x, uint32_t* out,
                                   const onebit::kernels::QuantizeThresholds* t) {
  if (t != nullptr)
    pack<true>(pixels, channels, x, out, t);
  else
    pack<false>(pixels, channels, x, out, nullptr);
}
