// Binary operators at model level (ModelBuilder -> Model -> Interpreter) against float references computed
// here on ±1 data: convolution borders for every padding mode, float and bitpacked output transforms, a
// bitpacked output chained into another binary conv, binary FC, binary max pool, thresholded Quantize.
#include "runtime_test_util.h"

using namespace onebit;
using namespace onebit::test;

namespace {

/// y = fl(fl(m * dot) + b), as the kernels' output transform evaluates it.
float transform(double dot, float m, float b) {
  const float t = m * float(dot);
  return t + b;
}

float pad_value(BinaryPadding mode) {
  return mode == BinaryPadding::kZero ? 0.0f : mode == BinaryPadding::kOne ? 1.0f : -1.0f;
}

/// Multipliers with negative and zero entries.
std::vector<float> multipliers(int n, uint32_t seed) {
  std::vector<float> m = uniform(size_t(n), seed, -1.0f, 1.0f);
  if (n > 2) m[1] = 0.0f;
  return m;
}

}  // namespace

TEST_CASE("BinaryConv2D (float output) matches a float convolution of ±1 data, all padding modes") {
  const ConvTestCase cases[] = {
      {5, 5, 1, 3, 3, 1, 1, 1, 1},    {7, 6, 31, 5, 3, 2, 1, 1, 1},  {6, 5, 32, 4, 3, 1, 2, 2, 1},
      {5, 7, 33, 6, 3, 1, 1, 1, 1},   {4, 4, 65, 2, 1, 1, 1, 0, 1},  {9, 8, 64, 8, 3, 2, 1, 1, 2},
      {5, 5, 12, 6, 3, 1, 1, 1, 3},   {3, 5, 40, 8, 5, 1, 1, 2, 1},  {6, 6, 128, 4, 2, 2, 1, 1, 1},
  };
  uint32_t seed = 1000;
  for (const ConvTestCase& t : cases) {
    for (int mode = 0; mode < 3; ++mode) {
      const auto pad_mode = BinaryPadding(mode);
      CAPTURE(t);
      CAPTURE(mode);
      BinaryConv2DParams p;
      set_window(t, &p);
      p.pad_bottom = t.pad;
      p.pad_right = t.pad > 0 ? t.pad - 1 : 0;  // asymmetric borders
      p.pad_mode = pad_mode;
      p.clamp_min = -3.0f;
      p.clamp_max = 50.0f;
      const int n = 2;
      const std::vector<float> x = uniform(size_t(n) * t.h * t.w * t.c, seed++);
      const std::vector<float> w = signs(size_t(t.out_c) * (t.c / t.groups) * t.k * t.k, seed++);
      const std::vector<float> m = multipliers(t.out_c, seed++);
      const std::vector<float> bias = uniform(size_t(t.out_c), seed++);
      ModelBuilder b;
      const int q = b.quantize("sign", b.add_input("x", {n, t.h, t.w, t.c}));
      b.mark_output(b.binary_conv2d("bconv", q, t.out_c, w, m, bias, p));
      const std::vector<float> got = run(b, {x});

      Nhwc ys{};
      const std::vector<double> dots =
          conv_sums(sign_of(x), {n, t.h, t.w, t.c}, w, t.out_c, p, pad_value(pad_mode), &ys);
      std::vector<float> want(dots.size());
      for (size_t i = 0; i < dots.size(); ++i) {
        const size_t o = i % size_t(t.out_c);
        want[i] = std::min(std::max(transform(dots[i], m[o], bias[o]), p.clamp_min), p.clamp_max);
      }
      check_close(got, want, 1e-6f);
    }
  }
}

TEST_CASE("BinaryConv2D bitpacked output chains into another binary conv (zero padding borders)") {
  for (int c : {16, 32, 45}) {
    for (int threads : {1, 2}) {
      CAPTURE(c); CAPTURE(threads);
      const int n = 1, h = 7, w = 9, mid = 37, out = 6;
      BinaryConv2DParams p1;
      p1.kernel_h = p1.kernel_w = 3;
      p1.pad_top = p1.pad_left = p1.pad_bottom = p1.pad_right = 1;
      p1.bitpacked_output = true;
      BinaryConv2DParams p2 = p1;
      p2.bitpacked_output = false;
      p2.stride_h = p2.stride_w = 2;
      const uint32_t s = uint32_t(c) * 10;
      const std::vector<float> x = uniform(size_t(n) * h * w * c, s);
      const std::vector<float> w1 = signs(size_t(mid) * c * 9, s + 1), w2 = signs(size_t(out) * mid * 9, s + 2);
      const std::vector<float> m1 = multipliers(mid, s + 3), b1 = uniform(size_t(mid), s + 4, -4.0f, 4.0f);
      const std::vector<float> m2 = multipliers(out, s + 5), b2 = uniform(size_t(out), s + 6);
      ModelBuilder b;
      const int q = b.quantize("sign", b.add_input("x", {n, h, w, c}));
      const int y1 = b.binary_conv2d("bconv1", q, mid, w1, m1, b1, p1);
      b.mark_output(b.binary_conv2d("bconv2", y1, out, w2, m2, b2, p2));
      b.mark_output(y1);  // a bitpacked graph output: the user gets ±1 floats
      InterpreterOptions options;
      options.threads = threads;
      Loaded l = load(b, options);
      const std::vector<float> got = run(*l.interp, {x}, 0);
      const std::vector<float> got_mid(l.interp->output(1), l.interp->output(1) + count(l.interp->output_info(1).shape));
      CHECK(l.interp->output_info(1).bitpacked);

      Nhwc s1{}, s2{};
      const std::vector<double> d1 = conv_sums(sign_of(x), {n, h, w, c}, w1, mid, p1, 0.0f, &s1);
      std::vector<float> a1(d1.size());
      for (size_t i = 0; i < d1.size(); ++i) a1[i] = transform(d1[i], m1[i % mid], b1[i % mid]) < 0 ? -1.0f : 1.0f;
      check_close(got_mid, a1, 0.0f);
      const std::vector<double> d2 = conv_sums(a1, s1, w2, out, p2, 0.0f, &s2);
      std::vector<float> want(d2.size());
      for (size_t i = 0; i < d2.size(); ++i) want[i] = transform(d2[i], m2[i % out], b2[i % out]);
      check_close(got, want, 1e-6f);
    }
  }
}

TEST_CASE("BinaryFullyConnected matches a float matmul of ±1 data (float and bitpacked outputs)") {
  for (int k : {1, 31, 32, 33, 100}) {
    CAPTURE(k);
    const int n = 3, o = 9, o2 = 4;
    const std::vector<float> x = uniform(size_t(n) * k, 500 + k);
    const std::vector<float> w = signs(size_t(o) * k, 600 + k), w2 = signs(size_t(o2) * o, 700 + k);
    const std::vector<float> m = multipliers(o, 800 + k), bias = uniform(size_t(o), 900 + k);
    const std::vector<float> m2 = multipliers(o2, 1000 + k), bias2 = uniform(size_t(o2), 1100 + k);
    ModelBuilder b;
    const int q = b.quantize("sign", b.add_input("x", {n, k}));
    b.mark_output(b.binary_fully_connected("bfc", q, o, w, m, bias, {false, -0.5f, 10.0f}));
    const int packed = b.binary_fully_connected("bfc_bits", q, o, w, m, bias, {true});
    b.mark_output(b.binary_fully_connected("bfc2", packed, o2, w2, m2, bias2));
    Loaded l = load(b);
    const std::vector<float> got = run(*l.interp, {x}, 0);
    const std::vector<float> got2(l.interp->output(1), l.interp->output(1) + size_t(n) * o2);
    const std::vector<float> sx = sign_of(x);
    std::vector<float> want(size_t(n) * o), bits(size_t(n) * o), want2(size_t(n) * o2);
    for (int r = 0; r < n; ++r) {
      for (int j = 0; j < o; ++j) {
        double dot = 0;
        for (int i = 0; i < k; ++i) dot += double(sx[size_t(r) * k + i]) * w[size_t(j) * k + i];
        const float y = transform(dot, m[size_t(j)], bias[size_t(j)]);
        want[size_t(r) * o + j] = std::min(std::max(y, -0.5f), 10.0f);
        bits[size_t(r) * o + j] = y < 0 ? -1.0f : 1.0f;
      }
      for (int j = 0; j < o2; ++j) {
        double dot = 0;
        for (int i = 0; i < o; ++i) dot += double(bits[size_t(r) * o + i]) * w2[size_t(j) * o + i];
        want2[size_t(r) * o2 + j] = transform(dot, m2[size_t(j)], bias2[size_t(j)]);
      }
    }
    check_close(got, want, 1e-6f);
    check_close(got2, want2, 1e-6f);
  }
}

TEST_CASE("BinaryMaxPool2D matches a float max pool of ±1 data") {
  struct Case { int k, stride, pad; };
  for (const Case& t : {Case{2, 2, 0}, Case{3, 2, 1}, Case{3, 1, 1}, Case{2, 1, 1}}) {
    for (int c : {5, 32, 70}) {
      CAPTURE(t.k); CAPTURE(t.stride); CAPTURE(t.pad); CAPTURE(c);
      Pool2DParams p;
      p.kernel_h = p.kernel_w = t.k;
      p.stride_h = p.stride_w = t.stride;
      p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = t.pad;
      const Nhwc s{2, 7, 6, c};
      // Mostly -1 so that windows of all -1 (a -1 result) actually occur.
      std::vector<float> x = uniform(size_t(2) * 7 * 6 * c, 1200 + c, -1.0f, 0.3f);
      ModelBuilder b;
      const int q = b.quantize("sign", b.add_input("x", {s.n, s.h, s.w, s.c}));
      b.mark_output(b.dequantize("pm1", b.binary_max_pool("bpool", q, p)));
      const std::vector<float> got = run(b, {x});
      const std::vector<float> sx = sign_of(x);
      const int oh = (s.h + 2 * t.pad - t.k) / t.stride + 1, ow = (s.w + 2 * t.pad - t.k) / t.stride + 1;
      const Nhwc ys{s.n, oh, ow, c};
      std::vector<float> want(size_t(s.n) * oh * ow * c);
      for (int n = 0; n < s.n; ++n)
        for (int oy = 0; oy < oh; ++oy)
          for (int ox = 0; ox < ow; ++ox)
            for (int ch = 0; ch < c; ++ch) {
              float mx = -INFINITY;
              for (int ky = 0; ky < t.k; ++ky)
                for (int kx = 0; kx < t.k; ++kx) {
                  const int iy = oy * t.stride - t.pad + ky, ix = ox * t.stride - t.pad + kx;
                  if (iy >= 0 && iy < s.h && ix >= 0 && ix < s.w) mx = std::max(mx, sx[s.at(n, iy, ix, ch)]);
                }
              want[ys.at(n, oy, ox, ch)] = mx;
            }
      check_close(got, want, 0.0f);
    }
  }
}

TEST_CASE("Quantize with per-channel thresholds, flips and constant channels") {
  for (int c : {3, 32, 41}) {
    CAPTURE(c);
    const std::vector<float> x = uniform(size_t(5) * c, 1300 + c, -2.0f, 2.0f);
    const std::vector<float> t = uniform(size_t(c), 1400 + c);
    std::vector<bool> flip(static_cast<size_t>(c), false);
    std::vector<int8_t> constant(size_t(c), -1);
    for (int i = 0; i < c; ++i) {
      flip[size_t(i)] = i % 3 == 1;
      if (i % 7 == 2) constant[size_t(i)] = int8_t(i % 2);
    }
    ModelBuilder b;
    b.mark_output(b.dequantize("pm1", b.quantize("bn_sign", b.add_input("x", {5, c}), t, flip, constant)));
    std::vector<float> want(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
      const size_t ch = i % size_t(c);
      const bool bit = constant[ch] >= 0 ? constant[ch] == 1 : flip[ch] ? x[i] > t[ch] : x[i] < t[ch];
      want[i] = bit ? -1.0f : 1.0f;
    }
    check_close(run(b, {x}), want, 0.0f);
  }
}
