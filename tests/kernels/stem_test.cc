// The stem ukernels (onebit/kernels/stem.h), every one by name, against the portable conv2d_f32: within 1e-5
// of the sum of |terms| (|x * w| over the real taps, plus |bias|), since they sum in another order and fuse
// the multiply-adds. Small odd shapes: C = 1..4, 3x3 / 5x5 / 7x7 and non-square kernels, strides 1 and 2,
// symmetric, asymmetric and oversized pads (pixels and rows wholly in the padding), inputs narrower than the
// kernel (no interior pixel), out_c that fill no block, one block, and several with a masked remainder; no
// activation, ReLU and a clamp; with and without bias; row splits.
#include <cmath>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "common/conv_reference.h"
#include "kernels/float_test_util.h"
#include "kernels/test_util.h"
#include "onebit/kernels/stem.h"

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
}

TEST_CASE("stem: selection picks the best listed ukernel the CPU runs, for every requested ISA") {
  size_t count = 0;
  const StemUkernel* table = stem_ukernels(&count);
  check_selection(table, count, [](Isa isa) -> const StemUkernel& { return stem_select(isa); });
}
