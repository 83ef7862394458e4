// BConv2D against a plain float convolution on ±1 data (written here, independent of the kernels).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <pthreadpool.h>

#include "kernels/test_util.h"
#include "onebit/kernels/bconv.h"

using namespace onebit::kernels;
using onebit::test::pack_rows;
using onebit::test::random_signs;
using onebit::LevelKind;

namespace {

std::string pad_name(PadMode m) {
  return m == PadMode::kZero ? "zero" : m == PadMode::kOne ? "one" : "minus_one";
}

class BConvTester {
 public:
  BConvGeometry g;
  bool bitpacked = false;
  bool fused = false;  // float output + residual + FloatAndBitPacked bits (random thresholds / flips / constants)
  uint32_t seed = 1;
  size_t threads = 1;

  BConvTester& in(int batch, int h, int w, int c) { g.batch = batch; g.in_h = h; g.in_w = w; g.in_c = c; return *this; }
  BConvTester& out_channels(int c) { g.out_c = c; return *this; }
  BConvTester& kernel(int kh, int kw) { g.kernel_h = kh; g.kernel_w = kw; return *this; }
  BConvTester& stride(int s) { g.stride_h = g.stride_w = s; return *this; }
  BConvTester& dilation(int d) { g.dilation_h = g.dilation_w = d; return *this; }
  BConvTester& pad(int t, int l, int b, int r, PadMode m) {
    g.pad_top = t; g.pad_left = l; g.pad_bottom = b; g.pad_right = r; g.pad_mode = m; return *this;
  }
  BConvTester& groups(int n) { g.groups = n; return *this; }
  BConvTester& bits(bool b) { bitpacked = b; return *this; }
  BConvTester& fuse(bool f) { fused = f; return *this; }

  void test(Isa isa) const {
    INFO("isa=", std::string(isa_name(isa)), " batch=", g.batch, " in=", g.in_h, "x", g.in_w, "x", g.in_c, " out_c=", g.out_c,
         " kernel=", g.kernel_h, "x", g.kernel_w, " stride=", g.stride_h, "x", g.stride_w, " dilation=",
         g.dilation_h, "x", g.dilation_w, " pad(t,l,b,r)=", g.pad_top, ",", g.pad_left, ",", g.pad_bottom, ",",
         g.pad_right, " mode=", pad_name(g.pad_mode), " groups=", g.groups, " bitpacked=", bitpacked,
         " fused=", fused, " seed=", seed, " threads=", threads);
    std::mt19937 rng(seed);
    const int cin_g = g.in_c / g.groups;
    const std::vector<float> x = random_signs(size_t(g.batch) * g.in_h * g.in_w * g.in_c, rng);
    const std::vector<float> w = random_signs(size_t(g.out_c) * g.kernel_h * g.kernel_w * cin_g, rng);
    // Multipliers: mostly random of either sign, some exactly 0; biases around the dot range, some placed
    // exactly on an integer dot (ties: fl(m*d) + b == 0 is not negative).
    const int taps = g.kernel_h * g.kernel_w * cin_g;
    std::vector<float> mult(g.out_c), bias(g.out_c);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    for (int o = 0; o < g.out_c; ++o) {
      const uint32_t kind = rng() % 8;
      mult[o] = kind == 0 ? 0.0f : kind == 1 ? -0.0f : u(rng) * 2.0f;
      const int d0 = int(rng() % uint32_t(2 * taps + 1)) - taps;
      bias[o] = (rng() % 3 == 0) ? -mult[o] * float(d0) : u(rng) * float(taps) * 0.7f * std::fabs(mult[o]) + u(rng);
    }
    OutputTransformParams t;
    t.bitpacked = bitpacked;
    t.multiplier = mult.data();
    t.bias = bias.data();
    if (!bitpacked && rng() % 2) { t.clamp_min = -0.5f * taps; t.clamp_max = 0.25f * taps; }
    // Fusions: residual r (some exactly cancelling nothing in particular: random around the dot range) and the
    // Quantize of y: per channel a threshold, a flip bit, a constant (-1 data, 0 / 1 constant bit).
    const size_t out_words = (g.out_c + 31) / 32;
    std::vector<float> qt(g.out_c);
    std::vector<uint32_t> qflip(out_words, 0), qmask(out_words, 0), qbits(out_words, 0);
    for (int o = 0; o < g.out_c; ++o) {
      qt[o] = rng() % 4 == 0 ? 0.0f : u(rng) * float(taps) * 0.3f;
      const uint32_t bit = uint32_t{1} << (o % 32), kind = rng() % 6;
      if (kind == 0) qflip[o / 32] |= bit;
      if (kind == 1 || kind == 2) qmask[o / 32] |= bit;
      if (kind == 2) qbits[o / 32] |= bit;
    }
    for (size_t c = size_t(g.out_c); c < out_words * 32; ++c) qmask[c / 32] |= uint32_t{1} << (c % 32);
    const QuantizeThresholds quantize{qt.data(), qflip.data(), qmask.data(), qbits.data()};
    const bool thresholds = seed % 2 == 0;  // else plain sign
    if (fused) {
      t.float_and_bits = true;
      t.quantize = thresholds ? &quantize : nullptr;
    }

    // Float reference.
    const int oh = g.out_h(), ow = g.out_w();
    const float pad_value = g.pad_mode == PadMode::kZero ? 0.0f : g.pad_mode == PadMode::kOne ? 1.0f : -1.0f;
    const std::vector<float> dots = onebit::testing::direct_conv<float>(
        onebit::test::conv_shape(g), [&](std::ptrdiff_t x_at, int o, int ky, int kx, int c) {
          const float a = x_at >= 0 ? x[size_t(x_at)] : pad_value;
          return a * w[((size_t(o) * g.kernel_h + ky) * g.kernel_w + kx) * cin_g + c];
        });

    BConv2D conv;
    onebit::Text error;
    const std::vector<uint32_t> xp = pack_rows(x, g.in_c);
    const std::vector<uint32_t> wp = pack_rows(w, cin_g);
    REQUIRE_MESSAGE(conv.prepare(isa, g, wp.data(), t, &error), error.c_str());
    pthreadpool_t pool = threads > 1 ? pthreadpool_create(threads) : nullptr;
    std::vector<char> scratch(conv.scratch_bytes(threads));
    const size_t pixels = size_t(g.batch) * oh * ow;
    if (bitpacked) {
      std::vector<uint32_t> y(pixels * out_words, 0xDEADBEEFu);
      conv.run(xp.data(), y.data(), scratch.data(), pool);
      for (size_t p = 0; p < pixels; ++p)
        for (size_t wi = 0; wi < out_words; ++wi) {
          uint32_t expect = 0;
          for (int b = 0; b < 32 && int(wi * 32) + b < g.out_c; ++b) {
            const int o = int(wi * 32) + b;
            const float prod = mult[o] * dots[p * g.out_c + o];
            const float v = prod + bias[o];
            if (v < 0) expect |= uint32_t{1} << b;
          }
          INFO("pixel=", p, " word=", wi);
          REQUIRE(y[p * out_words + wi] == expect);
        }
    } else {
      std::vector<float> y(pixels * g.out_c, NAN), r(fused ? y.size() : 0);
      for (float& v : r) v = u(rng) * float(taps) * 0.5f;
      std::vector<uint32_t> yb(fused ? pixels * out_words : 0, 0xDEADBEEFu);
      BConvRunArgs args;
      args.residual = fused ? r.data() : nullptr;
      args.bits = fused ? yb.data() : nullptr;
      conv.run(xp.data(), y.data(), scratch.data(), pool, args);
      for (size_t i = 0; i < y.size(); ++i) {
        const int o = int(i % g.out_c);
        const float prod = mult[o] * dots[i];
        const float sum = prod + bias[o];
        const float v = std::fmin(std::fmax(fused ? sum + r[i] : sum, t.clamp_min), t.clamp_max);
        INFO("index=", i, " (pixel ", i / g.out_c, ", channel ", o, ") dot=", dots[i]);
        REQUIRE(std::fabs(y[i] - v) <= 1e-6f * std::fmax(1.0f, std::fabs(v)));
      }
      // The bits are Quantize(y) of the floats the kernel wrote (pack.h's rule, written out here).
      for (size_t p = 0; p < yb.size() / std::max<size_t>(out_words, 1); ++p)
        for (size_t wi = 0; wi < out_words; ++wi) {
          uint32_t expect = 0;
          for (int b = 0; b < 32 && int(wi * 32) + b < g.out_c; ++b) {
            const int o = int(wi * 32) + b;
            const float v = y[p * g.out_c + o];
            bool neg = v < 0.0f;
            if (thresholds) {
              neg = (qflip[wi] >> b & 1u) ? v > qt[o] : v < qt[o];
              if (qmask[wi] >> b & 1u) neg = (qbits[wi] >> b & 1u) != 0;
            }
            expect |= uint32_t{neg} << b;
          }
          INFO("bits of pixel=", p, " word=", wi, " thresholds=", thresholds);
          REQUIRE(yb[p * out_words + wi] == expect);
        }
    }
    if (pool != nullptr) pthreadpool_destroy(pool);
  }

  void test_all_isas() const {
    for (Isa isa : onebit::test::runnable_isas()) test(isa);
  }
};

const int kChannelSweep[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 31, 32, 33, 63, 64, 65, 127, 128, 129};
const PadMode kModes[] = {PadMode::kZero, PadMode::kOne, PadMode::kMinusOne};

}  // namespace

TEST_CASE("bconv: 3x3, input channel sweep x padding modes x strides, float and bitpacked") {
  uint32_t seed = 100;
  for (int k : kChannelSweep)
    for (PadMode mode : kModes)
      for (int stride : {1, 2}) {
        BConvTester t;
        t.in(2, 5, 7, k).out_channels(k % 2 ? 9 : 34).kernel(3, 3).stride(stride).pad(1, 1, 1, 1, mode);
        t.seed = seed++;
        t.bits(false).test_all_isas();
        t.bits(true).test_all_isas();
      }
}

TEST_CASE("bconv: dilation 2 and asymmetric padding") {
  uint32_t seed = 200;
  for (int k : {3, 32, 33, 65})
    for (PadMode mode : kModes) {
      BConvTester t;
      t.in(2, 9, 7, k).out_channels(5).kernel(3, 3).dilation(2).pad(2, 1, 0, 2, mode);
      t.seed = seed++;
      t.bits(seed % 2).test_all_isas();
      t.stride(2).bits(!(seed % 2)).test_all_isas();
    }
}

TEST_CASE("bconv: groups, including slices that straddle words") {
  uint32_t seed = 300;
  struct Case { int in_c, out_c, groups; };
  for (Case c : {Case{8, 4, 2}, Case{66, 6, 2}, Case{64, 64, 2}, Case{96, 9, 3}, Case{6, 12, 6}, Case{99, 33, 3},
                 Case{130, 10, 5}})
    for (PadMode mode : kModes) {
      BConvTester t;
      t.in(2, 5, 5, c.in_c).out_channels(c.out_c).groups(c.groups).kernel(3, 3).pad(1, 1, 1, 1, mode);
      t.seed = seed++;
      t.bits(false).test_all_isas();
      t.bits(true).stride(2).test_all_isas();
    }
}

TEST_CASE("bconv: 1x1 (direct and strided) and non-square kernels") {
  uint32_t seed = 400;
  for (int k : {1, 31, 32, 33, 64, 129}) {
    BConvTester t;
    t.in(2, 3, 5, k).out_channels(k + 3).kernel(1, 1);
    t.seed = seed++;
    t.bits(false).test_all_isas();  // direct: GEMM reads the input in place
    t.bits(true).test_all_isas();
    t.stride(2).bits(false).test_all_isas();
    BConvTester pad1;  // 1x1 with padding: every border pixel is pure padding
    pad1.in(2, 3, 3, k).out_channels(7).kernel(1, 1).pad(1, 1, 1, 1, PadMode::kZero);
    pad1.seed = seed++;
    pad1.test_all_isas();
  }
  for (PadMode mode : kModes) {
    BConvTester t;
    t.in(2, 7, 9, 40).out_channels(11).kernel(2, 5).pad(1, 2, 0, 2, mode);
    t.seed = seed++;
    t.bits(false).test_all_isas();
    t.bits(true).stride(2).test_all_isas();
    BConvTester u;
    u.in(2, 9, 5, 17).out_channels(3).kernel(3, 1).pad(1, 0, 1, 0, mode);
    u.seed = seed++;
    u.bits(mode == PadMode::kZero).test_all_isas();
  }
}

TEST_CASE("bconv: output channel tails and wide rows (M/N tails of the GEMM)") {
  uint32_t seed = 500;
  for (int out_c = 1; out_c <= 70; out_c += 3)
    for (int width : {1, 6, 13}) {
      BConvTester t;
      t.in(1, 3, width, 45).out_channels(out_c).kernel(3, 3).pad(1, 1, 1, 1, PadMode::kZero);
      t.seed = seed++;
      t.bits(out_c % 2).test_all_isas();
    }
}

TEST_CASE("bconv: threaded run equals the reference") {
  BConvTester t;
  t.in(2, 11, 9, 64).out_channels(40).kernel(3, 3).pad(1, 1, 1, 1, PadMode::kZero);
  t.seed = 600;
  t.threads = 2;
  t.bits(false).test_all_isas();
  t.bits(true).test_all_isas();
  // No padding: every window is read in place (no im2col at all); 3 threads split the pixels unevenly.
  BConvTester u;
  u.in(2, 9, 10, 128).out_channels(33).kernel(3, 3);
  u.seed = 601;
  u.threads = 3;
  u.bits(false).test_all_isas();
  u.stride(2).bits(true).test_all_isas();
}

TEST_CASE("bconv: binary fully connected (1x1 conv on 1x1) against a float matmul") {
  uint32_t seed = 700;
  for (int k : kChannelSweep)
    for (int out_c : {1, 10, 33}) {
      INFO("in=", k, " out=", out_c, " seed=", seed);
      std::mt19937 rng(seed++);
      const int batch = 3;
      const std::vector<float> x = random_signs(size_t(batch) * k, rng);
      const std::vector<float> w = random_signs(size_t(out_c) * k, rng);
      std::vector<float> mult(out_c), bias(out_c);
      for (int o = 0; o < out_c; ++o) { mult[o] = 0.5f + float(o % 3); bias[o] = float(o % 5) - 2.0f; }
      BConvGeometry g;
      g.batch = batch; g.in_c = k; g.out_c = out_c;
      OutputTransformParams tp;
      tp.multiplier = mult.data();
      tp.bias = bias.data();
      for (Isa isa : onebit::test::runnable_isas()) {
        INFO("isa=", std::string(isa_name(isa)));
        BConv2D fc;
        onebit::Text error;
        const std::vector<uint32_t> xp = pack_rows(x, k), wp = pack_rows(w, k);
        REQUIRE_MESSAGE(fc.prepare(isa, g, wp.data(), tp, &error), error.c_str());
        std::vector<char> scratch(fc.scratch_bytes(1));
        std::vector<float> y(size_t(batch) * out_c);
        fc.run(xp.data(), y.data(), scratch.data(), nullptr);
        for (int b = 0; b < batch; ++b)
          for (int o = 0; o < out_c; ++o) {
            float dot = 0;
            for (int i = 0; i < k; ++i) dot += x[size_t(b) * k + i] * w[size_t(o) * k + i];
            const float prod = mult[o] * dot;
            CHECK(y[size_t(b) * out_c + o] == prod + bias[o]);
          }
      }
    }
}

TEST_CASE("bconv: prepare rejects geometry it cannot run") {
  std::vector<uint32_t> w(64, 0);
  const onebit::test::IdentityTransform identity(8);
  const OutputTransformParams& tp = identity.params;
  BConvGeometry g;
  g.in_c = 6; g.out_c = 4; g.groups = 4;
  BConv2D conv;
  onebit::Text error;
  CHECK_FALSE(conv.prepare(Isa::kScalar, g, w.data(), tp, &error));
  CHECK(error.find("groups") != std::string::npos);
  g.groups = 1; g.kernel_h = 3; g.in_h = 2;
  CHECK_FALSE(conv.prepare(Isa::kScalar, g, w.data(), tp, &error));
  g.kernel_h = 1; g.stride_w = 0;
  CHECK_FALSE(conv.prepare(Isa::kScalar, g, w.data(), tp, &error));
  g.stride_w = 1;
  CHECK(conv.prepare(Isa::kScalar, g, w.data(), tp, &error));
  // An ISA this binary or CPU cannot run falls back instead of crashing.
  for (Isa isa : kAllIsas) {
    INFO("isa=", std::string(isa_name(isa)));
    CHECK(conv.prepare(isa, g, w.data(), tp, &error));
    CHECK(isa_supported(conv.isa()));
  }
}

// The format makes channel-padding bits 0. Desktop builds mask them (a copy); Cortex-M builds read the
// weights in place, so prepare refuses weights with any set (rather than count them) and says where.
TEST_CASE("bconv: weights with channel-padding bits set: masked on the desktop, refused where read in place") {
  BConvGeometry g;
  g.in_h = g.in_w = 4; g.in_c = 33; g.out_c = 3; g.kernel_h = g.kernel_w = 3;
  g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = 1;
  std::mt19937 rng(1000);
  const std::vector<float> x = random_signs(size_t(g.in_h) * g.in_w * g.in_c, rng);
  const std::vector<float> w = random_signs(size_t(g.out_c) * 9 * g.in_c, rng);
  const std::vector<uint32_t> xp = pack_rows(x, g.in_c), clean = pack_rows(w, g.in_c);
  std::vector<uint32_t> dirty = clean;
  dirty[dirty.size() - 5 * 2 + 1] |= 0x80000000u;  // a padding bit of tap 4 of the last output channel
  const onebit::test::IdentityTransform identity(size_t(g.out_c));
  BConv2D conv;
  onebit::Text error;
  const size_t pixels = size_t(g.in_h) * g.in_w;
  REQUIRE_MESSAGE(conv.prepare(Isa::kScalar, g, clean.data(), identity.params, &error), error.c_str());
  std::vector<char> scratch(conv.scratch_bytes(1));
  std::vector<float> want(pixels * g.out_c), got(want.size());
  conv.run(xp.data(), want.data(), scratch.data(), nullptr);
#if ONEBIT_MCU
  CHECK_FALSE(conv.prepare(Isa::kScalar, g, dirty.data(), identity.params, &error));
  CHECK(error.find(("channel-padding bits set in word " + onebit::num(dirty.size() - 9)).c_str()) != std::string::npos);
  (void)got;
#else
  REQUIRE_MESSAGE(conv.prepare(Isa::kScalar, g, dirty.data(), identity.params, &error), error.c_str());
  scratch.resize(conv.scratch_bytes(1));
  conv.run(xp.data(), got.data(), scratch.data(), nullptr);
  CHECK(got == want);
#endif
}

TEST_CASE("bconv: residual and FloatAndBitPacked bits (fused Add and Quantize), threaded and not") {
  uint32_t seed = 800;
  for (int out_c : {1, 7, 32, 33, 70})
    for (size_t threads : {1, 2}) {
      BConvTester t;
      t.in(2, 7, 6, 45).out_channels(out_c).kernel(3, 3).pad(1, 1, 1, 1, PadMode::kZero);
      t.seed = seed++;
      t.threads = threads;
      t.fuse(true).test_all_isas();
      t.seed = seed++;
      t.stride(2).test_all_isas();
    }
}

namespace {

// Channel split (issue 12): geometries whose pixel tiles cannot keep 2-4 threads busy (FC at batch 1 and 3,
// a 7x7 head), so run() also splits output channels. Each is run on a real pthreadpool of 1, 2, 3, 4
// threads; the bytes of every output must be identical across thread counts and equal to a reference over
// level values (binary: ±1; k-bit: 2-bit Unipolar activations with zero level 1 x 2-bit Bipolar weights),
// D = sum over real taps of L_x * L_w (zero padding), y = clamp(fl(fl(fl(m * D) + b) + r)), bits as pack.h.
enum class SplitOut { kFloat, kBits, kFused, kFusedLevels };  // kFusedLevels: issue 20

struct SplitCase {
  int batch, hw, kernel, pad, in_c, out_c;
  SplitOut out;
  bool levels;
};

std::vector<uint32_t> random_words(size_t rows, size_t channels, int planes, std::mt19937& rng,
                                   std::vector<uint32_t>* q) {
  const size_t words = (channels + 31) / 32;
  std::vector<uint32_t> packed(size_t(planes) * rows * words, 0);
  q->resize(rows * channels);
  for (size_t r = 0; r < rows; ++r)
    for (size_t c = 0; c < channels; ++c) {
      const uint32_t v = rng() % (1u << planes);
      (*q)[r * channels + c] = v;
      for (int i = 0; i < planes; ++i)
        if ((v >> i) & 1u) packed[(size_t(i) * rows + r) * words + c / 32] |= uint32_t{1} << (c % 32);
    }
  return packed;
}

/// pools: of 1, 2, 3 and 4 threads.
void test_split(const SplitCase& sc, uint32_t seed, const std::vector<pthreadpool_t>& pools) {
  INFO("batch=", sc.batch, " hw=", sc.hw, " kernel=", sc.kernel, " pad=", sc.pad,
       " in_c=", sc.in_c, " out_c=", sc.out_c, " out=", int(sc.out), " levels=", sc.levels, " seed=", seed);
  std::mt19937 rng(seed);
  BConvGeometry g;
  g.batch = sc.batch; g.in_h = g.in_w = sc.hw; g.in_c = sc.in_c; g.out_c = sc.out_c;
  g.kernel_h = g.kernel_w = sc.kernel;
  g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = sc.pad;
  const int act_bits = sc.levels ? 2 : 1, weight_bits = sc.levels ? 2 : 1;
  if (sc.levels) { g.act_kind = LevelKind::kUnipolar; g.act_bits = 2; g.act_zero_level = 1; g.weight_bits = 2; }
  const LevelKind act_kind = g.act_kind, weight_kind = sc.levels ? LevelKind::kBipolar : LevelKind::kBinary;
  const int oh = g.out_h(), ow = g.out_w(), k = sc.kernel;
  const size_t pixels = size_t(g.batch) * oh * ow, oc = size_t(g.out_c), words = (oc + 31) / 32;
  std::vector<uint32_t> xq, wq;
  const std::vector<uint32_t> x = random_words(size_t(g.batch) * g.in_h * g.in_w, size_t(g.in_c), act_bits, rng, &xq);
  const std::vector<uint32_t> w = random_words(oc * k * k, size_t(g.in_c), weight_bits, rng, &wq);
  const bool fused = sc.out == SplitOut::kFused || sc.out == SplitOut::kFusedLevels;
  std::vector<float> m(oc), b(oc), r(fused ? pixels * oc : 0), qt(oc);
  std::vector<float> ls(oc), lh(oc);  // kFusedLevels: the QuantizeLevels scale / shift (3-bit Unipolar)
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  const float span = float(g.taps()) * (sc.levels ? 3.0f : 1.0f);
  for (size_t o = 0; o < oc; ++o) {
    m[o] = o % 7 == 0 ? 0.0f : u(rng) * 2.0f;
    b[o] = u(rng) * span * 0.5f * std::fabs(m[o]) + (o % 5 == 0 ? 0.0f : u(rng));
    qt[o] = o % 4 == 0 ? 0.0f : u(rng) * span * 0.3f;
    ls[o] = o % 9 == 4 ? 0.0f : u(rng) * 8.0f / span;
    lh[o] = 3.5f + u(rng) * 2.0f;
  }
  for (float& v : r) v = u(rng) * span * 0.3f;
  std::vector<uint32_t> qflip(words, 0), qmask(words, 0), qbits(words, 0);
  for (size_t c = 0; c < words * 32; ++c) {
    const uint32_t bit = uint32_t{1} << (c % 32), kind = c < oc ? rng() % 6 : 1;
    if (kind == 0) qflip[c / 32] |= bit;
    if (kind == 1 || kind == 2) qmask[c / 32] |= bit;
    if (kind == 2 && c < oc) qbits[c / 32] |= bit;
  }
  const QuantizeThresholds quantize{qt.data(), qflip.data(), qmask.data(), qbits.data()};
  OutputTransformParams t;
  t.bitpacked = sc.out == SplitOut::kBits;
  t.multiplier = m.data();
  t.bias = b.data();
  LevelQuantizer lq;
  lq.kind = LevelKind::kUnipolar;
  lq.bits = 3;
  lq.scale = ls.data();
  lq.shift = lh.data();
  if (fused) {
    t.float_and_bits = true;
    t.quantize = seed % 2 ? &quantize : nullptr;
    if (sc.out == SplitOut::kFusedLevels) t.levels = &lq;
    t.clamp_min = -0.4f * span;
    t.clamp_max = 0.3f * span;
  }

  // Reference: D over real taps, then the transform, each operation rounded on its own.
  std::vector<float> want_y(t.bitpacked ? 0 : pixels * oc);
  const size_t planes = sc.out == SplitOut::kFusedLevels ? 3 : 1;
  std::vector<uint32_t> want_bits(sc.out == SplitOut::kFloat ? 0 : planes * pixels * words, 0);
  for (size_t p = 0; p < pixels; ++p) {
    const int n = int(p / (oh * ow)), oy = int(p / ow % oh), ox = int(p % ow);
    for (size_t o = 0; o < oc; ++o) {
      int64_t d = 0;
      for (int ky = 0; ky < k; ++ky)
        for (int kx = 0; kx < k; ++kx) {
          const int iy = oy - sc.pad + ky, ix = ox - sc.pad + kx;
          if (iy < 0 || iy >= g.in_h || ix < 0 || ix >= g.in_w) continue;
          const uint32_t* xr = &xq[((size_t(n) * g.in_h + iy) * g.in_w + ix) * g.in_c];
          const uint32_t* wr = &wq[((o * k + ky) * k + kx) * g.in_c];
          for (int c = 0; c < g.in_c; ++c)
            d += int64_t(onebit::level_value(act_kind, act_bits, g.act_zero_level, xr[c])) *
                 onebit::level_value(weight_kind, weight_bits, 0, wr[c]);
        }
      volatile float product = m[o] * float(d);
      volatile float v = product + b[o];
      const uint32_t bit = uint32_t{1} << (o % 32);
      if (t.bitpacked) {
        if (v < 0) want_bits[p * words + o / 32] |= bit;
        continue;
      }
      if (!r.empty()) v = v + r[p * oc + o];
      const float y = std::min(std::max(float(v), t.clamp_min), t.clamp_max);
      want_y[p * oc + o] = y;
      if (sc.out == SplitOut::kFusedLevels) {
        volatile float lt = y * ls[o];
        lt = lt + lh[o];
        const uint32_t q = onebit::test::reference_index(LevelKind::kUnipolar, 3, lt);
        for (size_t i = 0; i < planes; ++i)
          if ((q >> i) & 1u) want_bits[(i * pixels + p) * words + o / 32] |= bit;
        continue;
      }
      if (sc.out != SplitOut::kFused) continue;
      bool neg = y < 0.0f;
      if (t.quantize != nullptr) {
        neg = (qflip[o / 32] & bit) ? y > qt[o] : y < qt[o];
        if (qmask[o / 32] & bit) neg = (qbits[o / 32] & bit) != 0;
      }
      if (neg) want_bits[p * words + o / 32] |= bit;
    }
  }

  for (Isa isa : onebit::test::runnable_isas()) {
    BConv2D conv;
    onebit::Text error;
    REQUIRE_MESSAGE(conv.prepare(isa, g, w.data(), t, &error), error.c_str());
    for (pthreadpool_t pool : pools) {
      const size_t threads = pthreadpool_get_threads_count(pool);
      INFO("isa=", std::string(isa_name(isa)), " threads=", threads);
      std::vector<char> scratch(conv.scratch_bytes(threads));
      std::vector<float> y(want_y.size(), NAN);
      std::vector<uint32_t> bits(want_bits.size(), 0xDEADBEEFu);
      BConvRunArgs args;
      args.residual = r.empty() ? nullptr : r.data();
      args.bits = fused ? bits.data() : nullptr;
      conv.run(x.data(), t.bitpacked ? static_cast<void*>(bits.data()) : y.data(), scratch.data(), pool, args);
      // Byte equality with the reference, so with every other thread count (first mismatch reported).
      for (size_t i = 0; i < y.size(); ++i)
        if (std::memcmp(&y[i], &want_y[i], sizeof(float)) != 0) {
          INFO("float ", i, " (pixel ", i / oc, ", channel ", i % oc, "): got ", y[i], ", expected ", want_y[i]);
          REQUIRE(false);
        }
      for (size_t i = 0; i < bits.size(); ++i) {
        INFO("bits word ", i, " (plane ", i / (pixels * words), ", pixel ", i / words % pixels, ", word ", i % words,
             ")");
        REQUIRE(bits[i] == want_bits[i]);
      }
    }
  }
}

}  // namespace

TEST_CASE("bconv: channel split (FC at batch 1 and 3, 7x7 head) is byte-identical at 1-4 threads") {
  uint32_t seed = 900;
  // One pool per thread count for every case (creating threads per case was most of this test's time,
  // several times more under ASan and qemu).
  std::vector<pthreadpool_t> pools;
  for (size_t threads : {1, 2, 3, 4}) {
    pools.push_back(pthreadpool_create(threads));
    REQUIRE(pools.back() != nullptr);
  }
  for (int out_c : {1, 31, 33, 100, 512})
    for (SplitOut out : {SplitOut::kFloat, SplitOut::kBits, SplitOut::kFused, SplitOut::kFusedLevels})
      for (bool levels : {false, true}) {
        if (levels && out == SplitOut::kBits) continue;  // k-bit operands have float output only
        if (out == SplitOut::kFusedLevels && out_c != 33 && out_c != 100) continue;  // a few shapes suffice
        const SplitCase cases[] = {{1, 1, 1, 0, 300, out_c, out, levels},
                                   {3, 1, 1, 0, 77, out_c, out, levels},
                                   {1, 7, 3, 1, 40, out_c, out, levels}};
        for (const SplitCase& sc : cases) test_split(sc, seed++, pools);
      }
  for (pthreadpool_t pool : pools) pthreadpool_destroy(pool);
}
