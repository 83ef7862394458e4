// The portable float kernels (onebit/kernels/float.h) against references written here:
//  - a double-precision reference, within the rounding bound of a float sum of n products
//    ((n + 2) * 2^-23 * the sum of |terms|);
//  - a naive float loop in the order float.h documents, which the kernels must match bit for bit (the
//    Cortex-M build relies on that order);
//  - row ranges that split the work, which must give the same bits as the whole range.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include <doctest/doctest.h>

#include "common/conv_reference.h"
#include "kernels/float_test_util.h"
#include "onebit/kernels/float.h"

using namespace onebit::kernels;
using namespace onebit::test;

namespace {

/// The documented order in plain float: acc over (ky, kx, i) (a padded tap adds +0, which leaves a sum that
/// started at +0 unchanged), + bias, clamp.
std::vector<float> conv_documented_order(const FloatConv2D& g, const std::vector<float>& x, const std::vector<float>& w,
                                         const float* bias) {
  const int cin_g = g.in_c / g.groups, kw = g.kernel_w, kh = g.kernel_h;
  std::vector<float> y = onebit::testing::direct_conv<float>(conv_shape(g), [&](std::ptrdiff_t xi, int o, int ky, int kx, int i) {
    if (xi < 0) return 0.0f;
    const float product = x[size_t(xi)] * w[((size_t(o) * kh + ky) * kw + kx) * cin_g + i];
    return product;
  });
  for (size_t i = 0; i < y.size(); ++i) {
    float v = y[i];
    if (bias != nullptr) v = v + bias[i % size_t(g.out_c)];
    y[i] = clamp_ref(v, g.clamp_min, g.clamp_max);
  }
  return y;
}

void check_conv(const ConvCase& t, bool clamp, bool with_bias, uint32_t seed) {
  const FloatConv2D g = geometry(t, clamp);
  const int cin_g = t.c / t.groups, taps = t.kh * t.kw * cin_g;
  const std::vector<float> x = uniform(size_t(t.batch) * t.h * t.w * t.c, seed);
  const std::vector<float> w = uniform(size_t(t.out_c) * taps, seed + 1);
  const std::vector<float> bias_v = uniform(size_t(t.out_c), seed + 2);
  const float* bias = with_bias ? bias_v.data() : nullptr;
  const int rows = g.batch * g.out_h;
  std::vector<float> y(size_t(rows) * g.out_w * g.out_c, NAN);
  conv2d_f32(g, x.data(), w.data(), bias, y.data(), 0, rows);

  // Double reference within the rounding bound.
  const auto sums = onebit::testing::direct_conv<double>(conv_shape(g), [&](std::ptrdiff_t xi, int o, int ky, int kx, int i) {
    return xi < 0 ? 0.0 : double(x[size_t(xi)]) * w[((size_t(o) * t.kh + ky) * t.kw + kx) * cin_g + i];
  });
  const auto mags = onebit::testing::direct_conv<double>(conv_shape(g), [&](std::ptrdiff_t xi, int o, int ky, int kx, int i) {
    return xi < 0 ? 0.0 : std::fabs(double(x[size_t(xi)]) * w[((size_t(o) * t.kh + ky) * t.kw + kx) * cin_g + i]);
  });
  check_conv_within(g, y, sums, mags, bias, taps);

  CHECK_MESSAGE(same_bits(y, conv_documented_order(g, x, w, bias)), "not the documented order of operations");

  check_row_splits(rows, y, [&](float* out, int begin, int end) {
    conv2d_f32(g, x.data(), w.data(), bias, out, begin, end);
  });
}

}  // namespace

TEST_CASE("float conv2d: groups, depthwise, dilation, strides, asymmetric pads, 1x1..7x7, stems C=1..4") {
  for_each_conv_run(conv_cases(), 1000, 3, check_conv);
}

TEST_CASE("float fully connected: batch, bias, clamp, documented order, row split") {
  uint32_t seed = 2000;
  for (int batch : {1, 3})
    for (int in_c : {1, 7, 33, 512})
      for (int out_c : {1, 10, 13})
        for (bool with_bias : {false, true}) {
          INFO("batch " << batch << " in " << in_c << " out " << out_c << " bias " << with_bias << " seed " << seed);
          const std::vector<float> x = uniform(size_t(batch) * in_c, seed++);
          const std::vector<float> w = uniform(size_t(out_c) * in_c, seed++);
          const std::vector<float> bias_v = uniform(size_t(out_c), seed++);
          const float* bias = with_bias ? bias_v.data() : nullptr;
          const float lo = with_bias ? -0.5f : -INFINITY, hi = with_bias ? 0.75f : INFINITY;
          std::vector<float> y(size_t(batch) * out_c, NAN);
          fully_connected_f32(batch, in_c, out_c, x.data(), w.data(), bias, lo, hi, y.data(), 0, batch);
          std::vector<double> want(y.size()), mag(y.size());
          std::vector<float> ordered(y.size());
          for (int r = 0; r < batch; ++r)
            for (int o = 0; o < out_c; ++o) {
              double s = 0, m = 0;
              float acc = 0.0f;
              for (int i = 0; i < in_c; ++i) {
                const float xv = x[size_t(r) * in_c + i], wv = w[size_t(o) * in_c + i];
                s += double(xv) * wv;
                m += std::fabs(double(xv) * wv);
                acc = acc + xv * wv;
              }
              if (with_bias) s += bias[o], m += std::fabs(double(bias[o])), acc = acc + bias[o];
              want[size_t(r) * out_c + o] = std::min(std::max(s, double(lo)), double(hi));
              mag[size_t(r) * out_c + o] = m;
              ordered[size_t(r) * out_c + o] = clamp_ref(acc, lo, hi);
            }
          check_within(y, want, mag, in_c);
          CHECK(same_bits(y, ordered));
          if (batch > 1) {
            std::vector<float> parts(y.size(), NAN);
            fully_connected_f32(batch, in_c, out_c, x.data(), w.data(), bias, lo, hi, parts.data(), 1, batch);
            fully_connected_f32(batch, in_c, out_c, x.data(), w.data(), bias, lo, hi, parts.data(), 0, 1);
            CHECK(same_bits(parts, y));
          }
        }
}

TEST_CASE("float max / avg pool: count_include_pad both ways, documented order, row split") {
  struct Case { int kh, kw, sh, sw, pt, pl, pb, pr; };
  const Case cases[] = {{3, 3, 2, 2, 1, 1, 1, 1}, {2, 2, 2, 2, 0, 0, 0, 0}, {3, 3, 1, 1, 1, 1, 2, 2},
                        {1, 1, 1, 1, 0, 0, 0, 0}, {2, 3, 1, 2, 1, 0, 0, 2}, {3, 3, 3, 3, 0, 0, 2, 2},
                        {7, 7, 1, 1, 3, 3, 3, 3}};
  uint32_t seed = 3000;
  for (const Case& t : cases)
    for (int channels : {1, 5, 16, 37})
      for (int mode = 0; mode < 3; ++mode) {  // 0 max, 1 avg excluding the pads, 2 avg including them
        INFO("kernel " << t.kh << "x" << t.kw << " stride " << t.sh << "x" << t.sw << " pads t" << t.pt << " l" << t.pl
                       << " b" << t.pb << " r" << t.pr << " channels " << channels << " mode " << mode);
        FloatPool2D p{2, 7, 8, channels, 0, 0, t.kh, t.kw, t.sh, t.sw, t.pt, t.pl};
        p.out_h = (p.in_h + t.pt + t.pb - t.kh) / t.sh + 1;
        p.out_w = (p.in_w + t.pl + t.pr - t.kw) / t.sw + 1;
        const std::vector<float> x = uniform(size_t(2) * 7 * 8 * channels, seed++);
        const int rows = p.batch * p.out_h;
        std::vector<float> y(size_t(rows) * p.out_w * channels, NAN);
        if (mode == 0) max_pool2d_f32(p, x.data(), y.data(), 0, rows);
        else avg_pool2d_f32(p, mode == 2, x.data(), y.data(), 0, rows);
        std::vector<double> want(y.size()), mag(y.size());
        std::vector<float> ordered(y.size());
        for (size_t k = 0; k < y.size(); ++k) {
          const int c = int(k % size_t(channels)), ox = int(k / size_t(channels) % size_t(p.out_w));
          const int oy = int(k / size_t(channels) / size_t(p.out_w) % size_t(p.out_h));
          const int n = int(k / size_t(channels) / size_t(p.out_w) / size_t(p.out_h));
          double s = mode == 0 ? -INFINITY : 0.0, m = 0;
          float acc = mode == 0 ? -INFINITY : 0.0f;
          int real = 0;
          for (int ky = 0; ky < t.kh; ++ky)
            for (int kx = 0; kx < t.kw; ++kx) {
              const int iy = oy * t.sh - t.pt + ky, ix = ox * t.sw - t.pl + kx;
              if (iy < 0 || iy >= p.in_h || ix < 0 || ix >= p.in_w) continue;
              const float v = x[((size_t(n) * p.in_h + iy) * p.in_w + ix) * channels + c];
              s = mode == 0 ? std::max(s, double(v)) : s + v;
              acc = mode == 0 ? (acc < v ? v : acc) : acc + v;
              m += std::fabs(double(v));
              ++real;
            }
          const int d = mode == 2 ? t.kh * t.kw : real;
          want[k] = mode == 0 ? s : s / d;
          mag[k] = mode == 0 ? 0.0 : m / d;
          ordered[k] = mode == 0 ? acc : acc / float(d);
        }
        check_within(y, want, mag, t.kh * t.kw);
        CHECK(same_bits(y, ordered));
        std::vector<float> parts(y.size(), NAN);
        for (int r = rows - 1; r >= 0; --r) {
          if (mode == 0) max_pool2d_f32(p, x.data(), parts.data(), r, r + 1);
          else avg_pool2d_f32(p, mode == 2, x.data(), parts.data(), r, r + 1);
        }
        CHECK(same_bits(parts, y));
      }
}

TEST_CASE("float global average pool") {
  for (int pixels : {1, 49, 196})
    for (int channels : {1, 7, 64}) {
      INFO("pixels " << pixels << " channels " << channels);
      const int batch = 2;
      const std::vector<float> x = uniform(size_t(batch) * pixels * channels, uint32_t(pixels * 100 + channels));
      std::vector<float> y(size_t(batch) * channels, NAN);
      global_avg_pool_f32(batch, pixels, channels, x.data(), y.data());
      std::vector<double> want(y.size()), mag(y.size());
      std::vector<float> ordered(y.size());
      for (int n = 0; n < batch; ++n)
        for (int c = 0; c < channels; ++c) {
          double s = 0, m = 0;
          float acc = 0.0f;
          for (int i = 0; i < pixels; ++i) {
            const float v = x[(size_t(n) * pixels + i) * channels + c];
            s += v, m += std::fabs(double(v)), acc = acc + v;
          }
          want[size_t(n) * channels + c] = s / pixels;
          mag[size_t(n) * channels + c] = m / pixels;
          ordered[size_t(n) * channels + c] = acc / float(pixels);
        }
      check_within(y, want, mag, pixels);
      CHECK(same_bits(y, ordered));
    }
}

TEST_CASE("float clamp, ReLU and PReLU, in place too") {
  const std::vector<float> x = uniform(3 * 37, 4000, -2.0f, 2.0f);
  const std::vector<float> slope = uniform(37, 4001, -0.5f, 0.5f);
  std::vector<float> y(x.size()), relu(x.size()), pre(x.size());
  clamp_f32(x.size(), x.data(), -1.0f, 1.25f, y.data());
  clamp_f32(x.size(), x.data(), 0.0f, INFINITY, relu.data());
  prelu_f32(3, 37, x.data(), slope.data(), pre.data());
  for (size_t i = 0; i < x.size(); ++i) {
    CHECK(y[i] == clamp_ref(x[i], -1.0f, 1.25f));
    CHECK(relu[i] == std::max(x[i], 0.0f));
    CHECK(pre[i] == (x[i] < 0 ? x[i] * slope[i % 37] : x[i]));
  }
  std::vector<float> in_place = x;
  prelu_f32(3, 37, in_place.data(), slope.data(), in_place.data());
  CHECK(same_bits(in_place, pre));
  in_place = x;
  clamp_f32(x.size(), in_place.data(), -1.0f, 1.25f, in_place.data());
  CHECK(same_bits(in_place, y));
}

TEST_CASE("float add: NumPy broadcasting up to rank 4, clamp, row split") {
  struct Case { std::vector<int> a, b; };
  const Case cases[] = {
      {{2, 3, 4, 5}, {2, 3, 4, 5}}, {{2, 3, 4, 5}, {5}},       {{5}, {2, 3, 4, 5}},       {{2, 3, 4, 5}, {1, 3, 1, 5}},
      {{2, 1, 4, 1}, {1, 3, 1, 5}}, {{2, 3, 4, 1}, {4, 1}},    {{2, 3, 4, 5}, {2, 1, 1, 5}}, {{1}, {2, 3}},
      {{3, 1}, {1, 4}},             {{2, 3, 4, 1}, {1}},       {{7}, {7}},                {{2, 3, 1, 5}, {3, 4, 1}},
  };
  uint32_t seed = 5000;
  for (const Case& t : cases)
    for (bool clamp : {false, true}) {
      FloatAdd g{};
      const float lo = clamp ? -0.5f : -INFINITY, hi = clamp ? 0.75f : INFINITY;
      REQUIRE(float_add_shape(int(t.a.size()), t.a.data(), int(t.b.size()), t.b.data(), lo, hi, &g));
      size_t na = 1, nb = 1, ny = 1;
      for (int d : t.a) na *= size_t(d);
      for (int d : t.b) nb *= size_t(d);
      for (int d = 0; d < g.rank; ++d) ny *= size_t(g.out[d]);
      const std::vector<float> a = uniform(na, seed++), b = uniform(nb, seed++);
      const size_t rows = float_add_rows(g);
      CHECK(rows * size_t(g.out[g.rank - 1]) == ny);
      std::vector<float> y(ny, NAN);
      add_f32(g, a.data(), b.data(), y.data(), 0, rows);
      // Reference: the output index's coordinates, each input's element by its own (right-aligned) shape.
      std::vector<float> want(ny);
      for (size_t k = 0; k < ny; ++k) {
        int coord[kFloatAddMaxRank];
        size_t rest = k;
        for (int d = g.rank - 1; d >= 0; --d) coord[d] = int(rest % size_t(g.out[d])), rest /= size_t(g.out[d]);
        auto element = [&](const std::vector<int>& shape, const std::vector<float>& v) {
          size_t idx = 0;
          const int offset = g.rank - int(shape.size());
          for (int d = 0; d < int(shape.size()); ++d) idx = idx * size_t(shape[size_t(d)]) + (shape[size_t(d)] == 1 ? 0 : size_t(coord[d + offset]));
          return v[idx];
        };
        want[k] = clamp_ref(element(t.a, a) + element(t.b, b), lo, hi);
      }
      INFO("a rank " << t.a.size() << " b rank " << t.b.size() << " clamp " << clamp);
      CHECK(same_bits(y, want));
      std::vector<float> parts(ny, NAN);
      add_f32(g, a.data(), b.data(), parts.data(), rows / 2, rows);
      add_f32(g, a.data(), b.data(), parts.data(), 0, rows / 2);
      CHECK(same_bits(parts, y));
    }
  FloatAdd g{};
  const int s23[] = {2, 3}, s43[] = {4, 3}, s5[] = {1, 1, 1, 1, 2}, s0[] = {0};
  CHECK_FALSE(float_add_shape(2, s23, 2, s43, -INFINITY, INFINITY, &g));
  CHECK_FALSE(float_add_shape(5, s5, 2, s23, -INFINITY, INFINITY, &g));
  CHECK_FALSE(float_add_shape(1, s0, 2, s23, -INFINITY, INFINITY, &g));
  CHECK_FALSE(float_add_shape(0, s23, 2, s23, -INFINITY, INFINITY, &g));
}
