// The stem ukernels (onebit/kernels/stem.h), every one by name, against the portable conv2d_f32: within 1e-5
// of the sum of |terms| (|x * w| over the real taps, plus |bias|), since they sum in another order and fuse
// the multiply-adds. Small odd shapes: C = 1..4, 3x3 / 5x5 / 7x7 and non-square kernels, strides 1 and 2,
// symmetric, asymmetric and oversized pads (pixels and rows wholly in the padding), inputs narrower than the
// kernel (no interior pixel), out_c that fill no block, one block, and several with a masked remainder; no
// activation, ReLU and a clamp; with and without bias; row splits. And the convolution fused with the max
// pool after it, bit for bit against the ukernel's output max-pooled.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "common/conv_reference.h"
#include "kernels/float_test_util.h"
#include "kernels/test_util.h"
#include "onebit/kernels/stem.h"
#include "onebit/kernels/stem_int8.h"

using namespace onebit::kernels;
using namespace onebit::test;

namespace {

const std::vector<ConvCase>& stem_cases() {
  static const std::vector<ConvCase> cases = {
      // batch, h, w, c, out_c, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, groups
      {2, 9, 11, 1, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},    // Fashion-MNIST-like stem, C = 1
      {1, 8, 10, 2, 13, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},   // C = 2, stride 2
      {1, 15, 14, 3, 70, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3, 1},  // Bi-Real-like 7x7 / 2, out_c 64 + 6
      {1, 10, 9, 4, 24, 5, 5, 1, 2, 1, 1, 2, 1, 3, 2, 1},   // C = 4, 5x5, asymmetric pads and strides
      {1, 13, 17, 3, 16, 7, 5, 2, 1, 1, 1, 0, 4, 1, 0, 1},  // 7x5, pads on one side only
      {1, 5, 4, 2, 5, 7, 7, 1, 1, 1, 1, 3, 3, 3, 3, 1},     // input narrower than the kernel
      {1, 6, 7, 1, 33, 3, 5, 2, 2, 1, 1, 0, 0, 0, 0, 1},    // no pads, out_c 32 + 1
      {1, 6, 6, 4, 17, 3, 3, 1, 1, 1, 1, 3, 4, 2, 1, 1},    // rows and pixels wholly in the padding
  };
  return cases;
}

struct Activation {
  const char* name;
  float lo, hi;
};
const Activation kActivations[] = {{"none", -INFINITY, INFINITY}, {"relu", 0.0f, INFINITY}, {"clamp", -0.25f, 0.5f}};

/// |got - want| <= 1e-5 * magnitude for every element, reporting the first element outside.
void check_close(const std::vector<float>& got, const std::vector<float>& want, const std::vector<double>& magnitude) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    if (!(std::fabs(double(got[i]) - double(want[i])) <= 1e-5 * magnitude[i] + 1e-30)) {
      INFO("element " << i << ": got " << got[i] << ", conv2d_f32 " << want[i] << " (magnitude " << magnitude[i]
                      << ")");
      CHECK(false);
      return;
    }
  }
}

/// stem_conv2d_max_pool_f32 has the bits of max_pool2d_f32 on the ukernel's output y, for max pools 3x3 / 2
/// pad 1 (ResNet's), 2x2 / 2, 3x3 / 1 pad 1 (windows sharing two rows) and 2x2 / 3 (rows no window reads),
/// whole and split; the ring starts as NaN, so a row read before it is computed shows.
void check_max_pool(const StemUkernel& u, const FloatConv2D& g, const std::vector<float>& x,
                    const std::vector<float>& packed, const std::vector<float>& y) {
  struct Pool {
    int k, stride, pad;
  };
  for (const Pool& q : {Pool{3, 2, 1}, Pool{2, 2, 0}, Pool{3, 1, 1}, Pool{2, 3, 0}}) {
    const int out_h = (g.out_h + 2 * q.pad - q.k) / q.stride + 1, out_w = (g.out_w + 2 * q.pad - q.k) / q.stride + 1;
    if (out_h <= 0 || out_w <= 0) continue;
    INFO("max pool " << q.k << "x" << q.k << " / " << q.stride << " pad " << q.pad);
    const FloatPool2D p{g.batch, g.out_h, g.out_w, g.out_c, out_h, out_w, q.k, q.k, q.stride, q.stride, q.pad, q.pad};
    const int rows = g.batch * out_h;
    std::vector<float> want(size_t(rows) * out_w * g.out_c, NAN);
    max_pool2d_f32(p, y.data(), want.data(), 0, rows);
    const auto fused = [&](float* out, int begin, int end) {
      std::vector<float> ring(stem_max_pool_ring_floats(g, p), NAN);
      stem_conv2d_max_pool_f32(u, g, p, x.data(), packed.data(), ring.data(), out, begin, end);
    };
    std::vector<float> got(want.size(), NAN);
    fused(got.data(), 0, rows);
    CHECK(same_bits(got, want));
    check_row_splits(rows, want, fused);
  }
}

void check_stem(const ConvCase& t, const Activation& a, bool with_bias, uint32_t seed) {
  FloatConv2D g = geometry(t, false);
  g.clamp_min = a.lo, g.clamp_max = a.hi;
  REQUIRE(stem_supported(g));
  const int taps = t.kh * t.kw * t.c, rows = g.batch * g.out_h;
  const std::vector<float> x = uniform(size_t(t.batch) * t.h * t.w * t.c, seed);
  const std::vector<float> w = uniform(size_t(t.out_c) * taps, seed + 1);
  const std::vector<float> bias_v = uniform(size_t(t.out_c), seed + 2);
  const float* bias = with_bias ? bias_v.data() : nullptr;
  std::vector<float> want(size_t(rows) * g.out_w * g.out_c, NAN);
  conv2d_f32(g, x.data(), w.data(), bias, want.data(), 0, rows);
  std::vector<double> mag =
      onebit::testing::direct_conv<double>(conv_shape(g), [&](std::ptrdiff_t xi, int o, int ky, int kx, int i) {
        return xi < 0 ? 0.0 : std::fabs(double(x[size_t(xi)]) * w[((size_t(o) * t.kh + ky) * t.kw + kx) * t.c + i]);
      });
  for (size_t i = 0; i < mag.size(); ++i) mag[i] += with_bias ? std::fabs(double(bias[i % size_t(g.out_c)])) : 0.0;

  for_each_runnable_ukernel("stem", stem_ukernels, [&](const StemUkernel& u) {
    INFO("ukernel " << std::string(u.name));
    std::vector<float> packed(stem_packed_floats(u, g) + 1, NAN);
    packed.back() = 12345.0f;  // stem_pack writes exactly stem_packed_floats
    stem_pack(u, g, w.data(), bias, packed.data());
    CHECK(packed.back() == 12345.0f);
    std::vector<float> y(want.size(), NAN);
    stem_conv2d_f32(u, g, x.data(), packed.data(), y.data(), 0, rows);
    check_close(y, want, mag);
    check_row_splits(rows, y, [&](float* out, int begin, int end) {
      stem_conv2d_f32(u, g, x.data(), packed.data(), out, begin, end);
    });
    check_max_pool(u, g, x, packed, y);
  });
}

}  // namespace

TEST_CASE("stem: every ukernel against conv2d_f32, C=1..4, 3x3..7x7, strides, pads, activations, row splits") {
  uint32_t seed = 5000;
  for (const ConvCase& t : stem_cases())
    for (const Activation& a : kActivations)
      for (bool with_bias : {true, false}) {
        INFO(describe(t) << " activation " << a.name << " bias " << with_bias << " seed " << seed);
        check_stem(t, a, with_bias, seed);
        seed += 3;
      }
}

TEST_CASE("stem: the shape rule") {
  FloatConv2D g{1, 224, 224, 3, 112, 112, 64, 7, 7, 2, 2, 1, 1, 3, 3, 1, -INFINITY, INFINITY};
  CHECK(stem_supported(g));
  FloatConv2D h = g;
  h.in_c = 5;
  CHECK_FALSE(stem_supported(h));
  h = g, h.groups = 3;
  CHECK_FALSE(stem_supported(h));
  h = g, h.dilation_w = 2;
  CHECK_FALSE(stem_supported(h));
  h = g, h.kernel_h = 1;
  CHECK_FALSE(stem_supported(h));
  h = g, h.stride_w = 3;
  CHECK_FALSE(stem_supported(h));
  h = g, h.kernel_h = 3, h.kernel_w = 5, h.stride_h = 1, h.in_c = 1;
  CHECK(stem_supported(h));
  FloatPool2D p{1, 112, 112, 64, 56, 56, 3, 3, 2, 2, 1, 1};
  CHECK(stem_max_pool_supported(p));
  p.kernel_h = kStemMaxPoolRows + 1;
  CHECK_FALSE(stem_max_pool_supported(p));
}

TEST_CASE("stem: selection picks the best listed ukernel the CPU runs, for every requested ISA") {
  size_t count = 0;
  const StemUkernel* table = stem_ukernels(&count);
  check_selection(table, count, [](Isa isa) -> const StemUkernel& { return stem_select(isa); });
}

// ---- the int8 stem (onebit/kernels/stem_int8.h) ----
// Every int8 stem ukernel by name (the VNNI one where the CPU has VNNI) against the contract computed here
// from the float input and the OHWI int8 weights: bit for bit (integer accumulation, then the same float
// operations), float and int8 outputs, a fused ReLU (qmin = the output zero point), inputs that saturate,
// input row and output row splits. Same shapes as the float stem's.
namespace {

std::vector<int8_t> int8_weights(size_t n, std::mt19937& rng) {
  std::vector<int8_t> w(n);
  for (int8_t& v : w) v = int8_t(int(rng() % 255) - 127);
  return w;
}

void check_stem_int8(const ConvCase& t, bool float_output, bool relu, uint32_t seed) {
  StemInt8 p;
  p.g = geometry(t, false);
  REQUIRE(stem_supported(p.g));
  p.input_scale = 0.013f, p.input_zero_point = -7;
  p.output_scale = 0.021f, p.output_zero_point = 5;
  p.qmin = relu ? p.output_zero_point : -128;
  p.float_output = float_output;
  stem_int8_init(&p);
  const FloatConv2D& g = p.g;
  const int taps = t.kh * t.kw * t.c, rows = g.batch * g.out_h;
  std::mt19937 rng(seed);
  std::vector<float> x = uniform(size_t(t.batch) * t.h * t.w * t.c, seed);
  for (size_t i = 0; i < x.size(); i += 7) x[i] *= 3.0f;  // some saturate to -128 / 127
  const std::vector<int8_t> w = int8_weights(size_t(t.out_c) * taps, rng);
  std::vector<int32_t> qbias(size_t(t.out_c));
  for (int32_t& b : qbias) b = int32_t(rng() % 20001) - 10000;
  std::vector<float> ws(size_t(t.out_c));
  for (float& s : ws) s = 0.002f + 0.00001f * float(rng() % 1000);

  // The contract, straight from x and w.
  std::vector<int> qx(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const double r = std::nearbyint(double(x[i] * (1.0f / p.input_scale))) + p.input_zero_point;
    qx[i] = int(std::fmin(127.0, std::fmax(-128.0, r)));
  }
  std::vector<float> want_f;
  std::vector<int8_t> want_q;
  for (int n = 0; n < g.batch; ++n)
    for (int oy = 0; oy < g.out_h; ++oy)
      for (int ox = 0; ox < g.out_w; ++ox)
        for (int o = 0; o < g.out_c; ++o) {
          int64_t acc = qbias[size_t(o)];
          for (int ky = 0; ky < t.kh; ++ky)
            for (int kx = 0; kx < t.kw; ++kx) {
              const int iy = oy * t.sh - t.pt + ky, ix = ox * t.sw - t.pl + kx;
              if (iy < 0 || iy >= t.h || ix < 0 || ix >= t.w) continue;
              for (int i = 0; i < t.c; ++i)
                acc += int64_t(qx[((size_t(n) * t.h + size_t(iy)) * t.w + size_t(ix)) * t.c + size_t(i)] -
                               p.input_zero_point) *
                       w[((size_t(o) * t.kh + ky) * t.kw + kx) * t.c + size_t(i)];
            }
          const float mult = p.input_scale * ws[size_t(o)] / p.output_scale;
          const float v = std::fmin(32767.0f, std::fmax(-32768.0f, float(int32_t(acc)) * mult));
          const int q = std::min(p.qmax, std::max(p.qmin, int(std::nearbyint(v)) + p.output_zero_point));
          want_q.push_back(int8_t(q));
          want_f.push_back(float(q - p.output_zero_point) * p.output_scale);
        }

  size_t count = 0;
  const StemInt8Ukernel* table = stem_int8_ukernels(&count);
  REQUIRE(count > 0);
  CHECK(table[count - 1].isa == Isa::kScalar);
  for (size_t k = 0; k < count; ++k) {
    const StemInt8Ukernel& u = table[k];
    if (!stem_int8_runs(u)) {
      MESSAGE("skipped int8 stem ukernel ", std::string(u.name), ": this CPU lacks it");
      continue;
    }
    INFO("ukernel " << std::string(u.name));
    const int in_rows = g.batch * p.padded_h;
    std::vector<uint8_t> xq(stem_int8_input_bytes(u, p), 0xAB), parts(xq.size(), 0xCD);
    stem_int8_quantize(u, p, x.data(), xq.data(), 0, in_rows);
    stem_int8_quantize(u, p, x.data(), parts.data(), in_rows / 2, in_rows);
    stem_int8_quantize(u, p, x.data(), parts.data(), 0, in_rows / 2);
    CHECK(parts == xq);
    std::vector<uint8_t> packed(stem_int8_packed_bytes(u, p) + 1, 0xEE);
    stem_int8_pack(u, p, w.data(), qbias.data(), ws.data(), packed.data());
    CHECK(packed.back() == 0xEE);  // stem_int8_pack writes exactly stem_int8_packed_bytes
    if (float_output) {
      std::vector<float> y(want_f.size(), NAN);
      stem_int8_conv(u, p, xq.data(), packed.data(), y.data(), 0, rows);
      CHECK(same_bits(y, want_f));
      check_row_splits(rows, y, [&](float* out, int begin, int end) {
        stem_int8_conv(u, p, xq.data(), packed.data(), out, begin, end);
      });
    } else {
      std::vector<int8_t> y(want_q.size(), 99), split(want_q.size(), 99);
      stem_int8_conv(u, p, xq.data(), packed.data(), y.data(), 0, rows);
      CHECK(y == want_q);
      stem_int8_conv(u, p, xq.data(), packed.data(), split.data(), rows / 2, rows);
      stem_int8_conv(u, p, xq.data(), packed.data(), split.data(), 0, rows / 2);
      CHECK(split == y);
    }
  }
}

}  // namespace

TEST_CASE("stem int8: every ukernel bit for bit against the contract, C=1..4, 3x3..7x7, float / int8 out") {
  uint32_t seed = 7000;
  for (const ConvCase& t : stem_cases())
    for (int variant = 0; variant < 3; ++variant) {
      const bool float_output = variant != 1, relu = variant == 2;
      INFO(describe(t) << " float_output " << float_output << " relu " << relu << " seed " << seed);
      check_stem_int8(t, float_output, relu, seed++);
    }
}

TEST_CASE("stem int8: selection is the first listed ukernel the CPU runs") {
  size_t count = 0;
  const StemInt8Ukernel* table = stem_int8_ukernels(&count);
  const StemInt8Ukernel* first = nullptr;
  for (size_t k = 0; k < count && first == nullptr; ++k)
    if (stem_int8_runs(table[k])) first = &table[k];
  REQUIRE(first != nullptr);
  CHECK(&stem_int8_select() == first);
}
