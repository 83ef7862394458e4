// Shared helpers of the kernel tests: seeded random ±1 data, an independent bit packer, the ISAs to run,
// and the walk over a kernel family's ukernel list (every entry by name, not only the selected one).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "common/conv_reference.h"
#include "onebit/kernels/bconv.h"
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

/// An output transform of n channels with multiplier 1 and bias 0 (the output is D itself).
struct IdentityTransform {
  std::vector<float> multiplier, bias;
  kernels::OutputTransformParams params;
  explicit IdentityTransform(size_t n) : multiplier(n, 1.0f), bias(n, 0.0f) {
    params.multiplier = multiplier.data();
    params.bias = bias.data();
  }
  IdentityTransform(const IdentityTransform&) = delete;
  IdentityTransform& operator=(const IdentityTransform&) = delete;
};

/// The reference loop's view (common/conv_reference.h) of a kernel's convolution geometry (BConvGeometry).
template <typename Geometry>
onebit::testing::ConvShape conv_shape(const Geometry& g) {
  return {g.batch,    g.in_h,     g.in_w,     g.in_c,       g.out_h(),    g.out_w(), g.out_c,    g.kernel_h,
          g.kernel_w, g.stride_h, g.stride_w, g.dilation_h, g.dilation_w, g.pad_top, g.pad_left, g.groups};
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

/// Runs f(entry) on every entry of a family's ukernel table (`list` is bgemm_ukernels, pack_ukernels, ...:
/// each entry has .isa and .name) that this CPU runs; the others are reported as skipped.
template <typename Config, typename F>
void for_each_runnable_ukernel(const char* family, const Config* (*list)(size_t*), F f) {
  size_t count = 0;
  const Config* table = list(&count);
  REQUIRE(count > 0);
  for (size_t i = 0; i < count; ++i) {
    if (!kernels::isa_supported(table[i].isa)) {
      MESSAGE("skipped ", std::string(family), " ukernel ", std::string(table[i].name), ": this CPU lacks ",
              std::string(kernels::isa_name(table[i].isa)));
      continue;
    }
    f(table[i]);
  }
}

/// For every requested ISA, select(isa) is the first entry of the table (best ISA first) that the request
/// allows and the CPU runs; the table ends with the scalar entry, what selection falls back to.
template <typename Config, typename Select>
void check_selection(const Config* table, size_t count, Select select) {
  REQUIRE(count > 0);
  CHECK(table[count - 1].isa == kernels::Isa::kScalar);
  for (kernels::Isa isa : kernels::kAllIsas) {
    const Config& chosen = select(isa);
    INFO("requested=", std::string(kernels::isa_name(isa)), " selected=", std::string(chosen.name));
    CHECK(kernels::isa_allows(isa, chosen.isa));
    CHECK(kernels::isa_supported(chosen.isa));
    bool listed = false;
    for (size_t i = 0; i < count; ++i) listed |= &table[i] == &chosen;
    CHECK(listed);
    // Nothing listed before the choice is both allowed and supported: it is the best one.
    for (size_t i = 0; &table[i] != &chosen && i < count; ++i)
      CHECK_FALSE((kernels::isa_allows(isa, table[i].isa) && kernels::isa_supported(table[i].isa)));
  }
}

/// Round half to even by floor and parity in double (not the kernels' std::nearbyint).
inline double round_half_even(double t) {
  const double f = std::floor(t), frac = t - f;
  if (frac > 0.5) return f + 1;
  if (frac < 0.5) return f;
  return std::fmod(f, 2.0) == 0 ? f : f + 1;
}

/// The plane bits (index q) QuantizeLevels gives for t = fl(fl(x * scale) + shift) (pack.h quantize_levels),
/// computed on its own: Ternary (L<0, L<=0) planes, NaN -> level 0.
inline uint32_t reference_index(LevelKind kind, int bits, float t) {
  if (kind == LevelKind::kTernary) return t < 0 ? 3u : t > 0 ? 0u : 2u;
  if (kind == LevelKind::kBinary) return t < 0 ? 1u : 0u;
  if (std::isnan(t)) return 0;
  const double top = double((1u << bits) - 1);
  const double r = std::min(std::max(round_half_even(double(t)), 0.0), top);
  return static_cast<uint32_t>(r);
}

}  // namespace onebit::test
