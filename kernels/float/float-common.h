// What the portable float kernels share (internal header): the output clamp in the order float.h documents.
#pragma once

namespace onebit::kernels {

/// clamp(v, lo, hi) of float.h: (v < lo) ? lo : v, then (v > hi) ? hi : v; a NaN v stays NaN.
inline float clamp_value(float v, float lo, float hi) {
  v = v < lo ? lo : v;
  return v > hi ? hi : v;
}

}  // namespace onebit::kernels
