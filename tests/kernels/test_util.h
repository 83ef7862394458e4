// Shared helpers of the kernel tests: seeded random ±1 data, an independent bit packer, the ISAs to run.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "onebit/kernels/isa.h"

namespace onebit::test {

/// Random ±1 floats.
inline std::vector<float> random_signs(size_t n, std::mt19937& rng) {
  std::vector<float> v(n);
  for (float& x : v) x = (rng() & 1u) ? -1.0f : 1.0f;
  return v;
}

/// Packs rows of `channels` floats by sign, written here independently of kernels/pack: bit 1 iff x < 0.
inline std::vector<uint32_t> pack_rows(const std::vector<float>& x, size_t channels) {
  const size_t words = (channels + 31) / 32, rows = x.size() / channels;
  std::vector<uint32_t> out(rows * words, 0);
  for (size_t r = 0; r < rows; ++r)
    for (size_t c = 0; c < channels; ++c)
      if (x[r * channels + c] < 0) out[r * words + c / 32] |= uint32_t{1} << (c % 32);
  return out;
}

/// Every ISA this binary can run here; the others are reported as skipped (once per test case).
inline std::vector<kernels::Isa> runnable_isas() {
  std::vector<kernels::Isa> isas;
  for (kernels::Isa isa : kernels::kAllIsas) {
    if (kernels::isa_supported(isa)) {
      isas.push_back(isa);
    } else if (kernels::isa_compiled(isa)) {
      MESSAGE("skipped ISA ", std::string(kernels::isa_name(isa)), ": compiled in but this CPU lacks it");
    }
  }
  return isas;
}

}  // namespace onebit::test
