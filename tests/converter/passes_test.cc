// Pass-level tests on tiny hand-built ONNX graphs: what each pass decides, without running a model.
#include <doctest/doctest.h>

#include <cmath>

#include "binary_activation.h"
#include "binary_conv.h"
#include "constant_fold.h"
#include "fold.h"
#include "onnx_reader.h"
#include "onnx_test_graph.h"
#include "plan.h"

using onebit::Status;
using onebit::converter::FoldedConstants;
using onebit::converter::Graph;
using onebit::converter::Plan;
using onebit::testing::OnnxTestGraph;

namespace {

std::vector<float> signs(size_t n, uint32_t seed) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) {
    seed = seed * 1664525u + 1013904223u;
    v[i] = (seed >> 31) ? -1.0f : 1.0f;
  }
  return v;
}

// Runs the passes up to (and including) fuse_signs.
Status run_passes(const OnnxTestGraph& t, Graph* g, Plan* plan) {
  Status s = onebit::converter::read_onnx_bytes(t.bytes(), "test", g);
  FoldedConstants c;
  if (s.ok()) s = onebit::converter::fold_constants(g, &c);
  if (s.ok()) s = onebit::converter::detect_binary_activations(*g, plan);
  if (s.ok()) s = onebit::converter::detect_binary_convs(*g, plan);
  if (s.ok()) s = onebit::converter::fold_output_transforms(*g, plan);
  if (s.ok()) s = onebit::converter::fuse_signs(*g, plan);
  return s;
}

// x[1,4,5,5] -> Sign -> [Pad] -> Conv(out 3, k3) -> y
OnnxTestGraph sign_conv(const std::vector<float>& weights, float pad_value, bool use_pad, int64_t conv_pad) {
  OnnxTestGraph t;
  t.input("x", {1, 4, 5, 5});
  t.initializer("w", {3, 4, 3, 3}, weights);
  t.node("Sign", {"x"}, {"s"}, "sign1");
  std::string conv_in = "s";
  if (use_pad) {
    t.initializer_i64("pads", {8}, {0, 0, 1, 1, 0, 0, 1, 1});
    t.initializer("pad_value", {}, {pad_value});
    t.node("Pad", {"s", "pads", "pad_value"}, {"p"}, "pad1");
    conv_in = "p";
  }
  auto& conv = t.node("Conv", {conv_in, "w"}, {"y"}, "conv1");
  OnnxTestGraph::attr(conv, "kernel_shape", std::vector<int64_t>{3, 3});
  OnnxTestGraph::attr(conv, "pads", std::vector<int64_t>{conv_pad, conv_pad, conv_pad, conv_pad});
  t.output("y");
  return t;
}

}  // namespace

TEST_CASE("split_sign_magnitude: ±1, ±s per channel, and rejects") {
  std::vector<float> s, m;
  std::string why;
  CHECK(onebit::converter::split_sign_magnitude({1, -1, 0.5f, -0.5f}, 2, &s, &m, &why));
  CHECK(s == std::vector<float>{1, -1, 1, -1});
  CHECK(m == std::vector<float>{1, 0.5f});
  CHECK_FALSE(onebit::converter::split_sign_magnitude({1, -0.9f}, 1, &s, &m, &why));
  CHECK(why.find("not ±1") != std::string::npos);
  CHECK_FALSE(onebit::converter::split_sign_magnitude({1, 0}, 1, &s, &m, &why));
  CHECK(why.find("exactly 0") != std::string::npos);
}

TEST_CASE("padding: conv pads = zero, Pad +1 = one, Pad -1 = minus one, Pad 0 adds to zero pads") {
  struct Case {
    bool use_pad;
    float value;
    int64_t conv_pad;
    onebit::kernels::PadMode mode;
    int pad;
  } cases[] = {
      {false, 0, 1, onebit::kernels::PadMode::kZero, 1},
      {true, 1, 0, onebit::kernels::PadMode::kOne, 1},
      {true, -1, 0, onebit::kernels::PadMode::kMinusOne, 1},
      {true, 0, 1, onebit::kernels::PadMode::kZero, 2},
  };
  for (const Case& c : cases) {
    CAPTURE(c.use_pad);
    CAPTURE(c.value);
    CAPTURE(c.conv_pad);
    Graph g;
    Plan plan;
    Status s = run_passes(sign_conv(signs(108, 1), c.value, c.use_pad, c.conv_pad), &g, &plan);
    REQUIRE_MESSAGE(s.ok(), s.message());
    REQUIRE(plan.convs.count("conv1") == 1);
    const auto& spec = plan.convs.at("conv1");
    CHECK(spec.params.pad_mode == c.mode);
    CHECK(spec.params.pad_top == c.pad);
    CHECK(spec.params.pad_right == c.pad);
    CHECK(spec.input == "s");
    CHECK(spec.multiplier == std::vector<float>(3, 1.0f));
  }
}

TEST_CASE("padding: a ±1 Pad plus the conv's own zero pads is rejected, naming the conv") {
  Graph g;
  Plan plan;
  Status s = run_passes(sign_conv(signs(108, 1), 1.0f, true, 1), &g, &plan);
  REQUIRE_FALSE(s.ok());
  CHECK(s.message().find("conv1") != std::string::npos);
  CHECK(s.message().find("(Conv)") != std::string::npos);
  CHECK(s.message().find("mixed padding") != std::string::npos);
}

TEST_CASE("Sign feeding a conv with float weights is an error naming the node") {
  std::vector<float> w = signs(108, 2);
  w[7] = 0.3f;
  Graph g;
  Plan plan;
  Status s = run_passes(sign_conv(w, 0, false, 1), &g, &plan);
  REQUIRE_FALSE(s.ok());
  CHECK(s.message().find("node 'conv1' (Conv)") != std::string::npos);
  CHECK(s.message().find("not binary") != std::string::npos);
}

TEST_CASE("Sign(W) of a float initializer folds into ±1 weights; ±s weights give the multiplier") {
  OnnxTestGraph t;
  t.input("x", {1, 4, 5, 5});
  std::vector<float> wf = signs(108, 3);
  for (size_t i = 0; i < wf.size(); ++i) wf[i] *= 0.01f * float(i % 7 + 1);
  t.initializer("wf", {3, 4, 3, 3}, wf);
  t.node("Sign", {"wf"}, {"wb"}, "sign_w");
  t.node("Sign", {"x"}, {"s"}, "sign_x");
  auto& conv = t.node("Conv", {"s", "wb"}, {"y"}, "conv1");
  OnnxTestGraph::attr(conv, "kernel_shape", std::vector<int64_t>{3, 3});
  t.output("y");
  Graph g;
  Plan plan;
  Status s = run_passes(t, &g, &plan);
  REQUIRE_MESSAGE(s.ok(), s.message());
  REQUIRE(plan.convs.count("conv1") == 1);
  const auto& spec = plan.convs.at("conv1");
  for (size_t i = 0; i < wf.size(); ++i) CHECK(spec.weights[i] == (wf[i] < 0 ? -1.0f : 1.0f));
  CHECK(spec.multiplier == std::vector<float>(3, 1.0f));
  CHECK(plan.quantizes.count("sign_x") == 1);
  CHECK(plan.quantizes.count("sign_w") == 0);
}

TEST_CASE("fold: alpha, bias and BatchNormalization fold into the transform; BN -> Sign -> conv becomes bitpacked") {
  // x -> Sign -> conv1(±s, bias) -> Mul(alpha) -> BN -> Sign -> conv2 -> y
  OnnxTestGraph t;
  t.input("x", {1, 4, 5, 5});
  std::vector<float> w1 = signs(3 * 4 * 9, 4);
  const float scale[3] = {0.5f, 2.0f, 1.5f};
  for (size_t i = 0; i < w1.size(); ++i) w1[i] *= scale[i / 36];
  t.initializer("w1", {3, 4, 3, 3}, w1);
  t.initializer("b1", {3}, {0.1f, -0.2f, 0.3f});
  t.initializer("alpha", {1, 3, 1, 1}, {2.0f, 3.0f, 4.0f});
  t.initializer("gamma", {3}, {1.0f, -2.0f, 0.5f});
  t.initializer("beta", {3}, {0.25f, 0.5f, -1.0f});
  t.initializer("mean", {3}, {0.1f, 0.2f, 0.3f});
  t.initializer("var", {3}, {4.0f, 1.0f, 0.25f});
  t.initializer("w2", {2, 3, 1, 1}, signs(6, 5));
  t.node("Sign", {"x"}, {"s1"}, "sign1");
  auto& c1 = t.node("Conv", {"s1", "w1", "b1"}, {"c1"}, "conv1");
  OnnxTestGraph::attr(c1, "pads", std::vector<int64_t>{1, 1, 1, 1});
  t.node("Mul", {"c1", "alpha"}, {"m1"}, "mul_alpha");
  auto& bn = t.node("BatchNormalization", {"m1", "gamma", "beta", "mean", "var"}, {"bn1"}, "bn1");
  OnnxTestGraph::attr(bn, "epsilon", 0.0f);
  t.node("Sign", {"bn1"}, {"s2"}, "sign2");
  t.node("Conv", {"s2", "w2"}, {"y"}, "conv2");
  t.output("y");
  Graph g;
  Plan plan;
  Status s = run_passes(t, &g, &plan);
  REQUIRE_MESSAGE(s.ok(), s.message());
  const auto& spec = plan.convs.at("conv1");
  CHECK(spec.params.bitpacked_output);
  CHECK(spec.output == "s2");
  const float b1[3] = {0.1f, -0.2f, 0.3f}, alpha[3] = {2, 3, 4}, gamma[3] = {1, -2, 0.5f}, beta[3] = {0.25f, 0.5f, -1},
              mean[3] = {0.1f, 0.2f, 0.3f}, sigma[3] = {2, 1, 0.5f};
  for (int c = 0; c < 3; ++c) {
    CAPTURE(c);
    CHECK(spec.multiplier[size_t(c)] == doctest::Approx(scale[c] * alpha[c] * gamma[c] / sigma[c]));
    CHECK(spec.bias[size_t(c)] == doctest::Approx((b1[c] * alpha[c] - mean[c]) * gamma[c] / sigma[c] + beta[c]));
  }
  CHECK(plan.quantizes.count("sign2") == 0);
  CHECK(plan.folded_into.at("bn1").find("conv1") != std::string::npos);
  CHECK(plan.folded_into.at("sign2").find("bitpacked") != std::string::npos);
}

TEST_CASE("fold: BatchNormalization -> Sign on a float tensor becomes a thresholded Quantize") {
  OnnxTestGraph t;
  t.input("x", {1, 3, 4, 4});
  t.initializer("gamma", {3}, {2.0f, -0.5f, 0.0f});
  t.initializer("beta", {3}, {1.0f, 0.25f, -0.5f});
  t.initializer("mean", {3}, {0.5f, -1.0f, 0.0f});
  t.initializer("var", {3}, {1.0f, 4.0f, 1.0f});
  t.initializer("lo", {}, {-1.0f});
  t.initializer("hi", {}, {1.0f});
  t.initializer("w", {2, 3, 1, 1}, signs(6, 6));
  auto& bn = t.node("BatchNormalization", {"x", "gamma", "beta", "mean", "var"}, {"bn"}, "bn");
  OnnxTestGraph::attr(bn, "epsilon", 0.0f);
  t.node("Clip", {"bn", "lo", "hi"}, {"ht"}, "hardtanh");
  t.node("Sign", {"ht"}, {"s"}, "sign");
  t.node("Conv", {"s", "w"}, {"y"}, "conv");
  t.output("y");
  Graph g;
  Plan plan;
  Status s = run_passes(t, &g, &plan);
  REQUIRE_MESSAGE(s.ok(), s.message());
  const auto& q = plan.quantizes.at("sign");
  CHECK(q.source == "x");
  REQUIRE(q.threshold.size() == 3);
  CHECK(q.threshold[0] == doctest::Approx(0.5f - 1.0f * 1.0f / 2.0f));   // mean - beta sigma / gamma
  CHECK(q.threshold[1] == doctest::Approx(-1.0f - 0.25f * 2.0f / -0.5f));
  CHECK(q.flip == std::vector<bool>{false, true, false});
  CHECK(q.constant == std::vector<int8_t>{-1, -1, 1});
  CHECK(plan.folded_into.count("hardtanh") == 1);
  CHECK(plan.folded_into.count("bn") == 1);
}

TEST_CASE("reader: non-ONNX bytes, truncated files and missing initializers are errors") {
  Graph g;
  Status s = onebit::converter::read_onnx_bytes("this is not a protobuf at all", "junk.onnx", &g);
  REQUIRE_FALSE(s.ok());
  CHECK(s.message().find("junk.onnx") != std::string::npos);
  CHECK(s.message().find("not an ONNX model") != std::string::npos);

  const std::string full = sign_conv(signs(108, 1), 0, false, 1).bytes();
  Graph g2;
  s = onebit::converter::read_onnx_bytes(full.substr(0, full.size() / 2), "half.onnx", &g2);
  CHECK_FALSE(s.ok());

  OnnxTestGraph t;
  t.input("x", {1, 4, 5, 5});
  t.node("Sign", {"x"}, {"s"}, "sign1");
  t.node("Conv", {"s", "w_missing"}, {"y"}, "conv1");
  t.output("y");
  Graph g3;
  s = onebit::converter::read_onnx_bytes(t.bytes(), "missing.onnx", &g3);
  REQUIRE_FALSE(s.ok());
  CHECK(s.message().find("node 'conv1' (Conv)") != std::string::npos);
  CHECK(s.message().find("w_missing") != std::string::npos);
}
