// Rewrite-rule tests: binary conv / FC / max pool (binary_layers.cc).
// Helpers and conventions: rules_test_util.h.
#include "rules_test_util.h"

using namespace rules_test;

// =========================================================================================================
// binary_layers.cc

namespace {

// x[1, 2, 5, 5] -> Sign -> [Pad(value)] -> Conv(w, bias?, own pads) -> y.
OnnxTestGraph binary_conv_graph(const std::vector<float>& w, const std::vector<float>& bias, int64_t own_pad,
                                bool pad_node, float pad_value, int64_t stride = 1) {
  OnnxTestGraph t;
  t.input("x", {1, 2, 5, 5});
  t.node("Sign", {"x"}, {"s"}, "sign");
  std::string in = "s";
  if (pad_node) {
    add_pad(t, "pad", "s", "sp", pad_value);
    in = "sp";
  }
  t.initializer("w", {3, 2, 3, 3}, w);
  std::vector<std::string> inputs = {in, "w"};
  if (!bias.empty()) {
    t.initializer("bias", {3}, bias);
    inputs.push_back("bias");
  }
  add_conv(t, "conv", inputs, "y", 3, stride, own_pad);
  t.output("y");
  return t;
}

}  // namespace

TEST_CASE("rules: binary_conv") {
  Rng r(12);
  const std::vector<float> signs = r.signs(54);
  const std::vector<float> mags = {0.5f, 0.125f, 2.0f};
  std::vector<float> scaled = signs;
  for (size_t i = 0; i < scaled.size(); ++i) scaled[i] *= mags[i / 18];
  const RefTensor x{{1, 2, 5, 5}, r.normal(50)};
  auto binary_conv = [](Rewritten& rw) -> const cv::Node& {
    const cv::Node& c = node(rw.g, "conv");
    REQUIRE(c.op == cv::ops::kBinaryConv2D);
    CHECK(rw.g.value(c.in(0)).dtype == cv::DType::kBits);
    CHECK(rw.g.producer(c.in(0))->name == "sign");
    return c;
  };
  SUBCASE("fires: ±1 weights, the conv's own zero pads") {
    OnnxTestGraph t = binary_conv_graph(signs, {}, 1, false, 0, 2);
    Rewritten rw = rewrite(t);
    CHECK(rw.fired("binary_conv") == 1);
    const cv::Node& c = binary_conv(rw);
    CHECK(const_input(rw.g, c, 1) == signs);
    CHECK(const_input(rw.g, c, 2) == std::vector<float>(3, 1.0f));
    CHECK(const_input(rw.g, c, 3) == std::vector<float>(3, 0.0f));
    CHECK(pads_of(c.conv_params()) == std::vector<int64_t>{1, 1, 1, 1});
    CHECK(strides_of(c.conv_params()) == std::vector<int64_t>{2, 2});
    CHECK(std::string(onebit::core::pad_mode_name(c.conv_params().pad_mode)) == "zero");
    check_end_to_end(t, x, "y");
  }
  SUBCASE("fires: ±s weights with a bias -> signs, multiplier s, bias") {
    const std::vector<float> bias = {0.1f, -0.2f, 0.3f};
    OnnxTestGraph t = binary_conv_graph(scaled, bias, 1, false, 0);
    Rewritten rw = rewrite(t);
    const cv::Node& c = binary_conv(rw);
    CHECK(const_input(rw.g, c, 1) == signs);
    check_close(const_input(rw.g, c, 2), mags);
    check_close(const_input(rw.g, c, 3), bias);
    check_end_to_end(t, x, "y");
  }
  SUBCASE("fires: Pad +1 / -1 / 0 in front -> pad_mode one / minus_one / zero") {
    struct Case { float value; int64_t own; const char* mode; std::vector<int64_t> pads; };
    for (const Case& k : {Case{1.0f, 0, "one", {1, 1, 1, 1}}, Case{-1.0f, 0, "minus_one", {1, 1, 1, 1}},
                          Case{0.0f, 0, "zero", {1, 1, 1, 1}}, Case{0.0f, 1, "zero", {2, 2, 2, 2}}}) {
      CAPTURE(k.value);
      CAPTURE(k.own);
      OnnxTestGraph t = binary_conv_graph(scaled, {}, k.own, true, k.value);
      Rewritten rw = rewrite(t);
      const cv::Node& c = binary_conv(rw);
      CHECK(std::string(onebit::core::pad_mode_name(c.conv_params().pad_mode)) == k.mode);
      CHECK(pads_of(c.conv_params()) == k.pads);
      CHECK(find_node(rw.g, "pad") == cv::kNoId);
      check_end_to_end(t, x, "y");
    }
  }
  SUBCASE("error: a ±1 Pad and the conv's own pads (mixed padding), naming the conv") {
    for (float v : {1.0f, -1.0f}) {
      check_rewrite_fails(binary_conv_graph(signs, {}, 1, true, v), {}, {"node 'conv' (Conv)", "mixed padding"});
    }
  }
  SUBCASE("does not fire: float weights (or a weight of 0); the conversion says 'not binary' naming the conv") {
    std::vector<float> zero = signs;
    zero[5] = 0.0f;
    std::vector<float> mixed = signs;
    mixed[20] *= 1.5f;  // channel 1 is not ±s
    for (const std::vector<float>& w : {r.normal(54), zero, mixed}) {
      OnnxTestGraph t = binary_conv_graph(w, {}, 1, false, 0);
      CHECK_FALSE(matches(t, "binary_conv", "conv", {{"sign_to_quantize", "sign"}}));
      check_convert_fails(t, {"node 'conv' (Conv)", "not binary"});
    }
  }
  SUBCASE("does not fire: a float input") {
    OnnxTestGraph t = chain({1, 2, 5, 5}, {{"Conv", "conv", "y", {"^", "w"}, conv_attrs(3, 1, 1)}});
    t.initializer("w", {3, 2, 3, 3}, signs);
    CHECK_FALSE(matches(t, "binary_conv", "conv"));
  }
}

TEST_CASE("rules: binary_fully_connected") {
  const int64_t K = 6, O = 3;
  Rng r(13);
  const std::vector<float> signs = r.signs(size_t(O * K));  // [O][K]
  const std::vector<float> mags = {0.5f, 1.0f, 0.25f};
  // x[2, K] -> Sign -> Gemm(transB, alpha, beta, bias) / MatMul -> y
  auto gemm = [&](const std::vector<float>& w_ok, float alpha, float beta, bool with_bias) {
    OnnxTestGraph t;
    t.input("x", {2, K});
    t.node("Sign", {"x"}, {"s"}, "sign");
    t.initializer("w", {O, K}, w_ok);
    std::vector<std::string> in = {"s", "w"};
    if (with_bias) {
      t.initializer("b", {O}, {0.5f, -1.0f, 0.25f});
      in.push_back("b");
    }
    Attrs a = {{"transB", 1}};
    if (alpha != 1.0f) a.push_back({"alpha", alpha});
    if (beta != 1.0f) a.push_back({"beta", beta});
    t.node("Gemm", in, {"y"}, "fc", a);
    t.output("y");
    return t;
  };
  std::vector<float> scaled = signs;
  for (size_t i = 0; i < scaled.size(); ++i) scaled[i] *= mags[i / size_t(K)];
  SUBCASE("fires: Gemm transB with ±s weights, alpha and beta") {
    Rewritten rw = rewrite(gemm(scaled, 2.0f, 3.0f, true));
    CHECK(rw.fired("binary_fully_connected") == 1);
    const cv::Node& f = node(rw.g, "fc");
    REQUIRE(f.op == cv::ops::kBinaryFullyConnected);
    CHECK(rw.g.value(f.in(0)).dtype == cv::DType::kBits);
    CHECK(const_input(rw.g, f, 1) == signs);
    check_close(const_input(rw.g, f, 2), {1.0f, 2.0f, 0.5f});  // alpha * s
    check_close(const_input(rw.g, f, 3), {1.5f, -3.0f, 0.75f});  // beta * bias
    check_end_to_end(gemm(scaled, 1.0f, 1.0f, true), RefTensor{{2, K}, r.normal(size_t(2 * K))}, "y");
  }
  SUBCASE("fires: MatMul with [K, O] weights (transposed into [O, K] signs)") {
    OnnxTestGraph t;
    t.input("x", {2, K});
    t.node("Sign", {"x"}, {"s"}, "sign");
    add_fc(t, "fc", "s", "y", O, K, scaled, true);  // [K, O] weights
    t.output("y");
    Rewritten rw = rewrite(t);
    const cv::Node& f = node(rw.g, "fc");
    REQUIRE(f.op == cv::ops::kBinaryFullyConnected);
    CHECK(rw.g.constant(f.in(1))->shape == std::vector<int64_t>{O, K});
    CHECK(const_input(rw.g, f, 1) == signs);
    check_close(const_input(rw.g, f, 2), mags);
    check_close(const_input(rw.g, f, 3), {0, 0, 0});
  }
  SUBCASE("does not fire: float weights; the conversion warns, and fails with strict") {
    OnnxTestGraph t = gemm(r.normal(size_t(O * K)), 1.0f, 1.0f, true);
    CHECK_FALSE(matches(t, "binary_fully_connected", "fc", {{"sign_to_quantize", "sign"}}));
    Converted c = convert(t);
    REQUIRE_MESSAGE(c.status.ok(), c.status.message());
    CHECK(contains(c.result.summary, "warning:"));
    CHECK(contains(c.result.summary, "node 'fc' (Gemm)"));
    CHECK(c.result.warnings.size() == 1);
    cv::ConvertOptions strict;
    strict.strict = true;
    check_convert_fails(t, {"node 'fc' (Gemm)"}, strict);
  }
}

TEST_CASE("rules: binary_max_pool") {
  auto graph = [](int64_t size, bool ceil, std::vector<int64_t> dilations = {}) {
    Attrs a = pool_attrs(3, 2);
    a.push_back({"pads", {1, 1, 1, 1}});
    if (ceil) a.push_back({"ceil_mode", 1});
    if (!dilations.empty()) a.push_back({"dilations", dilations});
    return chain({1, 2, size, size}, {{"Sign", "sign", "s"}, {"MaxPool", "pool", "y", {}, a}});
  };
  SUBCASE("fires: MaxPool of bits -> BinaryMaxPool2D + Dequantize") {
    OnnxTestGraph t = graph(6, false);
    Rewritten rw = rewrite(t);
    CHECK(rw.fired("binary_max_pool") == 1);
    const cv::Node& p = node(rw.g, "pool");
    REQUIRE(p.op == cv::ops::kBinaryMaxPool2D);
    CHECK(rw.g.value(p.in(0)).dtype == cv::DType::kBits);
    CHECK(rw.g.value(p.out()).dtype == cv::DType::kBits);
    CHECK(kernel_of(p.pool_params()) == std::vector<int64_t>{3, 3});
    CHECK(strides_of(p.pool_params()) == std::vector<int64_t>{2, 2});
    CHECK(pads_of(p.pool_params()) == std::vector<int64_t>{1, 1, 1, 1});
    CHECK(sole_reader(rw.g, p.out()).op == cv::ops::kDequantize);
    Rng r(14);
    check_end_to_end(t, RefTensor{{1, 2, 6, 6}, r.normal(72)}, "y");
  }
  SUBCASE("does not fire: a float input, ceil_mode that adds windows, dilations") {
    CHECK_FALSE(matches(chain({1, 2, 6, 6}, {{"MaxPool", "pool", "y", {}, pool_attrs(3, 2)}}), "binary_max_pool",
                        "pool"));
    for (const OnnxTestGraph& t : {graph(6, true), graph(7, false, {2, 2})})
      CHECK_FALSE(matches(t, "binary_max_pool", "pool", {{"sign_to_quantize", "sign"}}));
  }
}

TEST_CASE("rules: requantize") {
  SUBCASE("fires: Sign(Sign(x)) -> one Quantize") {
    Rewritten rw = rewrite(chain({1, 2, 3, 3}, {{"Sign", "sign1", "s1"}, {"Sign", "sign2", "y"}}));
    CHECK(rw.fired("requantize") == 1);
    CHECK(rw.count(cv::ops::kQuantize) == 1);
    const cv::Node& q = node(rw.g, "sign1");
    const cv::Node& d = sole_reader(rw.g, q.out());
    CHECK(d.op == cv::ops::kDequantize);
    CHECK(d.out() == rw.g.find_value("y"));
  }
  SUBCASE("does not fire: a Quantize with a threshold (Sign(BN(Sign(x))))") {
    Rng r(15);
    OnnxTestGraph t;
    t.input("x", {1, 2, 3, 3});
    t.node("Sign", {"x"}, {"s1"}, "sign1");
    add_bn(t, r, "bn", "s1", "b", 2);
    t.node("Sign", {"b"}, {"y"}, "sign2");
    t.output("y");
    cv::Graph g = import_fired(t, {{"sign_to_quantize", "sign1"}, {"sign_to_quantize", "sign2"}});
    CHECK_FALSE(matches(g, "requantize", "sign2"));  // reads the BN
    REQUIRE(fire(g, "affine_into_quantize", "sign2").ok());
    CHECK_FALSE(matches(g, "requantize", "sign2"));  // reads the Dequantize, but has scale / shift
    CHECK_FALSE(matches(g, "requantize", "sign1"));  // reads the graph input
  }
}
