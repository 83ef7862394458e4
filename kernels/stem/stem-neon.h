// The NEON vector type of the stem ukernels (stem-impl.h's V), for the aarch64 and armv7 files, which pick
// their own tile (kPixels x kVectors) for their register counts. Multiply-adds are fused (vfmaq_f32: every
// aarch64 core; armv7 with the VFPv4 FPU that ONEBIT_FLAGS_neon asks for). armv7 NEON flushes subnormal
// inputs and results to zero: a difference far below the tests' 1e-5 of the sum of |terms|.
#pragma once

#include <arm_neon.h>

namespace onebit::kernels::stem {

template <int Pixels, int Vectors>
struct Neon {
  using T = float32x4_t;
  static constexpr int kLanes = 4, kVectors = Vectors, kPixels = Pixels;
  static T set1(float s) { return vdupq_n_f32(s); }
  static T zero() { return vdupq_n_f32(0.0f); }
  static T load(const float* p) { return vld1q_f32(p); }
  static T broadcast(const float* p) { return vld1q_dup_f32(p); }
  static T fma(T acc, T a, T b) { return vfmaq_f32(acc, a, b); }
  static T add(T a, T b) { return vaddq_f32(a, b); }
  // FMAX / FMIN (VMAX / VMIN) give NaN when an operand is NaN: a NaN sum stays NaN, as float.h's clamp.
  static T clamp(T x, T lo, T hi) { return vminq_f32(vmaxq_f32(x, lo), hi); }
  // acc < v ? v : acc exactly (FMAX would turn a NaN acc or v into NaN and order the zeros).
  static T max(T acc, T v) { return vbslq_f32(vcltq_f32(acc, v), v, acc); }
  static void store(float* p, T x, int n) {
    if (n >= kLanes) {
      vst1q_f32(p, x);
      return;
    }
    float lanes[4];
    vst1q_f32(lanes, x);
    for (int i = 0; i < n; ++i) p[i] = lanes[i];
  }
};

}  // namespace onebit::kernels::stem
