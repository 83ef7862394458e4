// Helpers of the runtime suite: run a builder's model, deterministic random data, and plain-loop float
// references (NHWC activations, OIHW weights as the builder takes them) that the runtime is checked against.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "common/conv_reference.h"
#include "common/rng.h"
#include "model_access.h"
#include "onebit/builder/model_builder.h"
#include "onebit/interpreter.h"
#include "onebit/model.h"
#include "synth/bireal.h"

namespace onebit::test {

using testing::uniform;  // common/rng.h

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

/// Model::load_buffer of `bytes`; REQUIREs success.
inline std::unique_ptr<Model> load_model(const std::vector<uint8_t>& bytes) {
  std::unique_ptr<Model> model;
  const Status s = Model::load_buffer(bytes.data(), bytes.size(), &model);
  REQUIRE_MESSAGE(s.ok(), s.message());
  return model;
}

/// Options of a synthetic Bi-Real-18 (bench/synth) with an input_hw x input_hw x 3 input and 10 classes.
inline synth::BiRealOptions bireal_options(int input_hw, int activation_bits) {
  synth::BiRealOptions o;
  o.input_h = o.input_w = input_hw;
  o.classes = 10;
  o.activation_bits = activation_bits;
  return o;
}

/// The file bytes of the synthetic Bi-Real-18 `o` describes; REQUIREs success.
inline std::vector<uint8_t> bireal_bytes(const synth::BiRealOptions& o) {
  std::vector<uint8_t> bytes;
  REQUIRE(synth::build_bireal18(o, &bytes).ok());
  return bytes;
}

struct Loaded {
  std::unique_ptr<Model> model;
  std::unique_ptr<Interpreter> interp;
};

/// load + create of a model file; REQUIREs success.
inline Loaded load_bytes(const std::vector<uint8_t>& bytes, const InterpreterOptions& options = {}) {
  Loaded l;
  l.model = load_model(bytes);
  const Status s = Interpreter::create(*l.model, options, &l.interp);
  REQUIRE_MESSAGE(s.ok(), s.message());
  return l;
}

/// finish() + load + create; REQUIREs success.
inline Loaded load(ModelBuilder& b, const InterpreterOptions& options = {}) {
  std::vector<uint8_t> bytes;
  const Status s = b.finish(&bytes);
  REQUIRE_MESSAGE(s.ok(), s.message());
  return load_bytes(bytes, options);
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

/// The float stem of the ResNet-like test models: Conv2D "stem", 3x3 pad 1, out_c outputs (weights from
/// `seed`, bias from seed + 1).
inline int float_stem(ModelBuilder& b, int x, int out_c, uint32_t seed) {
  Conv2DParams p;
  p.kernel_h = p.kernel_w = 3;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 1;
  const size_t taps = size_t(b.shape(x)[3]) * 9;
  const std::vector<float> w = uniform(size_t(out_c) * taps, seed), bias = uniform(size_t(out_c), seed + 1);
  return b.conv2d("stem", x, out_c, Weights::float32(w), bias, p);
}

/// The two branches of block `block` ("block<k>/...") of the ResNet-like test models, for the caller to join.
struct BlockBranches {
  int conv, shortcut;
};

/// conv: Sign -> BinaryConv2D 3x3 pad 1 of out_c outputs, stride 2 when `down` (weights from seed + 10 + block,
/// multipliers seed + 20 + block, bias seed + 30 + block); shortcut: x, or when `down` AvgPool 2x2 / 2 and a
/// float 1x1 Conv2D (weights seed + 40, no bias).
inline BlockBranches binary_block(ModelBuilder& b, int x, int block, int out_c, bool down, uint32_t seed) {
  const std::string name = "block" + std::to_string(block);
  const int c = b.shape(x)[3];
  BinaryConv2DParams p;
  p.kernel_h = p.kernel_w = 3;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 1;
  p.stride_h = p.stride_w = down ? 2 : 1;
  const int q = b.quantize(name + "/sign", x);
  BlockBranches r;
  r.conv = b.binary_conv2d(name + "/bconv", q, out_c, signs(size_t(out_c) * c * 9, seed + 10 + block),
                           uniform(size_t(out_c), seed + 20 + block, 0.01f, 0.1f),
                           uniform(size_t(out_c), seed + 30 + block), p);
  r.shortcut = x;
  if (down) {
    Pool2DParams ap;
    ap.kernel_h = ap.kernel_w = ap.stride_h = ap.stride_w = 2;
    r.shortcut = b.avg_pool(name + "/avgpool", x, ap);
    r.shortcut = b.conv2d(name + "/conv1x1", r.shortcut, out_c, Weights::float32(uniform(size_t(out_c) * c, seed + 40)),
                          {}, Conv2DParams());
  }
  return r;
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

/// One geometry of the convolution operator tests: input h x w x c (batch of the test's choosing), out_c
/// outputs, a k x k window, stride, dilation, `pad` (each test derives its own asymmetric borders) and groups.
struct ConvTestCase {
  int h, w, c, out_c, k, stride, dilation, pad, groups;
};

inline std::ostream& operator<<(std::ostream& os, const ConvTestCase& t) {
  return os << "in " << t.h << "x" << t.w << "x" << t.c << ", out_c " << t.out_c << ", k " << t.k << ", stride "
            << t.stride << ", dilation " << t.dilation << ", pad " << t.pad << ", groups " << t.groups;
}

/// `p`'s window, stride, dilation and groups from `t`, and `t.pad` on the top and left (the caller sets the
/// bottom and right).
inline void set_window(const ConvTestCase& t, Conv2DParams* p) {
  p->kernel_h = p->kernel_w = t.k;
  p->stride_h = p->stride_w = t.stride;
  p->dilation_h = p->dilation_w = t.dilation;
  p->pad_top = p->pad_left = t.pad;
  p->groups = t.groups;
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
  const int ig = xs.c / p.groups;
  const onebit::testing::ConvShape shape{xs.n,         xs.h,       xs.w,       xs.c,       oh,         ow,
                                         out_c,        p.kernel_h, p.kernel_w, p.stride_h, p.stride_w, p.dilation_h,
                                         p.dilation_w, p.pad_top,  p.pad_left, p.groups};
  return onebit::testing::direct_conv<double>(shape, [&](std::ptrdiff_t x_at, int o, int ky, int kx, int i) {
    const double v = x_at >= 0 ? x[size_t(x_at)] : pad_value;
    return v * w[((size_t(o) * ig + i) * p.kernel_h + ky) * p.kernel_w + kx];
  });
}

}  // namespace onebit::test
