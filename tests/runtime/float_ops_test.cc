// Full-precision operators (XNNPACK-backed and plain loops) at model level against plain reference loops.
#include "runtime_test_util.h"

using namespace onebit;
using namespace onebit::test;

TEST_CASE("Conv2D (XNNPACK) matches a plain convolution: pads, strides, dilation, groups, clamp") {
  const ConvTestCase cases[] = {
      {5, 5, 3, 4, 3, 1, 1, 1, 1}, {7, 6, 8, 6, 3, 2, 1, 1, 2},  {9, 9, 4, 4, 3, 1, 2, 2, 4},
      {8, 8, 3, 16, 7, 2, 1, 3, 1}, {4, 5, 6, 3, 1, 1, 1, 0, 3}, {6, 7, 5, 5, 2, 2, 1, 0, 5},
  };
  uint32_t seed = 1;
  for (const ConvTestCase& t : cases) {
    for (bool clamp : {false, true}) {
      CAPTURE(t);
      CAPTURE(clamp);
      Conv2DParams p;
      set_window(t, &p);
      p.pad_bottom = t.pad + (t.pad > 0 ? 1 : 0);  // asymmetric: checks the padding order
      p.pad_right = t.pad;
      if (clamp) { p.clamp_min = -0.5f; p.clamp_max = 0.75f; }
      const std::vector<float> x = uniform(size_t(2) * t.h * t.w * t.c, seed++);
      const std::vector<float> w = uniform(size_t(t.out_c) * (t.c / t.groups) * t.k * t.k, seed++);
      const std::vector<float> bias = uniform(size_t(t.out_c), seed++);
      ModelBuilder b;
      const int in = b.add_input("x", {2, t.h, t.w, t.c});
      b.mark_output(b.conv2d("conv", in, t.out_c, Weights::float32(w), bias, p));
      const std::vector<float> got = run(b, {x});
      Nhwc ys{};
      const std::vector<double> sums = conv_sums(x, {2, t.h, t.w, t.c}, w, t.out_c, p, 0.0f, &ys);
      std::vector<float> want(sums.size());
      for (size_t i = 0; i < sums.size(); ++i)
        want[i] = std::min(std::max(float(sums[i] + bias[i % size_t(t.out_c)]), p.clamp_min), p.clamp_max);
      check_close(got, want, 1e-4f);
    }
  }
}

TEST_CASE("FullyConnected (XNNPACK) matches a matmul, with and without bias") {
  for (int k : {1, 7, 33}) {
    for (bool with_bias : {false, true}) {
      CAPTURE(k); CAPTURE(with_bias);
      const int n = 3, o = 5;
      const std::vector<float> x = uniform(size_t(n) * k, 10 + k);
      const std::vector<float> w = uniform(size_t(o) * k, 20 + k);
      const std::vector<float> bias = with_bias ? uniform(size_t(o), 30 + k) : std::vector<float>{};
      ModelBuilder b;
      b.mark_output(b.fully_connected("fc", b.add_input("x", {n, k}), o, Weights::float32(w), bias));
      std::vector<float> want(size_t(n) * o);
      for (int r = 0; r < n; ++r)
        for (int j = 0; j < o; ++j) {
          double acc = with_bias ? bias[size_t(j)] : 0.0;
          for (int i = 0; i < k; ++i) acc += double(x[size_t(r) * k + i]) * w[size_t(j) * k + i];
          want[size_t(r) * o + j] = float(acc);
        }
      check_close(run(b, {x}), want, 1e-5f);
    }
  }
}

namespace {

std::vector<float> pool_ref(const std::vector<float>& x, Nhwc s, const Pool2DParams& p, bool max) {
  const int oh = (s.h + p.pad_top + p.pad_bottom - p.kernel_h) / p.stride_h + 1;
  const int ow = (s.w + p.pad_left + p.pad_right - p.kernel_w) / p.stride_w + 1;
  const Nhwc ys{s.n, oh, ow, s.c};
  std::vector<float> y(size_t(s.n) * oh * ow * s.c);
  for (int n = 0; n < s.n; ++n)
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox)
        for (int c = 0; c < s.c; ++c) {
          double acc = max ? -1e30 : 0.0;
          int real = 0;
          for (int ky = 0; ky < p.kernel_h; ++ky)
            for (int kx = 0; kx < p.kernel_w; ++kx) {
              const int iy = oy * p.stride_h - p.pad_top + ky, ix = ox * p.stride_w - p.pad_left + kx;
              if (iy < 0 || iy >= s.h || ix < 0 || ix >= s.w) continue;
              const double v = x[s.at(n, iy, ix, c)];
              acc = max ? std::max(acc, v) : acc + v;
              ++real;
            }
          if (!max) acc /= p.count_include_pad ? p.kernel_h * p.kernel_w : real;
          y[ys.at(n, oy, ox, c)] = float(acc);
        }
  return y;
}

}  // namespace

TEST_CASE("MaxPool2D / AvgPool2D match plain pooling, count_include_pad both ways") {
  struct Case { int k, stride, pad_tl, pad_br; };
  const Case cases[] = {{3, 2, 1, 1}, {2, 2, 0, 0}, {3, 1, 1, 2}, {1, 1, 0, 0}, {2, 1, 1, 0}, {3, 3, 0, 2}};
  uint32_t seed = 100;
  for (const Case& t : cases) {
    for (int mode = 0; mode < 3; ++mode) {  // 0 max, 1 avg exclude pad, 2 avg include pad
      CAPTURE(t.k); CAPTURE(t.stride); CAPTURE(t.pad_tl); CAPTURE(t.pad_br); CAPTURE(mode);
      Pool2DParams p;
      p.kernel_h = p.kernel_w = t.k;
      p.stride_h = p.stride_w = t.stride;
      p.pad_top = p.pad_left = t.pad_tl;
      p.pad_bottom = p.pad_right = t.pad_br;
      p.count_include_pad = mode == 2;
      const Nhwc s{2, 7, 6, 5};
      const std::vector<float> x = uniform(size_t(2) * 7 * 6 * 5, seed++);
      ModelBuilder b;
      const int in = b.add_input("x", {s.n, s.h, s.w, s.c});
      b.mark_output(mode == 0 ? b.max_pool("pool", in, p) : b.avg_pool("pool", in, p));
      check_close(run(b, {x}), pool_ref(x, s, p, mode == 0), 1e-5f);
    }
  }
}

TEST_CASE("GlobalAvgPool, Add (broadcast, clamp), ReLU, Clamp, PReLU, Mul, ChannelAffine") {
  const int n = 2, h = 3, w = 5, c = 7;
  const size_t total = size_t(n) * h * w * c;
  const std::vector<float> x = uniform(total, 200, -2.0f, 2.0f);
  const std::vector<float> y = uniform(total, 201, -2.0f, 2.0f);
  const std::vector<float> v = uniform(size_t(c), 202, -1.5f, 1.5f);
  const std::vector<float> u = uniform(size_t(c), 203, -1.5f, 1.5f);
  const std::vector<int> shape = {n, h, w, c};

  SUBCASE("global average pool") {
    ModelBuilder b;
    b.mark_output(b.global_avg_pool("gap", b.add_input("x", shape)));
    std::vector<float> want(size_t(n) * c, 0.0f);
    for (size_t i = 0; i < total; ++i) want[(i / (size_t(h) * w * c)) * c + i % c] += x[i] / float(h * w);
    check_close(run(b, {x}), want, 1e-5f);
  }
  SUBCASE("add, same shape, clamped") {
    ModelBuilder b;
    b.mark_output(b.add("add", b.add_input("x", shape), b.add_input("y", shape), -1.0f, 1.5f));
    std::vector<float> want(total);
    for (size_t i = 0; i < total; ++i) want[i] = std::min(std::max(x[i] + y[i], -1.0f), 1.5f);
    check_close(run(b, {x, y}), want, 1e-6f);
  }
  SUBCASE("add, broadcast [C] and [N,1,1,C]") {
    ModelBuilder b;
    const int a = b.add_input("x", shape);
    const int bc = b.add_input("v", {c});
    const int nc = b.add_input("u", {n, 1, 1, c});
    b.mark_output(b.add("add2", b.add("add1", a, bc), nc));
    const std::vector<float> un = uniform(size_t(n) * c, 204);
    std::vector<float> want(total);
    for (size_t i = 0; i < total; ++i) want[i] = x[i] + v[i % c] + un[(i / (size_t(h) * w * c)) * c + i % c];
    check_close(run(b, {x, v, un}), want, 1e-6f);
  }
  SUBCASE("relu, clamp, prelu") {
    for (int which = 0; which < 3; ++which) {
      CAPTURE(which);
      ModelBuilder b;
      const int in = b.add_input("x", shape);
      b.mark_output(which == 0 ? b.relu("relu", in) : which == 1 ? b.clamp("clamp", in, -1.0f, 1.0f)
                                                                  : b.prelu("prelu", in, v));
      std::vector<float> want(total);
      for (size_t i = 0; i < total; ++i) {
        want[i] = which == 0 ? std::max(x[i], 0.0f)
                  : which == 1 ? std::min(std::max(x[i], -1.0f), 1.0f)
                               : (x[i] < 0 ? x[i] * v[i % c] : x[i]);
      }
      check_close(run(b, {x}), want, 1e-6f);
    }
  }
  SUBCASE("mul and channel affine") {
    ModelBuilder b;
    const int in = b.add_input("x", shape);
    b.mark_output(b.channel_affine("bn", b.mul("mul", in, v), u, v));
    std::vector<float> want(total);
    for (size_t i = 0; i < total; ++i) want[i] = x[i] * v[i % c] * u[i % c] + v[i % c];
    check_close(run(b, {x}), want, 1e-5f);
  }
}

TEST_CASE("Reshape, Concat, Pad, Softmax") {
  const std::vector<float> x = uniform(2 * 3 * 4, 300, -3.0f, 3.0f);
  SUBCASE("reshape + softmax") {
    ModelBuilder b;
    b.mark_output(b.softmax("softmax", b.reshape("flatten", b.add_input("x", {2, 3, 1, 4}), {2, 12})));
    std::vector<float> want(24);
    for (int r = 0; r < 2; ++r) {
      double sum = 0;
      for (int i = 0; i < 12; ++i) sum += std::exp(double(x[size_t(r) * 12 + i]));
      for (int i = 0; i < 12; ++i) want[size_t(r) * 12 + i] = float(std::exp(double(x[size_t(r) * 12 + i])) / sum);
    }
    check_close(run(b, {x}), want, 1e-5f);
  }
  SUBCASE("concat along the middle axis") {
    const std::vector<float> y = uniform(2 * 5 * 4, 301);
    ModelBuilder b;
    b.mark_output(b.concat("cat", {b.add_input("x", {2, 3, 4}), b.add_input("y", {2, 5, 4})}, 1));
    std::vector<float> want;
    for (int r = 0; r < 2; ++r) {
      want.insert(want.end(), x.begin() + r * 12, x.begin() + (r + 1) * 12);
      want.insert(want.end(), y.begin() + r * 20, y.begin() + (r + 1) * 20);
    }
    check_close(run(b, {x, y}), want, 0.0f);
  }
  SUBCASE("pad with a value") {
    ModelBuilder b;
    b.mark_output(b.pad("pad", b.add_input("x", {2, 3, 4}), {0, 1, 2, 1, 0, 1}, -7.0f));
    const int o1 = 3 + 1 + 0, o2 = 4 + 2 + 1;
    std::vector<float> want(size_t(3) * o1 * o2, -7.0f);
    for (int a = 0; a < 2; ++a)
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 4; ++j) want[(size_t(a) * o1 + i + 1) * o2 + j + 2] = x[(size_t(a) * 3 + i) * 4 + j];
    check_close(run(b, {x}), want, 0.0f);
  }
}

namespace {

/// Reference log-softmax of each row of `x` (rows of length n), in double: x - (max + log(sum(exp(x - max)))).
std::vector<float> log_softmax_reference(const std::vector<float>& x, size_t n) {
  std::vector<float> y(x.size());
  for (size_t r = 0; r < x.size() / n; ++r) {
    const float* row = x.data() + r * n;
    const double mx = *std::max_element(row, row + n);
    double sum = 0;
    for (size_t c = 0; c < n; ++c) sum += std::exp(double(row[c]) - mx);
    const double lse = mx + std::log(sum);
    for (size_t c = 0; c < n; ++c) y[r * n + c] = float(double(row[c]) - lse);
  }
  return y;
}

}  // namespace

TEST_CASE("LogSoftmax matches a double reference, stays finite where log(softmax) is -inf, threads 1 and 2") {
  for (int n : {1, 2, 7, 10, 33}) {
    for (bool large : {false, true}) {
      CAPTURE(n); CAPTURE(large);
      const std::vector<int> shape = {2, 3, n};  // 6 rows of the last dimension
      const size_t total = count(shape);
      std::vector<float> x = uniform(total, 400 + uint32_t(n), -3.0f, 3.0f);
      if (large) {
        // ±80 plus a little noise: within a row x - max reaches about -160, where float exp underflows to 0.
        for (size_t i = 0; i < total; ++i) x[i] += (i % 3 == 0) ? 80.0f : -80.0f;
      }
      const std::vector<float> want = log_softmax_reference(x, size_t(n));
      std::vector<float> first;
      for (int threads : {1, 2}) {
        CAPTURE(threads);
        ModelBuilder b;
        b.mark_output(b.softmax("log_softmax", b.add_input("x", shape), true));
        InterpreterOptions options;
        options.threads = threads;
        const std::vector<float> got = run(b, {x}, options);
        for (float v : got) REQUIRE(std::isfinite(v));
        check_close(got, want, 1e-5f);
        if (first.empty()) first = got;
        check_close(got, first, 0.0f);  // same bits whatever the thread count
      }
      if (large && n >= 2) {
        // The case the op exists for: the log of the plain softmax loses the small entries entirely.
        ModelBuilder b;
        b.mark_output(b.softmax("softmax", b.add_input("x", shape)));
        const std::vector<float> p = run(b, {x});
        CHECK(std::any_of(p.begin(), p.end(), [](float v) { return std::isinf(std::log(v)); }));
      }
    }
  }
}

TEST_CASE("Softmax without the log flag is still a plain softmax (rows of 1, 2, 7, 10, 33)") {
  for (int n : {1, 2, 7, 10, 33}) {
    CAPTURE(n);
    const std::vector<float> x = uniform(size_t(4) * n, 450 + uint32_t(n), -5.0f, 5.0f);
    ModelBuilder b;
    b.mark_output(b.softmax("softmax", b.add_input("x", {4, n})));
    std::vector<float> want(x.size());
    for (size_t r = 0; r < 4; ++r) {
      const float* row = x.data() + r * size_t(n);
      const double mx = *std::max_element(row, row + n);
      double sum = 0;
      for (int c = 0; c < n; ++c) sum += std::exp(double(row[c]) - mx);
      for (int c = 0; c < n; ++c) want[r * size_t(n) + size_t(c)] = float(std::exp(double(row[c]) - mx) / sum);
    }
    check_close(run(b, {x}), want, 1e-5f);
  }
}
