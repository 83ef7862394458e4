// Test helper: deterministic value vectors for models built by hand, independent of <random>'s engines
// (the same bytes on every platform and standard library).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace onebit::testing {

/// n values ±1 from a 32-bit LCG (Numerical Recipes' constants) seeded with `seed`: -1 when the top bit is 0.
inline std::vector<float> pm1(size_t n, uint32_t seed) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) {
    seed = seed * 1664525u + 1013904223u;
    v[i] = (seed >> 31) ? 1.0f : -1.0f;
  }
  return v;
}

/// n values lo, lo + step, lo + 2 step, ...
inline std::vector<float> ramp(size_t n, float lo, float step) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = lo + step * float(i);
  return v;
}

}  // namespace onebit::testing
