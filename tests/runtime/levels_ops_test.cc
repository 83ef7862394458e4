// k-bit (low-bit) networks through the runtime: QuantizeLevels -> BinaryConv2D / BinaryFullyConnected over
// Unipolar, Bipolar and Ternary levels with 1- and 2-bit weights, on every ISA this CPU runs, against a
// float convolution over the level values written here (PyTorch-style zero padding: padded taps are 0);
// QuantizeLevels -> Dequantize against the schema's rounding rule (ties to even, clamping, NaN);
// BinaryConnect / BWN Conv2D and FullyConnected against float layers with weights scale * sign;
// OperatorInfo of a k-bit model; repeated invokes.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "onebit/kernels/bit_contract.h"
#include "onebit/kernels/isa.h"
#include "runtime_test_util.h"

namespace onebit::test {
namespace {

const char* const kIsas[] = {"scalar", "avx2", "avx512vpopcnt", "neon"};

bool isa_runs(const char* name) {
  kernels::Isa isa;
  return kernels::parse_isa(name, &isa) && kernels::isa_supported(isa);
}

/// The schema's QuantizeLevels rule, written independently: t = fl(fl(x * scale) + shift); Unipolar /
/// Bipolar: q = clamp(round half to even(t), 0, 2^bits - 1), NaN -> q 0; Ternary: L = sign(t), NaN -> 0.
/// Returns the integer level L.
int level_of(float x, float scale, float shift, const Levels& l) {
  volatile float prod = x * scale;  // no contraction into an FMA: two roundings as the schema says
  const float t = prod + shift;
  if (l.kind == LevelKind::kTernary) return std::isnan(t) ? 0 : t > 0 ? 1 : t < 0 ? -1 : 0;
  const float top = float((1 << l.bits) - 1);
  float q = 0;
  if (!std::isnan(t)) {
    // Round half to even by hand (not relying on the rounding mode): floor, then compare the fraction.
    float r = std::floor(t);
    const float frac = t - r;
    if (frac > 0.5f || (frac == 0.5f && std::fmod(r, 2.0f) != 0.0f)) r += 1.0f;
    q = std::min(std::max(r, 0.0f), top);
  }
  const int qi = int(q);
  return l.kind == LevelKind::kUnipolar ? qi - l.zero_level : 2 * qi - ((1 << l.bits) - 1);
}

std::vector<float> levels_of(const std::vector<float>& x, int channels, const std::vector<float>& scale,
                             const std::vector<float>& shift, const Levels& l) {
  std::vector<float> r(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const size_t c = i % size_t(channels);
    r[i] = float(level_of(x[i], scale.empty() ? 1.0f : scale[c], shift.empty() ? 0.0f : shift[c], l));
  }
  return r;
}

/// Random weights of `bits` levels: ±1 or {-3, -1, 1, 3}.
std::vector<float> weight_levels(size_t n, int bits, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<float> w(n);
  for (float& v : w) v = bits == 1 ? ((rng() & 1) ? 1.0f : -1.0f) : float(2 * int(rng() % 4) - 3);
  return w;
}

std::string levels_name(const Levels& l) {
  const char* k = l.kind == LevelKind::kUnipolar ? "Unipolar" : l.kind == LevelKind::kBipolar ? "Bipolar" : "Ternary";
  return std::string(k) + " bits " + std::to_string(l.bits) + " zero_level " + std::to_string(l.zero_level);
}

struct ConvCase {
  int n, h, w, c, out_c, k, stride, pad, groups;
};

/// x -> QuantizeLevels -> BinaryConv2D (float output: multiplier * D + bias, clamp) against the reference.
void check_kbit_conv(const ConvCase& cc, const Levels& levels, int weight_bits, uint32_t seed) {
  BinaryConv2DParams p;
  p.kernel_h = p.kernel_w = cc.k;
  p.stride_h = p.stride_w = cc.stride;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = cc.pad;
  p.groups = cc.groups;
  p.weight_bits = weight_bits;
  p.clamp_min = -40.0f;
  p.clamp_max = 60.0f;
  const size_t x_n = size_t(cc.n) * cc.h * cc.w * cc.c;
  const std::vector<float> x = uniform(x_n, seed, -1.5f, 1.5f);
  const std::vector<float> scale = uniform(size_t(cc.c), seed + 1, 0.5f, 3.0f);
  const std::vector<float> shift = uniform(size_t(cc.c), seed + 2, -0.5f, 2.5f);
  const std::vector<float> w =
      weight_levels(size_t(cc.out_c) * (cc.c / cc.groups) * cc.k * cc.k, weight_bits, seed + 3);
  const std::vector<float> mult = uniform(size_t(cc.out_c), seed + 4, -1.0f, 1.0f);
  const std::vector<float> bias = uniform(size_t(cc.out_c), seed + 5, -2.0f, 2.0f);

  Nhwc ys{};
  const std::vector<double> d =
      conv_sums(levels_of(x, cc.c, scale, shift, levels), {cc.n, cc.h, cc.w, cc.c}, w, cc.out_c, p, 0.0f, &ys);
  std::vector<float> want(d.size());
  for (size_t i = 0; i < d.size(); ++i) {
    const size_t o = i % size_t(cc.out_c);
    want[i] = std::min(std::max(float(mult[o] * float(d[i])) + bias[o], p.clamp_min), p.clamp_max);
  }
  for (const char* isa : kIsas) {
    if (!isa_runs(isa)) continue;
    INFO("isa " << isa << ", " << levels_name(levels) << ", weight_bits " << weight_bits << ", x " << cc.n << "x"
                << cc.h << "x" << cc.w << "x" << cc.c << ", out_c " << cc.out_c << ", k " << cc.k << ", stride "
                << cc.stride << ", pad " << cc.pad << ", groups " << cc.groups);
    ModelBuilder b;
    const int in = b.add_input("x", {cc.n, cc.h, cc.w, cc.c});
    const int q = b.quantize_levels("q", in, levels, scale, shift);
    b.mark_output(b.binary_conv2d("conv", q, cc.out_c, w, mult, bias, p));
    InterpreterOptions options;
    options.isa = isa;
    Loaded l = load(b, options);
    check_close(run(*l.interp, {x}), want, 1e-5f);
  }
}

const Levels kLevelCases[] = {
    {LevelKind::kUnipolar, 2, 0, 1.0f}, {LevelKind::kUnipolar, 2, 1, 1.0f}, {LevelKind::kUnipolar, 4, 0, 1.0f},
    {LevelKind::kUnipolar, 4, 7, 0.5f}, {LevelKind::kTernary, 2, 0, 1.0f},  {LevelKind::kBipolar, 2, 0, 1.0f},
    {LevelKind::kBipolar, 1, 0, 1.0f},  {LevelKind::kBipolar, 3, 0, 0.25f}, {LevelKind::kUnipolar, 1, 0, 1.0f},
};

TEST_CASE("QuantizeLevels -> BinaryConv2D over k-bit levels equals a float convolution of the levels") {
  const ConvCase cases[] = {
      {1, 6, 7, 5, 4, 3, 1, 1, 1},    // padding on every border, channels inside one word
      {2, 7, 6, 40, 8, 3, 2, 1, 1},   // stride 2, channels across two words, batch 2
      {1, 5, 5, 64, 6, 3, 1, 1, 2},   // groups 2 (32 channels per group)
      {1, 4, 4, 33, 3, 1, 1, 0, 1},   // 1x1, no padding, one channel past a word
      {1, 5, 6, 8, 6, 3, 1, 2, 2},    // pad 2 (windows mostly padding), groups 2 of 4 channels
  };
  uint32_t seed = 100;
  for (const ConvCase& cc : cases)
    for (const Levels& levels : kLevelCases)
      for (int weight_bits : {1, 2}) check_kbit_conv(cc, levels, weight_bits, seed += 11);
}

TEST_CASE("QuantizeLevels -> BinaryFullyConnected over k-bit levels equals a float matrix product") {
  uint32_t seed = 900;
  for (int k : {5, 32, 70})
    for (const Levels& levels : kLevelCases)
      for (int weight_bits : {1, 2}) {
        const int n = 3, out_c = 7;
        const std::vector<float> x = uniform(size_t(n) * k, ++seed, -2.0f, 2.0f);
        const std::vector<float> scale = uniform(size_t(k), ++seed, 0.5f, 3.0f);
        const std::vector<float> shift = uniform(size_t(k), ++seed, -0.5f, 2.5f);
        const std::vector<float> w = weight_levels(size_t(out_c) * k, weight_bits, ++seed);
        const std::vector<float> mult = uniform(size_t(out_c), ++seed, -1.0f, 1.0f);
        const std::vector<float> bias = uniform(size_t(out_c), ++seed, -1.0f, 1.0f);
        const std::vector<float> lx = levels_of(x, k, scale, shift, levels);
        std::vector<float> want(size_t(n) * out_c);
        for (int r = 0; r < n; ++r)
          for (int o = 0; o < out_c; ++o) {
            double dot = 0;
            for (int i = 0; i < k; ++i) dot += double(lx[size_t(r) * k + i]) * w[size_t(o) * k + i];
            want[size_t(r) * out_c + o] = float(mult[size_t(o)] * float(dot)) + bias[size_t(o)];
          }
        for (const char* isa : kIsas) {
          if (!isa_runs(isa)) continue;
          INFO("isa " << isa << ", " << levels_name(levels) << ", weight_bits " << weight_bits << ", K " << k);
          ModelBuilder b;
          const int in = b.add_input("x", {n, k});
          const int q = b.quantize_levels("q", in, levels, scale, shift);
          b.mark_output(b.binary_fully_connected("fc", q, out_c, w, mult, bias,
                                                 {false, -__builtin_huge_valf(), __builtin_huge_valf(), weight_bits}));
          InterpreterOptions options;
          options.isa = isa;
          Loaded l = load(b, options);
          check_close(run(*l.interp, {x}), want, 1e-5f);
        }
      }
}

TEST_CASE("QuantizeLevels -> Dequantize follows the schema's rounding rule (ties to even, clamping, NaN)") {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  // Ties at every half, values just around them, the clamping ends, signed zeros, infinities and NaN.
  std::vector<float> x = {-1.5f, -0.5f, -0.0f, 0.0f, 0.5f, 1.5f, 2.5f, 3.5f, 4.5f, 14.5f, 15.5f, 16.5f,
                          0.49999997f, 0.50000006f, 1.4999999f, 2.5000002f, -0.50000006f, 1e30f, -1e30f,
                          inf, -inf, nan, 7.0f, 8.0f, 0.75f, 1.25f, -2.0f, 3.0f};
  while (x.size() % 36 != 0) x.push_back(float(x.size() % 9) * 0.5f - 1.0f);  // 36 = 4 pixels of 9 channels
  const int channels = 9;
  const std::vector<float> scale = {1.0f, 1.0f, 0.5f, 2.0f, 1.0f, -1.0f, 1.0f, 3.0f, 1.0f};
  const std::vector<float> shift = {0.0f, 0.5f, 0.0f, -0.25f, 1.0f, 0.0f, -1.0f, 0.0f, 2.5f};
  const Levels cases[] = {
      {LevelKind::kUnipolar, 1, 0, 1.0f}, {LevelKind::kUnipolar, 2, 0, 0.5f}, {LevelKind::kUnipolar, 2, 1, 1.0f},
      {LevelKind::kUnipolar, 3, 3, 2.0f}, {LevelKind::kUnipolar, 4, 0, 0.125f}, {LevelKind::kUnipolar, 4, 15, 1.0f},
      {LevelKind::kBipolar, 1, 0, 1.0f},  {LevelKind::kBipolar, 2, 0, 0.5f},  {LevelKind::kBipolar, 4, 0, 1.0f},
      {LevelKind::kTernary, 2, 0, 3.0f},
  };
  for (const Levels& levels : cases)
    for (bool per_channel : {false, true})
      for (const char* isa : kIsas) {
        if (!isa_runs(isa)) continue;
        INFO("isa " << isa << ", " << levels_name(levels) << (per_channel ? ", per-channel scale/shift" : ""));
        const std::vector<float> s = per_channel ? scale : std::vector<float>{};
        const std::vector<float> t = per_channel ? shift : std::vector<float>{};
        ModelBuilder b;
        const int in = b.add_input("x", {1, 2, 2, channels});
        const int q = b.quantize_levels("q", in, levels, s, t);
        b.mark_output(b.dequantize("deq", q));
        b.mark_output(q);  // a k-bit graph output is unpacked to level_scale * L as well
        InterpreterOptions options;
        options.isa = isa;
        Loaded l = load(b, options);
        const std::vector<float> y = run(*l.interp, {x});
        const std::vector<float> y_out(l.interp->output(1), l.interp->output(1) + x.size());
        const std::vector<float> lv = levels_of(x, channels, s, t, levels);
        for (size_t i = 0; i < x.size(); ++i) {
          INFO("element " << i << ": x = " << x[i] << ", channel " << i % channels);
          CHECK(y[i] == levels.scale * lv[i]);
          CHECK(y_out[i] == levels.scale * lv[i]);
        }
      }
}

TEST_CASE("Conv2D and FullyConnected with 1-bit weights (BWN) equal float layers with weights scale * sign") {
  const int n = 2, h = 6, w = 5, c = 7, out_c = 5;
  Conv2DParams p;
  p.kernel_h = p.kernel_w = 3;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 1;
  p.stride_h = 2;
  const std::vector<float> x = uniform(size_t(n) * h * w * c, 7);
  const std::vector<float> s = signs(size_t(out_c) * c * 9, 8);
  const std::vector<float> scale = uniform(size_t(out_c), 9, 0.1f, 2.0f);
  const std::vector<float> bias = uniform(size_t(out_c), 10);
  std::vector<float> wf(s.size());
  for (size_t i = 0; i < s.size(); ++i) wf[i] = scale[i / (size_t(c) * 9)] * s[i];
  for (bool with_bias : {true, false}) {
    INFO("bias " << with_bias);
    const std::vector<float> b_in = with_bias ? bias : std::vector<float>{};
    ModelBuilder ref;
    int in = ref.add_input("x", {n, h, w, c});
    ref.mark_output(ref.conv2d("conv", in, out_c, Weights::float32(wf), b_in, p));
    ModelBuilder bwn;
    in = bwn.add_input("x", {n, h, w, c});
    bwn.mark_output(bwn.conv2d("conv", in, out_c, Weights::binary(s, scale), b_in, p));
    check_close(run(bwn, {x}), run(ref, {x}), 1e-5f);
  }
  const int k = 37;
  const std::vector<float> xf = uniform(size_t(n) * k, 11);
  const std::vector<float> sf = signs(size_t(out_c) * k, 12);
  std::vector<float> wfc(sf.size());
  for (size_t i = 0; i < sf.size(); ++i) wfc[i] = scale[i / size_t(k)] * sf[i];
  ModelBuilder ref;
  int in = ref.add_input("x", {n, k});
  ref.mark_output(ref.fully_connected("fc", in, out_c, Weights::float32(wfc), bias, -0.5f, 0.75f));
  ModelBuilder bwn;
  in = bwn.add_input("x", {n, k});
  bwn.mark_output(bwn.fully_connected("fc", in, out_c, Weights::binary(sf, scale), bias, -0.5f, 0.75f));
  check_close(run(bwn, {xf}), run(ref, {xf}), 1e-5f);
}

TEST_CASE("OperatorInfo of a k-bit model counts elements as parameters and every bit-plane as bytes") {
  ModelBuilder b;
  const int x = b.add_input("x", {1, 4, 4, 40});
  const int q = b.quantize_levels("q", x, {LevelKind::kUnipolar, 2, 0, 1.0f});
  BinaryConv2DParams p;
  p.kernel_h = p.kernel_w = 3;
  p.weight_bits = 2;
  const int c = b.binary_conv2d("conv", q, 6, weight_levels(6 * 40 * 9, 2, 1), std::vector<float>(6, 1.0f),
                                std::vector<float>(6, 0.0f), p);
  const int g = b.global_avg_pool("gap", c);
  b.mark_output(b.fully_connected("fc", g, 3, Weights::binary(signs(3 * 6, 2), {1.0f, 2.0f, 3.0f}), {}));
  std::vector<uint8_t> bytes;
  REQUIRE(b.finish(&bytes).ok());
  std::unique_ptr<Model> model;
  REQUIRE(Model::load_buffer(bytes.data(), bytes.size(), &model).ok());
  const std::vector<OperatorInfo>& ops = model->operators();
  REQUIRE(ops.size() == 4);
  CHECK(ops[0].type == "QuantizeLevels");
  CHECK(ops[0].float_params == 80);  // scale and shift
  CHECK(ops[0].binary_params == 0);
  CHECK_FALSE(ops[0].binary);
  CHECK(ops[1].type == "BinaryConv2D");
  CHECK(ops[1].binary);
  CHECK(ops[1].binary_params == 6 * 9 * 40);  // elements, not planes
  CHECK(ops[1].float_params == 12);
  // 2 planes of 6 * 3 * 3 rows of 2 words, plus multiplier and bias.
  CHECK(ops[1].param_bytes == uint64_t(2 * 6 * 9 * 2 * 4 + 12 * 4));
  CHECK(ops[3].type == "FullyConnected");
  CHECK_FALSE(ops[3].binary);  // 1-bit weights, float compute
  CHECK(ops[3].binary_params == 18);
  CHECK(ops[3].float_params == 6);  // bias (zeros) and weight_scale
  CHECK(ops[3].param_bytes == uint64_t(3 * 4 + 6 * 4));
  std::unique_ptr<Interpreter> interp;
  REQUIRE(Interpreter::create(*model, {}, &interp).ok());
  CHECK(interp->profile()[1].binary_macs == int64_t(2 * 2 * 6) * 9 * 40);
}

TEST_CASE("a k-bit model invoked twice gives identical outputs (threads 1 and 2)") {
  for (int threads : {1, 2}) {
    INFO("threads " << threads);
    ModelBuilder b;
    const int x = b.add_input("x", {1, 9, 9, 24});
    const int q = b.quantize_levels("q", x, {LevelKind::kUnipolar, 2, 1, 0.5f}, uniform(24, 1, 0.5f, 2.0f),
                                    uniform(24, 2, 0.0f, 2.0f));
    BinaryConv2DParams p;
    p.kernel_h = p.kernel_w = 3;
    p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 1;
    p.weight_bits = 2;
    const int c = b.binary_conv2d("conv", q, 16, weight_levels(16 * 24 * 9, 2, 3), uniform(16, 4), uniform(16, 5), p);
    const int t = b.quantize_levels("t", c, {LevelKind::kTernary, 2, 0, 1.0f});
    BinaryConv2DParams p2 = p;
    p2.weight_bits = 1;
    p2.stride_h = p2.stride_w = 2;
    const int c2 = b.binary_conv2d("conv2", t, 8, signs(8 * 16 * 9, 6), uniform(8, 7), uniform(8, 8), p2);
    b.mark_output(b.dequantize("deq", t));
    b.mark_output(c2);
    InterpreterOptions options;
    options.threads = threads;
    Loaded l = load(b, options);
    const std::vector<float> in = uniform(9 * 9 * 24, 9);
    const std::vector<float> a0 = run(*l.interp, {in}, 0), a1(l.interp->output(1), l.interp->output(1) + 5 * 5 * 8);
    const std::vector<float> b0 = run(*l.interp, {in}, 0), b1(l.interp->output(1), l.interp->output(1) + 5 * 5 * 8);
    CHECK(a0 == b0);
    CHECK(a1 == b1);
  }
}

}  // namespace
}  // namespace onebit::test
