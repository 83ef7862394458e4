// QuantizeLevels (float -> k-bit level planes) for every ukernel of its list (pack-ukernels.h) the CPU runs,
// by name, against a reference written here
// (round half to even by floor and parity in double, not the kernels' std::nearbyint), and the round trip
// quantize -> dequantize.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "kernels/test_util.h"
#include "onebit/kernels/pack.h"

using namespace onebit::kernels;
using onebit::LevelKind;
using onebit::level_value;
using onebit::core::level_kind_name;

namespace {

using onebit::test::reference_index;

// fl(fl(x * s) + b) with each operation rounded on its own (volatile: no FMA contraction).
float transformed(float x, const float* scale, const float* shift, size_t c) {
  volatile float t = x;
  if (scale != nullptr) t = t * scale[c];
  if (shift != nullptr) t = t + shift[c];
  return t;
}

struct QuantizeCase {
  LevelKind kind;
  int bits;
  size_t pixels, channels;
  bool scale, shift;
  uint32_t seed;
};

void check(const QuantizeCase& qc, const QuantizeLevelsUkernel& ukernel) {
  INFO("ukernel=", std::string(ukernel.name), " kind=", level_kind_name(qc.kind), " bits=", qc.bits, " pixels=", qc.pixels,
       " channels=", qc.channels, " scale=", qc.scale, " shift=", qc.shift, " seed=", qc.seed);
  std::mt19937 rng(qc.seed);
  const float top = float((1u << qc.bits) - 1);
  std::uniform_real_distribution<float> u(-2.0f, top + 2.0f);
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> x(qc.pixels * qc.channels);
  for (float& v : x) {
    switch (rng() % 14) {
      case 0: v = float(int(rng() % uint32_t(top + 5)) - 2) + 0.5f; break;  // ties x.5
      case 1: v = std::numeric_limits<float>::quiet_NaN(); break;
      case 2: v = (rng() % 2) ? inf : -inf; break;
      case 3: v = (rng() % 2) ? 3e38f : -3e38f; break;
      case 4: v = (rng() % 2) ? 0.0f : -0.0f; break;
      case 5: v = -0.5f; break;
      case 6: v = top - 0.5f; break;
      case 7: v = (rng() % 2) ? 1e-40f : -1e-40f; break;  // subnormal: sign matters for Ternary / Binary
      case 8: v = float(int(rng() % uint32_t(top + 3)) - 1); break;  // exact integers
      default: v = u(rng);
    }
  }
  std::vector<float> scale(qc.channels), shift(qc.channels);
  for (size_t c = 0; c < qc.channels; ++c) {
    const uint32_t k = rng() % 6;
    scale[c] = k == 0 ? 1.0f : k == 1 ? 0.5f : k == 2 ? -1.0f : k == 3 ? 0.0f : u(rng);
    shift[c] = (rng() % 3 == 0) ? 0.5f : float(int(rng() % 5) - 2) + ((rng() % 2) ? 0.25f : 0.0f);
  }
  LevelQuantizer q;
  q.kind = qc.kind;
  q.bits = qc.bits;
  q.scale = qc.scale ? scale.data() : nullptr;
  q.shift = qc.shift ? shift.data() : nullptr;
  const size_t words = (qc.channels + 31) / 32, plane = qc.pixels * words;
  std::vector<uint32_t> out(qc.bits * plane + 4, 0xA5A5A5A5u);  // + 4 guard words
  quantize_levels(ukernel, qc.pixels, qc.channels, x.data(), out.data(), q);
  for (size_t g = 0; g < 4; ++g) REQUIRE(out[qc.bits * plane + g] == 0xA5A5A5A5u);
  std::vector<uint32_t> ref_q(x.size());
  for (size_t p = 0; p < qc.pixels; ++p)
    for (size_t c = 0; c < words * 32; ++c) {
      uint32_t expect = 0;
      float t = 0;
      if (c < qc.channels) {
        t = transformed(x[p * qc.channels + c], q.scale, q.shift, c);
        expect = reference_index(qc.kind, qc.bits, t);
        ref_q[p * qc.channels + c] = expect;
      }
      uint32_t got = 0;
      for (int i = 0; i < qc.bits; ++i) got |= ((out[i * plane + p * words + c / 32] >> (c % 32)) & 1u) << i;
      if (got != expect) {
        INFO("pixel=", p, " channel=", c, " x=", c < qc.channels ? x[p * qc.channels + c] : 0.0f, " t=", t);
        REQUIRE(got == expect);
      }
    }
  // Round trip: dequantize gives level_scale * level_value of the reference index.
  const int zero_level = qc.kind == LevelKind::kUnipolar ? int(qc.seed % (1u << qc.bits)) : 0;
  const float level_scale = 0.375f;
  std::vector<float> back(x.size());
  dequantize_levels(qc.pixels, qc.channels, out.data(), qc.kind, qc.bits, zero_level, level_scale, back.data());
  for (size_t i = 0; i < x.size(); ++i) {
    const float expect = level_scale * float(level_value(qc.kind, qc.bits, zero_level, ref_q[i]));
    if (back[i] != expect) {
      INFO("element=", i, " index=", ref_q[i]);
      REQUIRE(back[i] == expect);
    }
  }
}

/// check(qc, k) for every quantize-levels ukernel k this CPU runs.
void check_every_ukernel(const QuantizeCase& qc) {
  onebit::test::for_each_runnable_ukernel("quantize-levels", quantize_levels_ukernels,
                                          [&](const QuantizeLevelsUkernel& k) { check(qc, k); });
}

}  // namespace

TEST_CASE("quantize levels: every kind x bits, channel tails, ties / NaN / inf / huge, scale and shift, every ukernel") {
  struct KB { LevelKind kind; int bits; };
  const KB kinds[] = {{LevelKind::kUnipolar, 1}, {LevelKind::kUnipolar, 2}, {LevelKind::kUnipolar, 3},
                      {LevelKind::kUnipolar, 4}, {LevelKind::kBipolar, 1},  {LevelKind::kBipolar, 2},
                      {LevelKind::kBipolar, 3},  {LevelKind::kBipolar, 4},  {LevelKind::kTernary, 2},
                      {LevelKind::kBinary, 1}};
  uint32_t seed = 50;
  for (const KB& k : kinds)
    for (size_t channels : {1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 64, 65, 100})
      for (int variant = 0; variant < 3; ++variant) {
        const QuantizeCase qc{k.kind, k.bits, size_t(1 + variant * 2), channels, variant != 0, variant == 2 || (variant == 0 && channels % 2), seed++};
        check_every_ukernel(qc);
      }
}

TEST_CASE("quantize levels: a large tensor agrees across ukernels") {
  check_every_ukernel({LevelKind::kUnipolar, 3, 97, 160, true, true, 77});
  check_every_ukernel({LevelKind::kTernary, 2, 97, 161, true, true, 78});
}

TEST_CASE("quantize levels: selection picks the best listed ukernel the CPU runs, for every requested ISA") {
  size_t count = 0;
  const QuantizeLevelsUkernel* table = quantize_levels_ukernels(&count);
  onebit::test::check_selection(table, count,
                                [](Isa isa) -> const QuantizeLevelsUkernel& { return quantize_levels_select(isa); });
}
