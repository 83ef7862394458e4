// Test helper: seeded random tensors (normal, uniform, ±1) for the suites that build models by hand.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace onebit::testing {

struct Rng {
  std::mt19937 gen;
  explicit Rng(uint32_t seed) : gen(seed) {}
  std::vector<float> normal(size_t n, float stddev = 1.0f) {
    std::normal_distribution<float> d(0.0f, stddev);
    std::vector<float> v(n);
    for (float& x : v) x = d(gen);
    return v;
  }
  std::vector<float> uniform(size_t n, float lo, float hi) {
    std::uniform_real_distribution<float> d(lo, hi);
    std::vector<float> v(n);
    for (float& x : v) x = d(gen);
    return v;
  }
  std::vector<float> signs(size_t n) {
    std::vector<float> v(n);
    for (float& x : v) x = (gen() & 1) ? -1.0f : 1.0f;
    return v;
  }
};

/// n floats uniform in [lo, hi) from a fresh engine seeded with `seed` (Rng(seed).uniform).
inline std::vector<float> uniform(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  return Rng(seed).uniform(n, lo, hi);
}

}  // namespace onebit::testing
