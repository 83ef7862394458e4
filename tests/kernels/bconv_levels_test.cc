// k-bit BConv2D (bit-serial: Unipolar / Bipolar / Ternary / Binary activations x 1-bit Binary or 2-bit
// Bipolar weights) against an independent int64 convolution over level VALUES (level_value() of
// bit_contract.h) with explicit zero padding: never the kernel's own formula.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <pthreadpool.h>

#include "kernels/test_util.h"
#include "onebit/kernels/bconv.h"

using namespace onebit::kernels;
using onebit::LevelKind;
using onebit::level_value;
using onebit::core::level_kind_name;

namespace {

struct Levels {
  LevelKind kind;
  int bits;
  int zero;  // Unipolar only
};

// Every activation kind x bits the kernel takes, Unipolar with zero level 0 and a nonzero one.
const Levels kActLevels[] = {
    {LevelKind::kUnipolar, 1, 0}, {LevelKind::kUnipolar, 1, 1}, {LevelKind::kUnipolar, 2, 0},
    {LevelKind::kUnipolar, 2, 2}, {LevelKind::kUnipolar, 3, 0}, {LevelKind::kUnipolar, 3, 3},
    {LevelKind::kUnipolar, 4, 0}, {LevelKind::kUnipolar, 4, 9}, {LevelKind::kBipolar, 1, 0},
    {LevelKind::kBipolar, 2, 0},  {LevelKind::kBipolar, 3, 0},  {LevelKind::kBipolar, 4, 0},
    {LevelKind::kTernary, 2, 0},  {LevelKind::kBinary, 1, 0},
};

/// Random level indices of a kind: Ternary never uses q = 1 (planes (1, 0)).
uint32_t random_index(LevelKind kind, int bits, std::mt19937& rng) {
  if (kind == LevelKind::kTernary) {
    const uint32_t r = rng() % 3;
    return r == 0 ? 0u : r == 1 ? 2u : 3u;
  }
  return rng() % (1u << bits);
}

/// Planes-major packing of level indices, written here independently of the kernels:
/// [bits][rows][packed words of `channels`], bit c % 32 of word c / 32 of plane i = bit i of q.
std::vector<uint32_t> pack_planes(const std::vector<uint32_t>& q, size_t channels, int bits) {
  const size_t words = (channels + 31) / 32, rows = q.size() / channels;
  std::vector<uint32_t> out(size_t(bits) * rows * words, 0);
  for (int i = 0; i < bits; ++i)
    for (size_t r = 0; r < rows; ++r)
      for (size_t c = 0; c < channels; ++c)
        if ((q[r * channels + c] >> i) & 1u) out[(size_t(i) * rows + r) * words + c / 32] |= uint32_t{1} << (c % 32);
  return out;
}

/// fl(fl(m * d) + b) clamped, each operation rounded on its own (volatile: no FMA contraction).
float expected_output(float m, float b, int64_t d, float lo, float hi) {
  volatile float product = m * static_cast<float>(d);
  volatile float y = product + b;
  return std::fmin(std::fmax(y, lo), hi);
}

class BConvLevelsTester {
 public:
  BConvGeometry g;
  uint32_t seed = 1;
  size_t threads = 1;
  bool general_transform = false;  // false: multiplier 1, bias 0 (the output is D itself)
  bool extreme_levels = false;     // every level index at its maximum (for the 2^24 bound)

  BConvLevelsTester& in(int batch, int h, int w, int c) { g.batch = batch; g.in_h = h; g.in_w = w; g.in_c = c; return *this; }
  BConvLevelsTester& out_channels(int c) { g.out_c = c; return *this; }
  BConvLevelsTester& kernel(int kh, int kw) { g.kernel_h = kh; g.kernel_w = kw; return *this; }
  BConvLevelsTester& stride(int s) { g.stride_h = g.stride_w = s; return *this; }
  BConvLevelsTester& dilation(int d) { g.dilation_h = g.dilation_w = d; return *this; }
  BConvLevelsTester& pad(int t, int l, int b, int r) { g.pad_top = t; g.pad_left = l; g.pad_bottom = b; g.pad_right = r; return *this; }
  BConvLevelsTester& groups(int n) { g.groups = n; return *this; }
  BConvLevelsTester& levels(Levels a, int weight_bits) {
    g.act_kind = a.kind; g.act_bits = a.bits; g.act_zero_level = a.zero; g.weight_bits = weight_bits; return *this;
  }

  void test(Isa isa) const {
    INFO("isa=", std::string(isa_name(isa)), " act=", level_kind_name(g.act_kind), " act_bits=", g.act_bits,
         " zero_level=", g.act_zero_level, " weight_bits=", g.weight_bits, " batch=", g.batch, " in=", g.in_h, "x",
         g.in_w, "x", g.in_c, " out_c=", g.out_c, " kernel=", g.kernel_h, "x", g.kernel_w, " stride=", g.stride_h,
         " dilation=", g.dilation_h, " pad(t,l,b,r)=", g.pad_top, ",", g.pad_left, ",", g.pad_bottom, ",", g.pad_right,
         " groups=", g.groups, " general_transform=", general_transform, " seed=", seed, " threads=", threads);
    std::mt19937 rng(seed);
    const int cin_g = g.in_c / g.groups;
    const LevelKind w_kind = g.weight_bits == 1 ? LevelKind::kBinary : LevelKind::kBipolar;
    std::vector<uint32_t> xq(size_t(g.batch) * g.in_h * g.in_w * g.in_c);
    std::vector<uint32_t> wq(size_t(g.out_c) * g.kernel_h * g.kernel_w * cin_g);
    for (auto& q : xq) q = extreme_levels ? (g.act_kind == LevelKind::kTernary ? 3u : (1u << g.act_bits) - 1) : random_index(g.act_kind, g.act_bits, rng);
    for (auto& q : wq) q = extreme_levels ? (1u << g.weight_bits) - 1 : random_index(w_kind, g.weight_bits, rng);

    // Reference: D over real taps of level values; padded taps are skipped (zero padding).
    const std::vector<int64_t> dots = onebit::testing::direct_conv<int64_t>(
        onebit::test::conv_shape(g), [&](std::ptrdiff_t x_at, int o, int ky, int kx, int c) {
          if (x_at < 0) return int64_t{0};
          const uint32_t w = wq[((size_t(o) * g.kernel_h + ky) * g.kernel_w + kx) * cin_g + c];
          return int64_t{level_value(g.act_kind, g.act_bits, g.act_zero_level, xq[size_t(x_at)])} *
                 level_value(w_kind, g.weight_bits, 0, w);
        });

    std::vector<float> mult(g.out_c, 1.0f), bias(g.out_c, 0.0f);
    OutputTransformParams t;
    if (general_transform) {
      std::uniform_real_distribution<float> u(-1.0f, 1.0f);
      const float scale = float(g.taps()) * 2.0f;
      for (int o = 0; o < g.out_c; ++o) {
        const uint32_t kind = rng() % 10;
        // kind 2: a subnormal multiplier whose half is inexact (odd significand), with bias 0 so that the
        // subnormal product fl(m * D) itself is the output.
        mult[o] = kind == 0 ? 0.0f : kind == 1 ? -0.0f : kind == 2 ? std::ldexp(12345.0f, -149) : u(rng) * 2.0f;
        bias[o] = kind == 2 ? 0.0f : kind == 3 ? -mult[o] * float(int(rng() % 7) - 3) : u(rng) * scale * 0.3f * std::fabs(mult[o]) + u(rng);
      }
      if (rng() % 2) { t.clamp_min = -0.5f * scale; t.clamp_max = 0.25f * scale; }
    }
    t.multiplier = mult.data();
    t.bias = bias.data();

    BConv2D conv;
    onebit::Text error;
    const std::vector<uint32_t> xp = pack_planes(xq, g.in_c, g.act_bits);
    const std::vector<uint32_t> wp = pack_planes(wq, cin_g, g.weight_bits);
    REQUIRE_MESSAGE(conv.prepare(isa, g, wp.data(), t, &error), error.c_str());
    pthreadpool_t pool = threads > 1 ? pthreadpool_create(threads) : nullptr;
    std::vector<char> scratch(conv.scratch_bytes(threads));
    std::vector<float> y(dots.size(), NAN);
    conv.run(xp.data(), y.data(), scratch.data(), pool);
    if (pool != nullptr) pthreadpool_destroy(pool);
    for (size_t i = 0; i < y.size(); ++i) {
      const int o = int(i % g.out_c);
      const float expect = expected_output(mult[o], bias[o], dots[i], t.clamp_min, t.clamp_max);
      if (!(y[i] == expect || (std::isnan(y[i]) && std::isnan(expect)))) {
        INFO("index=", i, " (pixel ", i / g.out_c, ", channel ", o, ") D=", dots[i], " m=", mult[o], " b=", bias[o],
             " got=", y[i], " expected=", expect);
        REQUIRE(y[i] == expect);
      }
    }
  }

  void test_all_isas() const {
    for (Isa isa : onebit::test::runnable_isas()) test(isa);
  }
};

}  // namespace

TEST_CASE("bconv levels: every kind x bits x weight bits, input channel tails, 3x3 zero padding") {
  uint32_t seed = 1000;
  for (const Levels& a : kActLevels)
    for (int wb : {1, 2})
      for (int in_c : {1, 31, 32, 33, 64, 65}) {
        BConvLevelsTester t;
        t.levels(a, wb).in(2, 5, 6, in_c).out_channels(seed % 2 ? 5 : 33).kernel(3, 3).pad(1, 1, 1, 1).stride(1 + seed % 2);
        t.seed = seed++;
        t.test_all_isas();
      }
}

TEST_CASE("bconv levels: geometry sweep (1x1, strides, dilation, groups, no padding, asymmetric, tails)") {
  uint32_t seed = 2000;
  struct Geo {
    int batch, h, w, in_c, out_c, kh, kw, stride, dilation, groups, pt, pl, pb, pr;
  };
  const Geo geos[] = {
      {2, 3, 5, 33, 7, 1, 1, 1, 1, 1, 0, 0, 0, 0},    // 1x1 direct: the GEMM reads every plane in place
      {2, 5, 5, 64, 9, 1, 1, 2, 1, 1, 0, 0, 0, 0},    // 1x1 strided
      {1, 3, 3, 31, 6, 1, 1, 1, 1, 1, 1, 1, 1, 1},    // 1x1 with padding: border pixels are pure padding
      {2, 9, 7, 33, 5, 3, 3, 1, 2, 1, 2, 1, 0, 2},    // dilation 2, asymmetric padding
      {1, 7, 7, 65, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1},    // stride 2 + dilation 2
      {2, 6, 7, 64, 8, 3, 3, 1, 1, 1, 0, 0, 0, 0},    // no padding: every window in place
      {2, 5, 5, 64, 6, 3, 3, 1, 1, 2, 1, 1, 1, 1},    // groups 2, 32 channels per group
      {1, 5, 6, 66, 4, 3, 3, 2, 1, 2, 1, 1, 1, 1},    // groups 2, 33 channels per group (bit extraction)
      {2, 4, 4, 2, 4, 3, 3, 1, 1, 2, 1, 1, 1, 1},     // groups 2, 1 channel per group
      {1, 7, 9, 40, 11, 2, 5, 1, 1, 1, 1, 2, 0, 2},   // non-square kernel
      {1, 3, 6, 17, 70, 3, 3, 1, 1, 1, 1, 1, 1, 1},   // output channel tail (140 GEMM columns with 2-bit weights)
  };
  for (const Geo& s : geos)
    for (const Levels& a : kActLevels)
      for (int wb : {1, 2}) {
        BConvLevelsTester t;
        t.levels(a, wb).in(s.batch, s.h, s.w, s.in_c).out_channels(s.out_c).kernel(s.kh, s.kw).stride(s.stride)
            .dilation(s.dilation).groups(s.groups).pad(s.pt, s.pl, s.pb, s.pr);
        t.seed = seed++;
        t.test_all_isas();
      }
}

TEST_CASE("bconv levels: general multiplier / bias / clamp equal fl(fl(m * D) + b), incl. subnormal m") {
  uint32_t seed = 3000;
  for (const Levels& a : kActLevels)
    for (int wb : {1, 2}) {
      BConvLevelsTester t;
      t.levels(a, wb).in(2, 5, 5, 33).out_channels(37).kernel(3, 3).pad(1, 1, 1, 1);
      t.general_transform = true;
      t.seed = seed++;
      t.test_all_isas();
    }
}

TEST_CASE("bconv levels: threaded runs equal the reference") {
  uint32_t seed = 4000;
  for (const Levels& a : {Levels{LevelKind::kUnipolar, 2, 1}, Levels{LevelKind::kBipolar, 3, 0}, Levels{LevelKind::kTernary, 2, 0}})
    for (int wb : {1, 2}) {
      BConvLevelsTester t;
      t.levels(a, wb).in(2, 9, 7, 64).out_channels(40).kernel(3, 3).pad(1, 1, 1, 1);
      t.seed = seed++;
      t.threads = 2;
      t.test_all_isas();
      t.threads = 3;
      t.stride(2).test_all_isas();
    }
}

TEST_CASE("bconv levels: dots at the 2^24 bound are exact; one tap more is rejected") {
  // 4-bit Unipolar (zero level 0: max|L_x| = 15) x 2-bit Bipolar (max|L_w| = 3): taps <= 2^24 / 45.
  const int in_c = (1 << 24) / 45;
  BConvLevelsTester t;
  t.levels({LevelKind::kUnipolar, 4, 0}, 2).in(1, 1, 1, in_c).out_channels(2);
  t.extreme_levels = true;  // D = 15 * 3 * in_c = 2^24 - 1
  t.test_all_isas();
  t.extreme_levels = false;
  t.seed = 5001;
  t.test_all_isas();
  BConvGeometry g = t.g;
  g.in_c = in_c + 1;
  std::vector<uint32_t> w(size_t(2) * 2 * ((in_c + 32) / 32), 0);
  const onebit::test::IdentityTransform identity(2);
  const OutputTransformParams& tp = identity.params;
  BConv2D conv;
  onebit::Text error;
  CHECK_FALSE(conv.prepare(Isa::kScalar, g, w.data(), tp, &error));
  CHECK(error.find("2^24") != std::string::npos);
}

TEST_CASE("bconv levels: prepare rejects what the k-bit path cannot run, with a message") {
  std::vector<uint32_t> w(1024, 0);
  onebit::test::IdentityTransform identity(8);
  OutputTransformParams& tp = identity.params;
  BConvGeometry base;
  base.in_c = 8; base.out_c = 4; base.kernel_h = base.kernel_w = 3; base.in_h = base.in_w = 4;
  base.pad_top = base.pad_left = base.pad_bottom = base.pad_right = 1;
  base.act_kind = LevelKind::kUnipolar; base.act_bits = 2;
  BConv2D conv;
  onebit::Text error;
  REQUIRE_MESSAGE(conv.prepare(Isa::kScalar, base, w.data(), tp, &error), error.c_str());
  struct Bad { const char* what; BConvGeometry g; bool bitpacked; const char* needle; };
  std::vector<Bad> bad;
  { BConvGeometry g = base; bad.push_back({"bitpacked output", g, true, "bitpacked"}); }
  { BConvGeometry g = base; g.pad_mode = PadMode::kOne; bad.push_back({"pad mode one", g, false, "pad_mode"}); }
  { BConvGeometry g = base; g.act_bits = 5; bad.push_back({"5 bits", g, false, "act_bits"}); }
  { BConvGeometry g = base; g.act_bits = 0; bad.push_back({"0 bits", g, false, "act_bits"}); }
  { BConvGeometry g = base; g.act_kind = LevelKind::kTernary; g.act_bits = 3; bad.push_back({"ternary 3 bits", g, false, "Ternary"}); }
  { BConvGeometry g = base; g.act_kind = LevelKind::kBinary; g.act_bits = 2; bad.push_back({"binary 2 bits", g, false, "Binary"}); }
  { BConvGeometry g = base; g.act_zero_level = 4; bad.push_back({"zero level out of range", g, false, "act_zero_level"}); }
  { BConvGeometry g = base; g.act_zero_level = -1; bad.push_back({"negative zero level", g, false, "act_zero_level"}); }
  { BConvGeometry g = base; g.weight_bits = 3; bad.push_back({"3-bit weights", g, false, "weight_bits"}); }
  { BConvGeometry g = base; g.act_kind = LevelKind::kBinary; g.act_bits = 1; g.weight_bits = 2; g.pad_mode = PadMode::kMinusOne;
    bad.push_back({"binary x 2-bit with minus-one padding", g, false, "pad_mode"}); }
  { BConvGeometry g = base; g.act_kind = static_cast<LevelKind>(7); bad.push_back({"unknown kind", g, false, "act_kind"}); }
  for (const Bad& c : bad) {
    INFO(c.what);
    OutputTransformParams t = tp;
    t.bitpacked = c.bitpacked;
    error.clear();
    CHECK_FALSE(conv.prepare(Isa::kScalar, c.g, w.data(), t, &error));
    CHECK(error.find(c.needle) != std::string::npos);
    CHECK(error.find("BinaryConv2D") != std::string::npos);
  }
  // Binary x binary keeps every pad mode and the bitpacked output.
  BConvGeometry g = base;
  g.act_kind = LevelKind::kBinary; g.act_bits = 1; g.pad_mode = PadMode::kMinusOne;
  tp.bitpacked = true;
  CHECK(conv.prepare(Isa::kScalar, g, w.data(), tp, &error));
}
