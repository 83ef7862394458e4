// Helpers of the runtime suite: run a builder's model, deterministic random data, and plain-loop float
// references (NHWC activations, OIHW weights as the builder takes them) that the runtime is checked against.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "model_access.h"
#include "onebit/builder/model_builder.h"
#include "onebit/interpreter.h"
#include "onebit/model.h"

namespace onebit::test {

inline std::vector<float> uniform(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

inline std::vector<float> signs(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<float> v(n);
  for (float& x : v) x = (rng() & 1) ? 1.0f : -1.0f;
  return v;
}

inline std::vector<float> sign_of(const std::vector<float>& x) {
  std::vector<float> r(x.size());
  for (size_t i = 0; i < x.size(); ++i) r[i] = x[i] < 0 ? -1.0f : 1.0f;
  return r;
}

inline size_t count(const std::vector<int>& shape) {
  size_t n = 1;
  for (int d : shape) n *= size_t(d);
  return n;
}

struct Loaded {
  std::unique_ptr<Model> model;
  std::unique_ptr<Interpreter> interp;
};

/// finish() + load + create; REQUIREs success.
inline Loaded load(ModelBuilder& b, const InterpreterOptions& options = {}) {
  std::vector<uint8_t> bytes;
  Status s = b.finish(&bytes);
  REQUIRE_MESSAGE(s.ok(), s.message());
  Loaded l;
  s = Model::load_buffer(bytes.data(), bytes.size(), &l.model);
  REQUIRE_MESSAGE(s.ok(), s.message());
  s = Interpreter::create(*l.model, options, &l.interp);
  REQUIRE_MESSAGE(s.ok(), s.message());
  return l;
}

/// Runs the model on `inputs` (one vector per graph input) and returns output `k`.
inline std::vector<float> run(Interpreter& interp, const std::vector<std::vector<float>>& inputs, size_t k = 0) {
  REQUIRE(inputs.size() == interp.input_count());
  for (size_t i = 0; i < inputs.size(); ++i) {
    REQUIRE(inputs[i].size() == count(interp.input_info(i).shape));
    std::copy(inputs[i].begin(), inputs[i].end(), interp.input(i));
  }
  const Status s = interp.invoke();
  REQUIRE_MESSAGE(s.ok(), s.message());
  return std::vector<float>(interp.output(k), interp.output(k) + count(interp.output_info(k).shape));
}

inline std::vector<float> run(ModelBuilder& b, const std::vector<std::vector<float>>& inputs,
                              const InterpreterOptions& options = {}) {
  Loaded l = load(b, options);
  return run(*l.interp, inputs);
}

/// |a - b| <= tol * max(1, |b|) elementwise, reporting the first mismatch.
inline void check_close(const std::vector<float>& a, const std::vector<float>& b, float tol) {
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    if (!(std::fabs(a[i] - b[i]) <= tol * std::max(1.0f, std::fabs(b[i])))) {
      INFO("element " << i << " of " << a.size() << ": got " << a[i] << ", expected " << b[i]);
      CHECK(false);
      return;
    }
  }
}

struct Nhwc {
  int n, h, w, c;
  size_t at(int in, int ih, int iw, int ic) const { return ((size_t(in) * h + ih) * w + iw) * c + ic; }
};

/// Float convolution, NHWC x, OIHW weights (I = C / groups). Padded taps read `pad_value`.
/// Returns the raw sums (no bias) in double so binary references can apply their own transform.
inline std::vector<double> conv_sums(const std::vector<float>& x, Nhwc xs, const std::vector<float>& w, int out_c,
                                     const Conv2DParams& p, float pad_value, Nhwc* ys) {
  const int oh = (xs.h + p.pad_top + p.pad_bottom - p.dilation_h * (p.kernel_h - 1) - 1) / p.stride_h + 1;
  const int ow = (xs.w + p.pad_left + p.pad_right - p.dilation_w * (p.kernel_w - 1) - 1) / p.stride_w + 1;
  *ys = {xs.n, oh, ow, out_c};
  const int ig = xs.c / p.groups, og = out_c / p.groups;
  std::vector<double> y(size_t(xs.n) * oh * ow * out_c);
  for (int n = 0; n < xs.n; ++n)
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox)
        for (int o = 0; o < out_c; ++o) {
          const int g = o / og;
          double acc = 0;
          for (int ky = 0; ky < p.kernel_h; ++ky)
            for (int kx = 0; kx < p.kernel_w; ++kx) {
              const int iy = oy * p.stride_h - p.pad_top + ky * p.dilation_h;
              const int ix = ox * p.stride_w - p.pad_left + kx * p.dilation_w;
              const bool inside = iy >= 0 && iy < xs.h && ix >= 0 && ix < xs.w;
              for (int i = 0; i < ig; ++i) {
                const double v = inside ? x[xs.at(n, iy, ix, g * ig + i)] : pad_value;
                acc += v * w[((size_t(o) * ig + i) * p.kernel_h + ky) * p.kernel_w + kx];
              }
            }
          y[ys->at(n, oy, ox, o)] = acc;
        }
  return y;
}

}  // namespace onebit::test
