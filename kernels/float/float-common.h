// What the portable float kernels share (internal header): the output clamp in the order float.h documents,
// and the unrolling of fixed-size tile loops.
#pragma once

// Unrolls the loop that follows completely (its trip count is a compile-time constant up to 16): a tile's
// accumulators then stay in registers at every optimization level, -Os included. GCC and clang both read
// this pragma; it changes no result.
#define ONEBIT_UNROLL _Pragma("GCC unroll 16")

namespace onebit::kernels {

/// clamp(v, lo, hi) of float.h: (v < lo) ? lo : v, then (v > hi) ? hi : v; a NaN v stays NaN.
inline float clamp_value(float v, float lo, float hi) {
  v = v < lo ? lo : v;
  return v > hi ? hi : v;
}

}  // namespace onebit::kernels
