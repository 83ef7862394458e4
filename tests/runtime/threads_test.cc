// The plain-loop operators split over the pool (runtime/src/ops/parallel.h): at threads 1, 2, 3 and 4 each
// gives byte-identical outputs, equal to a plain-loop reference written here. Shapes are large enough that
// the work is split into several tasks (>= 16 KB each) and odd so that the last tile is a partial one.
// A batch-1 BinaryFullyConnected (the kernel's output-channel split) at threads 1-4 as well. Also the
// synthetic Bi-Real-18 (binary and 2-bit activations): identical outputs at threads 1, 2 and 3. An int8 stem
// (im2col split over rows) against a double reference.
#include <cstring>

#include "runtime_test_util.h"
#include "synth/bireal.h"

namespace onebit::test {
namespace {

/// Builds the model with `build` once per thread count, runs it on `inputs`, requires byte-identical outputs
/// across thread counts and returns them.
template <typename Build>
std::vector<float> at_every_thread_count(const Build& build, const std::vector<std::vector<float>>& inputs) {
  std::vector<float> first;
  for (int threads : {1, 2, 3, 4}) {
    ModelBuilder b;
    build(b);
    InterpreterOptions options;
    options.threads = threads;
    const std::vector<float> y = run(b, inputs, options);
    if (threads == 1) {
      first = y;
      continue;
    }
    INFO("threads " << threads << " vs 1");
    REQUIRE(y.size() == first.size());
    CHECK(std::memcmp(y.data(), first.data(), y.size() * sizeof(float)) == 0);
  }
  return first;
}

/// Exact equality with the reference, reporting the first mismatch.
void check_equal(const std::vector<float>& got, const std::vector<float>& want) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::memcmp(&got[i], &want[i], sizeof(float)) != 0) {
      INFO("element " << i << " of " << got.size() << ": got " << got[i] << ", expected " << want[i]);
      CHECK(false);
      return;
    }
  }
}

float sign_value(bool negative) { return negative ? -1.0f : 1.0f; }

Pool2DParams square_window(int kernel, int stride, int pad) {
  Pool2DParams p;
  p.kernel_h = p.kernel_w = kernel;
  p.stride_h = p.stride_w = stride;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = pad;
  return p;
}

/// A square-window pooling reference: window(n, top, left, channel) gives one output element from the
/// window's (unclamped) top-left input corner; outputs in NHWC order.
template <typename Window>
std::vector<float> pool_reference(Nhwc s, int kernel, int stride, int pad, const Window& window) {
  const int oh = (s.h + 2 * pad - kernel) / stride + 1, ow = (s.w + 2 * pad - kernel) / stride + 1;
  std::vector<float> y;
  for (int n = 0; n < s.n; ++n)
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox)
        for (int ch = 0; ch < s.c; ++ch) y.push_back(window(n, oy * stride - pad, ox * stride - pad, ch));
  return y;
}

TEST_CASE("threads: Quantize (plain and with thresholds) and Dequantize") {
  const std::vector<int> shape{1, 75, 61, 67};
  std::vector<float> x = uniform(count(shape), 1);
  for (size_t i = 0; i < x.size(); i += 97) x[i] = (i / 97) % 2 ? -0.0f : 0.0f;
  const size_t c = 67;
  const std::vector<float> threshold = uniform(c, 2, -0.5f, 0.5f);
  std::vector<bool> flip(c);
  std::vector<int8_t> constant(c, -1);
  for (size_t k = 0; k < c; ++k) {
    flip[k] = k % 3 == 1;
    if (k % 11 == 5) constant[k] = int8_t(k % 2);
  }
  for (bool fused : {false, true}) {
    CAPTURE(fused);
    std::vector<float> want(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
      const size_t k = i % c;
      if (!fused) {
        want[i] = sign_value(x[i] < 0);
      } else if (constant[k] >= 0) {
        want[i] = sign_value(constant[k] == 1);
      } else {
        want[i] = sign_value(flip[k] ? x[i] > threshold[k] : x[i] < threshold[k]);
      }
    }
    const std::vector<float> got = at_every_thread_count(
        [&](ModelBuilder& b) {
          const int in = b.add_input("x", shape);
          const int q = fused ? b.quantize("q", in, threshold, flip, constant) : b.quantize("q", in);
          b.mark_output(b.dequantize("d", q));
        },
        {x});
    check_equal(got, want);
  }
}

TEST_CASE("threads: QuantizeLevels and Dequantize of k-bit levels") {
  const std::vector<int> shape{2, 45, 41, 45};
  const size_t c = 45;
  const std::vector<float> x = uniform(count(shape), 3, -3.0f, 3.0f);
  const std::vector<float> scale = uniform(c, 4, 0.5f, 1.5f), shift = uniform(c, 5, 0.0f, 2.0f);
  Levels unipolar;
  unipolar.bits = 2;
  unipolar.zero_level = 1;
  unipolar.scale = 0.5f;
  Levels ternary;
  ternary.kind = LevelKind::kTernary;
  ternary.bits = 2;
  for (const Levels& l : {unipolar, ternary}) {
    CAPTURE(int(l.kind));
    std::vector<float> want(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
      const size_t k = i % c;
      const float t = x[i] * scale[k] + shift[k];
      int level = 0;
      if (l.kind == LevelKind::kTernary) {
        level = t > 0 ? 1 : t < 0 ? -1 : 0;
      } else {
        level = int(std::min(std::max(std::nearbyint(t), 0.0f), 3.0f)) - l.zero_level;
      }
      want[i] = l.scale * float(level);
    }
    const std::vector<float> got = at_every_thread_count(
        [&](ModelBuilder& b) {
          b.mark_output(b.dequantize("d", b.quantize_levels("ql", b.add_input("x", shape), l, scale, shift)));
        },
        {x});
    check_equal(got, want);
  }
}

TEST_CASE("threads: BinaryMaxPool2D, small and chunked (> 64 taps) windows") {
  struct Case {
    std::vector<int> shape;
    int kernel, stride, pad;
  };
  for (const Case& t : {Case{{2, 101, 99, 150}, 3, 2, 1}, Case{{1, 90, 97, 33}, 9, 1, 4}}) {
    CAPTURE(t.kernel);
    const Nhwc s{t.shape[0], t.shape[1], t.shape[2], t.shape[3]};
    const std::vector<float> x = uniform(count(t.shape), 6);
    const Pool2DParams p = square_window(t.kernel, t.stride, t.pad);
    const std::vector<float> want = pool_reference(s, t.kernel, t.stride, t.pad, [&](int n, int top, int left, int ch) {
      float m = -1.0f;  // the max of ±1 over real taps (-1 when there is none)
      for (int iy = std::max(top, 0); iy < std::min(top + t.kernel, s.h); ++iy)
        for (int ix = std::max(left, 0); ix < std::min(left + t.kernel, s.w); ++ix)
          m = std::max(m, sign_value(x[s.at(n, iy, ix, ch)] < 0));
      return m;
    });
    const std::vector<float> got = at_every_thread_count(
        [&](ModelBuilder& b) {
          b.mark_output(b.dequantize("d", b.binary_max_pool("bp", b.quantize("q", b.add_input("x", t.shape)), p)));
        },
        {x});
    check_equal(got, want);
  }
}

TEST_CASE("threads: Mul and ChannelAffine") {
  const std::vector<int> shape{2, 33, 41, 19};
  const size_t c = 19;
  const std::vector<float> x = uniform(count(shape), 7);
  const std::vector<float> scale = uniform(c, 8), shift = uniform(c, 9);
  for (bool affine : {false, true}) {
    CAPTURE(affine);
    std::vector<float> want(x.size());
    for (size_t i = 0; i < x.size(); ++i) want[i] = affine ? x[i] * scale[i % c] + shift[i % c] : x[i] * scale[i % c];
    const std::vector<float> got = at_every_thread_count(
        [&](ModelBuilder& b) {
          const int in = b.add_input("x", shape);
          b.mark_output(affine ? b.channel_affine("a", in, scale, shift) : b.mul("m", in, scale));
        },
        {x});
    check_equal(got, want);
  }
}

TEST_CASE("threads: Softmax and LogSoftmax, many rows and one long row") {
  for (const std::vector<int>& shape : {std::vector<int>{300, 37}, std::vector<int>{1, 70001}}) {
    for (bool log : {false, true}) {
      CAPTURE(shape[0]);
      CAPTURE(log);
      const size_t c = size_t(shape[1]);
      const std::vector<float> x = uniform(count(shape), 10, -8.0f, 8.0f);
      std::vector<float> want(x.size());
      for (size_t r = 0; r < size_t(shape[0]); ++r) {
        float mx = x[r * c];
        for (size_t k = 1; k < c; ++k) mx = std::max(mx, x[r * c + k]);
        float sum = 0;
        for (size_t k = 0; k < c; ++k) sum += std::exp(x[r * c + k] - mx);
        for (size_t k = 0; k < c; ++k)
          want[r * c + k] = log ? (x[r * c + k] - mx) - std::log(sum) : std::exp(x[r * c + k] - mx) / sum;
      }
      const std::vector<float> got = at_every_thread_count(
          [&](ModelBuilder& b) { b.mark_output(b.softmax("s", b.add_input("x", shape), log)); }, {x});
      check_equal(got, want);
    }
  }
}

TEST_CASE("threads: Concat along channels, rows and the batch") {
  struct Case {
    std::vector<std::vector<int>> shapes;
    int axis;
  };
  const Case cases[] = {
      {{{2, 37, 41, 5}, {2, 37, 41, 7}, {2, 37, 41, 3}}, -1},
      {{{1, 23, 31, 9}, {1, 17, 31, 9}}, 1},
      {{{2, 20, 21, 8}, {3, 20, 21, 8}}, 0},
  };
  uint32_t seed = 20;
  for (const Case& t : cases) {
    CAPTURE(t.axis);
    const size_t rank = t.shapes[0].size(), axis = size_t(t.axis < 0 ? t.axis + int(rank) : t.axis);
    std::vector<std::vector<float>> xs;
    for (const std::vector<int>& s : t.shapes) xs.push_back(uniform(count(s), seed++));
    size_t outer = 1, inner = 1;
    for (size_t d = 0; d < axis; ++d) outer *= size_t(t.shapes[0][d]);
    for (size_t d = axis + 1; d < rank; ++d) inner *= size_t(t.shapes[0][d]);
    std::vector<float> want;
    for (size_t o = 0; o < outer; ++o)
      for (size_t k = 0; k < xs.size(); ++k) {
        const size_t block = size_t(t.shapes[k][axis]) * inner;
        want.insert(want.end(), xs[k].begin() + long(o * block), xs[k].begin() + long((o + 1) * block));
      }
    const std::vector<float> got = at_every_thread_count(
        [&](ModelBuilder& b) {
          std::vector<int> ins;
          for (size_t k = 0; k < t.shapes.size(); ++k) ins.push_back(b.add_input("x" + std::to_string(k), t.shapes[k]));
          b.mark_output(b.concat("c", ins, t.axis));
        },
        xs);
    check_equal(got, want);
  }
}

TEST_CASE("threads: Pad of an NHWC image (every dimension) and of a matrix") {
  struct Case {
    std::vector<int> shape, pads;
  };
  for (const Case& t : {Case{{1, 37, 41, 13}, {0, 2, 1, 3, 1, 1, 4, 2}}, Case{{57, 300}, {1, 2, 3, 4}}}) {
    const size_t r = t.shape.size();
    CAPTURE(r);
    const std::vector<float> x = uniform(count(t.shape), 30);
    // Right-aligned to 4 dimensions, as the operator does; the reference walks output coordinates.
    size_t in[4], out[4], begin[4];
    for (size_t d = 0; d < 4; ++d) {
      const bool lead = d < 4 - r;
      in[d] = lead ? 1 : size_t(t.shape[d - (4 - r)]);
      begin[d] = lead ? 0 : size_t(t.pads[d - (4 - r)]);
      out[d] = lead ? 1 : in[d] + begin[d] + size_t(t.pads[d - (4 - r) + r]);
    }
    std::vector<float> want;
    for (size_t a = 0; a < out[0]; ++a)
      for (size_t b = 0; b < out[1]; ++b)
        for (size_t c = 0; c < out[2]; ++c)
          for (size_t d = 0; d < out[3]; ++d) {
            const size_t i[4] = {a - begin[0], b - begin[1], c - begin[2], d - begin[3]};  // wraps when outside
            const bool inside = i[0] < in[0] && i[1] < in[1] && i[2] < in[2] && i[3] < in[3];
            want.push_back(inside ? x[((i[0] * in[1] + i[1]) * in[2] + i[2]) * in[3] + i[3]] : 0.25f);
          }
    const std::vector<float> got = at_every_thread_count(
        [&](ModelBuilder& b) { b.mark_output(b.pad("p", b.add_input("x", t.shape), t.pads, 0.25f)); }, {x});
    check_equal(got, want);
  }
}

TEST_CASE("threads: plain-loop pooling (AvgPool counting padding, 1x1 windows)") {
  struct Case {
    bool max;
    int kernel, stride, pad;
  };
  const std::vector<int> shape{2, 45, 43, 24};
  const Nhwc s{2, 45, 43, 24};
  const std::vector<float> x = uniform(count(shape), 40);
  for (const Case& t : {Case{false, 3, 2, 1}, Case{false, 1, 2, 0}, Case{true, 1, 1, 0}}) {
    CAPTURE(t.max);
    CAPTURE(t.kernel);
    Pool2DParams p = square_window(t.kernel, t.stride, t.pad);
    p.count_include_pad = !t.max;
    const std::vector<float> want = pool_reference(s, t.kernel, t.stride, t.pad, [&](int n, int top, int left, int ch) {
      float acc = t.max ? -INFINITY : 0.0f;
      for (int iy = std::max(top, 0); iy < std::min(top + t.kernel, s.h); ++iy)
        for (int ix = std::max(left, 0); ix < std::min(left + t.kernel, s.w); ++ix)
          acc = t.max ? std::max(acc, x[s.at(n, iy, ix, ch)]) : acc + x[s.at(n, iy, ix, ch)];
      return t.max ? acc : acc / float(t.kernel * t.kernel);  // count_include_pad
    });
    const std::vector<float> got = at_every_thread_count(
        [&](ModelBuilder& b) {
          const int in = b.add_input("x", shape);
          b.mark_output(t.max ? b.max_pool("mp", in, p) : b.avg_pool("ap", in, p));
        },
        {x});
    check_equal(got, want);
  }
}

TEST_CASE("threads: BinaryFullyConnected at batch 1 (K 4096, O 1000) splits output channels, same bytes") {
  // One pixel: the kernel splits the output channels over the pool (bconv.cc partition()); the float output
  // (clamped) and the bitpacked one (read back through Dequantize) must not depend on the thread count.
  const int k = 4096, o = 1000;
  const std::vector<float> x = uniform(size_t(k), 60), w = signs(size_t(o) * k, 61);
  const std::vector<float> m = uniform(size_t(o), 62, -0.1f, 0.1f), bias = uniform(size_t(o), 63, -3.0f, 3.0f);
  const std::vector<float> sx = sign_of(x);
  std::vector<float> want(size_t(2) * o);
  for (int j = 0; j < o; ++j) {
    int32_t dot = 0;
    for (int i = 0; i < k; ++i) dot += int32_t(sx[size_t(i)] * w[size_t(j) * k + i]);
    const float product = m[size_t(j)] * float(dot);
    const float y = product + bias[size_t(j)];
    want[size_t(j)] = std::min(std::max(y, -2.0f), 2.5f);
    want[size_t(o + j)] = sign_value(y < 0);
  }
  const std::vector<float> got = at_every_thread_count(
      [&](ModelBuilder& b) {
        const int q = b.quantize("sign", b.add_input("x", {1, k}));
        const int fc = b.binary_fully_connected("bfc", q, o, w, m, bias, {false, -2.0f, 2.5f});
        const int bits = b.binary_fully_connected("bfc_bits", q, o, w, m, bias, {true});
        b.mark_output(b.concat("both", {fc, b.dequantize("d", bits)}, -1));
      },
      {x});
  check_equal(got, want);
}

TEST_CASE("threads: synthetic Bi-Real-18 (binary and 2-bit activations) is identical at threads 1, 2, 3") {
  for (int bits : {1, 2}) {
    CAPTURE(bits);
    synth::BiRealOptions o = bireal_options(32, bits);
    o.seed = 5;
    const std::unique_ptr<Model> model = load_model(bireal_bytes(o));
    const std::vector<float> x = uniform(32 * 32 * 3, 50);
    std::vector<float> first;
    for (int threads : {1, 2, 3}) {
      CAPTURE(threads);
      InterpreterOptions options;
      options.threads = threads;
      std::unique_ptr<Interpreter> interp;
      const Status c = Interpreter::create(*model, options, &interp);
      REQUIRE_MESSAGE(c.ok(), c.message());
      const std::vector<float> y = run(*interp, {x});
      if (first.empty()) first = y;
      REQUIRE(y.size() == first.size());
      CHECK(std::memcmp(y.data(), first.data(), y.size() * sizeof(float)) == 0);
    }
  }
}

}  // namespace
}  // namespace onebit::test

namespace onebit::test {

TEST_CASE("threads: an int8 stem (7x7 / 2 over 3 channels: im2col split over rows, then qc8) gives the same bytes") {
  // Inputs on the input grid and weights q * scale, so the only error against the double reference is the
  // output's rounding (half a quantum) plus XNNPACK's float32 requantization: within one quantum.
  const Nhwc s{1, 45, 38, 3};
  const int o = 16, k = 7;
  Int8Params q;
  q.input_scale = 1.0f / 64, q.input_zero_point = 3;
  q.output_scale = 0.05f, q.output_zero_point = -2;
  std::vector<int8_t> qw(size_t(o * 3 * k * k));
  std::vector<float> x(s.h * s.w * s.c), ws(o), bias(o);
  uint32_t seed = 11;
  auto next = [&seed]() { return seed = seed * 1664525u + 1013904223u, seed >> 8; };
  for (int8_t& v : qw) v = int8_t(int(next() % 255) - 127);
  for (int i = 0; i < o; ++i) ws[size_t(i)] = 0.0005f * float(1 + i % 5), bias[size_t(i)] = 0.1f * float(i % 7 - 3);
  for (float& v : x) v = q.input_scale * float(int(next() % 200) - 100);
  Conv2DParams p;
  p.kernel_h = p.kernel_w = k;
  p.stride_h = p.stride_w = 2;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 3;
  const std::vector<float> y = at_every_thread_count(
      [&](ModelBuilder& b) {
        b.mark_output(b.conv2d("stem", b.add_input("x", {1, s.h, s.w, 3}), o, Weights::int8(qw, ws, q), bias, p));
      },
      {x});
  const int oh = (s.h + 6 - k) / 2 + 1, ow = (s.w + 6 - k) / 2 + 1;
  REQUIRE(y.size() == size_t(oh * ow * o));
  for (int oy = 0; oy < oh; ++oy)
    for (int ox = 0; ox < ow; ++ox)
      for (int oc = 0; oc < o; ++oc) {
        double acc = bias[size_t(oc)];
        for (int ky = 0; ky < k; ++ky)
          for (int kx = 0; kx < k; ++kx) {
            const int iy = oy * 2 - 3 + ky, ix = ox * 2 - 3 + kx;
            if (iy < 0 || ix < 0 || iy >= s.h || ix >= s.w) continue;
            for (int c = 0; c < 3; ++c)
              acc += double(x[s.at(0, iy, ix, c)]) * ws[size_t(oc)] * qw[size_t(((oc * 3 + c) * k + ky) * k + kx)];
          }
        const double lo = q.output_scale * (-128 - q.output_zero_point), hi = q.output_scale * (127 - q.output_zero_point);
        const double want = std::min(hi, std::max(lo, acc));
        INFO("y " << oy << " x " << ox << " c " << oc);
        CHECK(std::fabs(y[size_t((oy * ow + ox) * o + oc)] - want) <= q.output_scale * 1.0001);
      }
}

}  // namespace onebit::test
