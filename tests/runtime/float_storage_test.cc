// Stored precision of float layers' weights (issue 12): Float16 weights (exact binary16 expansion, builder's
// nearest-even rounding) and Int8 layers (XNNPACK qc8) against the contract of schema Int8Quantization,
// computed here independently in double.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "common/rng.h"
#include "common/run_model.h"
#include "onebit/builder/model_builder.h"
#include "onebit/kernels/isa.h"
#include "onebit/kernels/stem.h"
#include "onebit/kernels/stem_int8.h"
#include "ops/int8_layer.h"

using onebit::Conv2DParams;
using onebit::Int8Params;
using onebit::ModelBuilder;
using onebit::Weights;
using onebit::testing::Rng;
using onebit::testing::run_model;

namespace {

std::vector<uint8_t> finish(ModelBuilder& b) {
  std::vector<uint8_t> bytes;
  const onebit::Status s = b.finish(&bytes);
  REQUIRE_MESSAGE(s.ok(), s.message());
  return bytes;
}

// The contract's quantization of one value: clamp(round_half_even(x / scale) + zp, -128, 127).
int quantize(double x, double scale, int zp) {
  return int(std::fmin(127.0, std::fmax(-128.0, std::nearbyint(x / scale) + zp)));
}

}  // namespace

TEST_CASE("float16: every binary16 value expands exactly and rounds back to itself") {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = onebit::rt::half_to_float(uint16_t(h));
    const bool nan = ((h >> 10) & 0x1f) == 31 && (h & 0x3ff) != 0;
    CAPTURE(h);
    if (nan) {
      CHECK(std::isnan(f));
      continue;
    }
    CHECK(onebit::float_to_half(f) == h);
  }
  CHECK(onebit::rt::half_to_float(0x3c00) == 1.0f);
  CHECK(onebit::rt::half_to_float(0x0001) == std::ldexp(1.0f, -24));
  CHECK(onebit::rt::half_to_float(0x7bff) == 65504.0f);
  CHECK(onebit::rt::half_to_float(0xfc00) == -INFINITY);
}

TEST_CASE("float16: float_to_half rounds to nearest, ties to even") {
  CHECK(onebit::float_to_half(1.0f + std::ldexp(1.0f, -11)) == 0x3c00);      // tie, down to even
  CHECK(onebit::float_to_half(1.0f + 3 * std::ldexp(1.0f, -11)) == 0x3c02);  // tie, up to even
  CHECK(onebit::float_to_half(65519.0f) == 0x7bff);
  CHECK(onebit::float_to_half(65520.0f) == 0x7c00);
  CHECK(onebit::float_to_half(std::ldexp(1.0f, -25)) == 0x0000);  // subnormal tie to even (0)
  CHECK(onebit::float_to_half(3 * std::ldexp(1.0f, -25)) == 0x0002);
  CHECK(onebit::float_to_half(-0.0f) == 0x8000);
  Rng r(7);
  for (float v : r.normal(20000, 3.0f)) {
    // The nearest binary16: no neighbour is strictly closer.
    const uint16_t h = onebit::float_to_half(v);
    const double got = onebit::rt::half_to_float(h), err = std::fabs(got - v);
    CAPTURE(v);
    CHECK(err <= std::fabs(double(onebit::rt::half_to_float(uint16_t(h + 1))) - v));
    if ((h & 0x7fff) != 0) CHECK(err <= std::fabs(double(onebit::rt::half_to_float(uint16_t(h - 1))) - v));
  }
}

TEST_CASE("float16: Conv2D / FullyConnected with Float16 weights equal float32 ones holding the rounded weights") {
  Rng r(3);
  const int c = 5, o = 7;
  Conv2DParams p;
  p.kernel_h = p.kernel_w = 3;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 1;
  const std::vector<float> w = r.normal(size_t(o * c * 9), 0.3f), bias = r.normal(size_t(o)), x = r.normal(6 * 6 * c);
  std::vector<float> rounded;
  for (float v : w) rounded.push_back(onebit::rt::half_to_float(onebit::float_to_half(v)));
  const std::vector<float> fw = r.normal(size_t(10 * o * 36)), fb = r.normal(10);
  std::vector<float> frounded;
  for (float v : fw) frounded.push_back(onebit::rt::half_to_float(onebit::float_to_half(v)));
  auto build = [&](bool half) {
    ModelBuilder b;
    const int in = b.add_input("x", {1, 6, 6, c});
    const int y = b.conv2d("conv", in, o, half ? Weights::float16(w) : Weights::float32(rounded), bias, p);
    const int f = b.reshape("flat", y, {1, 6 * 6 * o});
    b.mark_output(b.fully_connected("fc", f, 10, half ? Weights::float16(fw) : Weights::float32(frounded), fb));
    return finish(b);
  };
  const std::vector<uint8_t> half = build(true), full = build(false);
  CHECK(half.size() < full.size());
  CHECK(run_model(half, x) == run_model(full, x));  // same weights, same XNNPACK operators: bit for bit
}

namespace {

/// The route the interpreter took for the model's first operator (OpProfile::route).
std::string route_of(const std::vector<uint8_t>& bytes) {
  std::unique_ptr<onebit::Model> model;
  onebit::Status s = onebit::Model::load_buffer(bytes.data(), bytes.size(), &model);
  REQUIRE_MESSAGE(s.ok(), s.message());
  std::unique_ptr<onebit::Interpreter> interp;
  s = onebit::Interpreter::create(*model, onebit::InterpreterOptions(), &interp);
  REQUIRE_MESSAGE(s.ok(), s.message());
  return std::string(interp->profile().at(0).route.c_str());
}

/// Whether the static rules run a stem int8 (ops/int8_route.cc): a vector int8 stem ukernel of the fp32 stem's ISA.
bool vector_int8_stem() {
  const onebit::kernels::Isa isa = onebit::kernels::stem_int8_select().isa;
  return isa != onebit::kernels::Isa::kScalar && isa == onebit::kernels::stem_select(onebit::kernels::best_isa()).isa;
}

// An int8 conv (or FC: 1x1 on 1x1) run by the runtime next to the contract computed in double. Inputs lie on
// the input grid (a power-of-two scale), so quantizing them is exact whichever way XNNPACK divides. The
// shapes are dense enough (MACs per converted element >= 64, ops/int8_route.cc) and the conv has C_in = 5
// (not a stem shape, still XNNPACK's im2col path of C < 8) so that the static rules run them in int8
// (XNNPACK); with `stem`, a 7x7/2 C_in = 3 stem that onebit's int8 stem ukernel runs (where the CPU has one).
void check_int8(bool fc, float clamp_min, uint32_t seed, bool stem = false) {
  Rng r(seed);
  const int h = fc ? 1 : stem ? 13 : 7, w = fc ? 1 : stem ? 11 : 6, c = fc ? 150 : stem ? 3 : 5;
  const int o = fc ? 160 : stem ? 20 : 32, k = fc ? 1 : stem ? 7 : 5;
  const int stride = fc ? 1 : 2, pad = fc ? 0 : stem ? 3 : 2;
  Int8Params q;
  q.input_scale = 1.0f / 32, q.input_zero_point = -5;
  q.output_scale = 0.0731f, q.output_zero_point = 3;
  std::vector<int8_t> qw(size_t(o * c * k * k));
  for (size_t i = 0; i < qw.size(); ++i) qw[i] = int8_t(int(r.gen() % 255) - 127);
  const std::vector<float> ws = r.uniform(size_t(o), 0.002f, 0.01f), bias = r.normal(size_t(o), 0.5f);
  std::vector<float> x(size_t(h * w * c));
  for (float& v : x) v = q.input_scale * float(int(r.gen() % 256) - 128 - q.input_zero_point);
  for (size_t i = 0; i < 4; ++i) x[i] = 100.0f * (i % 2 ? 1 : -1);  // saturates to -128 / 127
  ModelBuilder b;
  const int in = b.add_input("x", fc ? std::vector<int>{1, c} : std::vector<int>{1, h, w, c});
  Conv2DParams p;
  p.kernel_h = p.kernel_w = k;
  p.stride_h = p.stride_w = stride;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = pad;
  p.clamp_min = clamp_min;
  const int y = fc ? b.fully_connected("fc", in, o, Weights::int8(qw, ws, q), bias, clamp_min)
                   : b.conv2d("conv", in, o, Weights::int8(qw, ws, q), bias, p);
  b.mark_output(y);
  const std::vector<int> ys = b.shape(y);
  const std::vector<uint8_t> bytes = finish(b);
  const onebit::kernels::StemInt8Ukernel& u = onebit::kernels::stem_int8_select();
  const char* stem_route = u.isa != onebit::kernels::Isa::kAvx2 ? "int8 (onebit stem, avx512 vnni)"
                           : u.vnni                             ? "int8 (onebit stem, avx vnni)"
                                                                : "int8 (onebit stem, avx2)";
  REQUIRE(route_of(bytes) == (stem ? stem_route : "int8"));
  const std::vector<float> got = run_model(bytes, x);
  if (stem) {  // onebit's own split (rows of the padded input, then output rows): 2 threads = 1, bit for bit
    onebit::InterpreterOptions two;
    two.threads = 2;
    CHECK(run_model(bytes, x, two) == got);
  }
  const int oh = fc ? 1 : ys[1], ow = fc ? 1 : ys[2];
  const int qmin = std::isinf(clamp_min) ? -128 : quantize(clamp_min, q.output_scale, q.output_zero_point);
  size_t exact = 0, n = 0;
  for (int yy = 0; yy < oh; ++yy)
    for (int xx = 0; xx < ow; ++xx)
      for (int oc = 0; oc < o; ++oc) {
        int64_t acc = onebit::rt::quantize_bias(bias[size_t(oc)], q.input_scale, ws[size_t(oc)]);
        for (int ky = 0; ky < k; ++ky)
          for (int kx = 0; kx < k; ++kx) {
            const int iy = yy * stride - pad + ky, ix = xx * stride - pad + kx;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;  // padding: q = zero point, contributes 0
            for (int ic = 0; ic < c; ++ic) {
              const int qx = quantize(x[size_t((iy * w + ix) * c + ic)], q.input_scale, q.input_zero_point);
              acc += int64_t(qx - q.input_zero_point) * qw[size_t(((oc * c + ic) * k + ky) * k + kx)];  // OIHW
            }
          }
        const double real = double(acc) * q.input_scale * ws[size_t(oc)] / q.output_scale;
        const int qy = int(std::fmin(127, std::fmax(qmin, std::nearbyint(real) + q.output_zero_point)));
        const double want = double(q.output_scale) * (qy - q.output_zero_point);
        const float g = got[size_t((yy * ow + xx) * o + oc)];
        CAPTURE(yy);
        CAPTURE(xx);
        CAPTURE(oc);
        CHECK(std::fabs(g - want) <= 1.0001 * q.output_scale);  // at most one output quantum (see below)
        exact += std::fabs(g - want) <= 1e-6 * (1 + std::fabs(want));
        ++n;
        if (clamp_min == 0.0f) CHECK(g >= 0.0f);
      }
  // XNNPACK and onebit's int8 stem requantize in float32 (fl(fl(acc) * fl(input_scale * weight_scale / output_scale)), rounded to
  // nearest even), the contract in exact arithmetic: a product within float rounding of a .5 tie may round to
  // the neighbour. Everything else is integer arithmetic and must be exact.
  CHECK(exact >= n * 97 / 100);
}

}  // namespace

TEST_CASE("int8: Conv2D with Int8 weights follows the Int8Quantization contract (XNNPACK qc8)") {
  check_int8(false, -INFINITY, 11);
  check_int8(false, 0.0f, 12);  // fused ReLU: qmin = output_zero_point
}

TEST_CASE("int8: a stem-shaped Conv2D on onebit's int8 stem ukernel follows the contract") {
  if (!vector_int8_stem()) {
    MESSAGE("skipped: the rules run no int8 stem ukernel on this CPU (AVX-512 VNNI, AVX2 without AVX-512)");
    return;
  }
  check_int8(false, -INFINITY, 13, true);
  check_int8(false, 0.0f, 14, true);
}

TEST_CASE("int8: FullyConnected with Int8 weights (a 1x1 qc8 convolution) follows the contract") {
  check_int8(true, -INFINITY, 21);
  check_int8(true, 0.0f, 22);
}

// A layer the static rules run in fp32 (a stem shape on a CPU with a vector fp32 stem ukernel but no vector
// int8 one; a layer of little work per converted element on every vector ISA) computes exactly what the
// same layer with float weights q * scale computes, clipped to the int8 output's range (the int8 route
// saturates there), and the profile says so.
TEST_CASE("int8: layers the static rules send to fp32 run the dequantized weights, reported in the profile") {
  for (bool fc : {false, true}) {
    INFO((fc ? "FC 37 -> 11" : "conv 7x7/2 C 3 -> 16"));
    Rng r(fc ? 31u : 32u);
    const int c = fc ? 37 : 3, o = fc ? 11 : 16, k = fc ? 1 : 7, h = fc ? 1 : 13, w = fc ? 1 : 11;
    Int8Params q;
    q.input_scale = 1.0f / 32, q.output_scale = 0.05f;
    std::vector<int8_t> qw(size_t(o * c * k * k));
    for (int8_t& v : qw) v = int8_t(int(r.gen() % 255) - 127);
    const std::vector<float> ws = r.uniform(size_t(o), 0.002f, 0.01f), bias = r.normal(size_t(o), 0.5f);
    std::vector<float> deq(qw.size());
    for (size_t i = 0; i < qw.size(); ++i) deq[i] = float(qw[i]) * ws[i / (qw.size() / size_t(o))];
    const std::vector<float> x = r.normal(size_t(h * w * c), 1.0f);
    std::vector<uint8_t> models[2];
    for (int as_int8 = 0; as_int8 < 2; ++as_int8) {
      ModelBuilder b;
      const int in = b.add_input("x", fc ? std::vector<int>{1, c} : std::vector<int>{1, h, w, c});
      const Weights wt = as_int8 ? Weights::int8(qw, ws, q) : Weights::float32(deq);
      Conv2DParams p;
      p.kernel_h = p.kernel_w = k;
      p.stride_h = p.stride_w = 2;
      p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 3;
      b.mark_output(fc ? b.fully_connected("fc", in, o, wt, bias, -INFINITY) : b.conv2d("conv", in, o, wt, bias, p));
      models[as_int8] = finish(b);
    }
    const std::string route = route_of(models[1]);
    CAPTURE(route);
    CHECK(route_of(models[0]).empty());  // float layers have no choice to report
    const bool vector_stem = onebit::kernels::stem_select(onebit::kernels::best_isa()).isa != onebit::kernels::Isa::kScalar;
    if (!fc && vector_int8_stem()) {
      CHECK(route.rfind("int8 (onebit stem", 0) == 0);  // its contract: the test case above
    } else if (fc ? onebit::kernels::best_isa() != onebit::kernels::Isa::kScalar : vector_stem) {
      REQUIRE(route.rfind("fp32 (int8 slower", 0) == 0);
      // ... clipped where the int8 output saturates: output_scale * ([-128, 127] - output_zero_point).
      std::vector<float> want = run_model(models[0], x);
      const float lo = q.output_scale * float(-128 - q.output_zero_point), hi = q.output_scale * float(127 - q.output_zero_point);
      CHECK(std::count_if(want.begin(), want.end(), [&](float v) { return v < lo || v > hi; }) > 0);  // it matters here
      for (float& v : want) v = std::min(hi, std::max(lo, v));
      CHECK(run_model(models[1], x) == want);
    } else {
      CHECK(route == "int8");
    }
  }
}

TEST_CASE("int8: quantize_per_channel is symmetric per output channel") {
  std::vector<int8_t> q;
  std::vector<float> s;
  onebit::quantize_per_channel({0.5f, -1.0f, 0.25f, 0, 0, 0}, 2, &q, &s);
  CHECK(s[0] == doctest::Approx(1.0f / 127));
  CHECK(q == std::vector<int8_t>{64, -127, 32, 0, 0, 0});
  CHECK(s[1] > 0);  // a zero row keeps a valid (positive, normal) scale
}
