// Rewrite-rule tests: binary activations (binary_activation.cc).
// Helpers and conventions: rules_test_util.h.
#include "rules_test_util.h"

using namespace rules_test;

// =========================================================================================================
// binary_activation.cc

TEST_CASE("rules: sign_of_clip") {
  auto graph = [](float lo, float hi) {
    OnnxTestGraph t = chain({1, 2, 3, 3}, {{"Clip", "clip", "c", {"^", "lo", "hi"}}, {"Sign", "sign", "y"}});
    t.initializer("lo", {}, {lo});
    t.initializer("hi", {}, {hi});
    return t;
  };
  SUBCASE("fires: Sign(Clip(x, -1, 1)) -> Sign(x)") {
    cv::Graph g = import(graph(-1, 1));
    REQUIRE(fire(g, "sign_of_clip", "sign").ok());
    CHECK(node(g, "sign").in(0) == g.find_value("x"));
    Rewritten r = rewrite(graph(-1, 1));
    CHECK(r.fired("sign_of_clip") == 1);
    CHECK(r.ops() == std::vector<std::string>{cv::ops::kQuantize, cv::ops::kDequantize});
    CHECK(node(r.g, "sign").in(0) == r.g.find_value("x"));
  }
  SUBCASE("does not fire: Clip(0, 1) or Clip(-1, 0) (a bound at 0 makes zeros)") {
    for (const auto& b : {std::make_pair(0.0f, 1.0f), std::make_pair(-1.0f, 0.0f), std::make_pair(0.5f, 1.0f)}) {
      CAPTURE(b.first);
      CHECK_FALSE(matches(graph(b.first, b.second), "sign_of_clip", "sign"));
    }
  }
}

TEST_CASE("rules: sign_to_quantize") {
  SUBCASE("fires: Sign of a float activation -> Dequantize(Quantize(x))") {
    for (const std::vector<int64_t>& shape : {std::vector<int64_t>{1, 2, 3, 3}, std::vector<int64_t>{2, 5}}) {
      cv::Graph g = import_fired(chain(shape, {{"Sign", "sign", "y"}}), {{"sign_to_quantize", "sign"}});
      const cv::Node& q = node(g, "sign");
      CHECK(q.op == cv::ops::kQuantize);
      CHECK(q.in(0) == g.find_value("x"));
      CHECK(q.in(1) == cv::kNoId);
      CHECK(g.value(q.out()).dtype == cv::DType::kBits);
      const cv::Node& d = sole_reader(g, q.out());
      CHECK(d.op == cv::ops::kDequantize);
      CHECK(d.out() == g.find_value("y"));
    }
  }
  SUBCASE("does not fire: a 3-D tensor or a constant") {
    CHECK_FALSE(matches(chain({2, 3, 4}, {{"Sign", "sign", "y"}}), "sign_to_quantize", "sign"));
  }
  SUBCASE("Relu -> Sign (sign(0) = 0): ternary by default, refused with kError, binary with kPlusOne") {
    const OnnxTestGraph t = chain({1, 2, 3, 3}, {{"Relu", "relu", "r"}, {"Sign", "sign", "y"}});
    Rewritten d = rewrite(t);
    CHECK(d.fired("sign_to_quantize") == 1);
    const cv::Node& q = node(d.g, "sign");
    CHECK(q.op == cv::ops::kQuantizeLevels);
    CHECK(q.s("kind") == "ternary");
    CHECK(d.g.value(q.out()).dtype == cv::DType::kLevels);
    CHECK(d.g.value(q.out()).levels.kind == cv::LevelKind::kTernary);
    CHECK(d.g.value(q.out()).levels.scale == 1.0f);
    cv::RewriteOptions error;
    error.sign_zero = cv::SignZero::kError;
    check_rewrite_fails(t, error, {"sign(0)", "node 'sign' (Sign)", "node 'relu' (Relu)"});
    cv::RewriteOptions plus;
    plus.sign_zero = cv::SignZero::kPlusOne;
    Rewritten p = rewrite(t, plus);
    CHECK(p.fired("sign_to_quantize") == 1);
    CHECK(node(p.g, "sign").op == cv::ops::kQuantize);
  }
  // x -> Sign -> binary conv (no bias) [-> BN] -> Sign.
  auto conv_sign = [](bool bn) {
    Rng r(8);
    OnnxTestGraph t;
    t.input("x", {1, 2, 4, 4});
    add_sign_conv(t, "x", "sign1", "conv", "c", {2, 2, 3, 3}, r.signs(36));
    if (bn) add_bn(t, r, "bn", "c", "b", 2);
    t.node("Sign", {bn ? "b" : "c"}, {"y"}, "sign2");
    t.output("y");
    return t;
  };
  SUBCASE("Sign of a binary conv without bias (a ±1 dot can be exactly 0): ternary, or refused with kError") {
    cv::RewriteOptions error;
    error.sign_zero = cv::SignZero::kError;
    check_rewrite_fails(conv_sign(false), error, {"node 'sign2' (Sign)", "sign(0)"});
    Rewritten d = rewrite(conv_sign(false));
    // The ternary quantizer is then written by the conv itself (quantize_into_binary_conv: FloatAndLevels).
    const cv::Node& conv = node(d.g, "conv");
    REQUIRE(conv.outputs.size() == 2);
    const cv::Value& levels = d.g.value(conv.out(1));
    CHECK(levels.dtype == cv::DType::kLevels);
    CHECK(levels.levels.kind == cv::LevelKind::kTernary);
    CHECK(conv.s("bits_from") == "sign2");
    Rng rng(10);
    check_end_to_end(conv_sign(false), RefTensor{{1, 2, 4, 4}, rng.normal(32)}, "y");
  }
  SUBCASE("accepted: a BatchNormalization between the binary conv and the Sign") {
    Rewritten r = rewrite(conv_sign(true));
    CHECK(r.fired("sign_to_quantize") == 2);
    Rng rng(9);
    check_end_to_end(conv_sign(true), RefTensor{{1, 2, 4, 4}, rng.normal(32)}, "y");
  }
}

TEST_CASE("rules: affine_into_quantize") {
  const int64_t C = 3;
  Rng r(10);
  const std::vector<float> bias = {0.25f, -0.5f, 0.75f};
  // x -> [BN] -> [op(x, c) / op(c, x)] -> Sign -> y, rewritten to the fixed point.
  struct Built {
    OnnxTestGraph t;
    BnParams bn;
  };
  auto graph = [&](bool with_bn, const std::string& op, bool constant_first) {
    Built b;
    b.t.input("x", {1, C, 2, 2});
    std::string cur = "x";
    if (with_bn) {
      b.bn = add_bn(b.t, r, "bn", cur, "xb", C);
      cur = "xb";
    }
    if (!op.empty()) {
      b.t.initializer("c", {1, C, 1, 1}, bias);
      b.t.node(op, constant_first ? std::vector<std::string>{"c", cur} : std::vector<std::string>{cur, "c"}, {"a"}, "affine");
      cur = "a";
    }
    b.t.node("Sign", {cur}, {"y"}, "sign");
    b.t.output("y");
    return b;
  };
  auto quantize = [](Rewritten& rw) -> const cv::Node& {
    const cv::Node& q = node(rw.g, "sign");
    REQUIRE(q.op == cv::ops::kQuantize);
    CHECK(q.in(0) == rw.g.find_value("x"));
    return q;
  };
  SUBCASE("fires: BatchNormalization; threshold is the BN formula") {
    Built b = graph(true, "", false);
    cv::Graph g = import_fired(b.t, {{"sign_to_quantize", "sign"}, {"affine_into_quantize", "sign"}});
    const cv::Node& q = node(g, "sign");
    CHECK(q.in(0) == g.find_value("x"));
    CHECK(q.i("folded_bn") == 1);
    check_close(const_input(g, q, 1), b.bn.scale());
    check_close(const_input(g, q, 2), b.bn.shift());
    CHECK_FALSE(matches(g, "affine_into_quantize", "sign"));
  }
  SUBCASE("fires: Add / Sub / Mul / Div by a per-channel constant") {
    struct Case { const char* op; bool first; std::vector<float> scale, shift; };
    const std::vector<float> ones(3, 1.0f), zeros(3, 0.0f);
    const std::vector<Case> cases = {
        {"Add", false, ones, bias},
        {"Add", true, ones, bias},
        {"Sub", false, ones, {-0.25f, 0.5f, -0.75f}},
        {"Sub", true, {-1, -1, -1}, bias},
        {"Mul", true, bias, zeros},
        {"Div", false, {4.0f, -2.0f, 1.0f / 0.75f}, zeros},
    };
    for (const Case& c : cases) {
      CAPTURE(c.op);
      CAPTURE(c.first);
      Built b = graph(false, c.op, c.first);
      Rewritten rw = rewrite(b.t);
      CHECK(rw.fired("affine_into_quantize") == 1);
      const cv::Node& q = quantize(rw);
      check_close(const_input(rw.g, q, 1), c.scale);
      check_close(const_input(rw.g, q, 2), c.shift);
      CHECK(find_node(rw.g, "affine") == cv::kNoId);
    }
  }
  SUBCASE("fires: BatchNormalization then a bias Add (ReActNet): shift = BN shift + bias") {
    Built b = graph(true, "Add", false);
    Rewritten rw = rewrite(b.t);
    CHECK(rw.fired("affine_into_quantize") == 2);
    const cv::Node& q = quantize(rw);
    std::vector<float> shift = b.bn.shift();
    for (size_t c = 0; c < 3; ++c) shift[c] += bias[c];
    check_close(const_input(rw.g, q, 1), b.bn.scale());
    check_close(const_input(rw.g, q, 2), shift);
    // And the bits are those of Sign(BN(x) + bias).
    check_end_to_end(b.t, RefTensor{{1, C, 2, 2}, r.normal(size_t(C * 4))}, "y");
  }
  SUBCASE("does not fire: Mul by an activation, or c / x") {
    OnnxTestGraph t = chain({1, C, 2, 2}, {{"Mul", "affine", "a", {"^", "z"}}, {"Sign", "sign", "y"}});
    t.input("z", {1, C, 2, 2});
    for (const OnnxTestGraph& u : {t, graph(false, "Div", true).t})
      CHECK_FALSE(matches(u, "affine_into_quantize", "sign", {{"sign_to_quantize", "sign"}}));
  }
  SUBCASE("does not fire: a constant that is not per-channel (varies along H)") {
    OnnxTestGraph t = chain({1, C, 2, 2}, {{"Add", "affine", "a", {"^", "c"}}, {"Sign", "sign", "y"}});
    t.initializer("c", {1, 1, 2, 1}, {0.5f, -0.5f});
    CHECK_FALSE(matches(t, "affine_into_quantize", "sign", {{"sign_to_quantize", "sign"}}));
  }
}

TEST_CASE("rules: binary_flatten") {
  const int64_t C = 3, O = 4;
  Rng r(11);
  const BnSignFlattenFc n = bn_sign_flatten_fc(r, C, 2, 2, O);
  const OnnxTestGraph& t = n.t;
  const BnParams& bn = n.bn;
  SUBCASE("fires: the Flatten moves before the Quantize, thresholds repeated per feature") {
    cv::Graph g =
        import_fired(t,
                     {{"sign_to_quantize", "sign"}, {"affine_into_quantize", "sign"}, {"binary_flatten", "flatten"}});
    const cv::Node& f = node(g, "flatten");
    CHECK(f.op == "Flatten");
    CHECK(f.in(0) == g.find_value("x"));
    const cv::Node& q = sole_reader(g, f.out());
    CHECK(q.op == cv::ops::kQuantize);
    const std::vector<float> scale = const_input(g, q, 1), shift = const_input(g, q, 2);
    REQUIRE(scale.size() == size_t(C * 4));
    for (int64_t c = 0; c < C; ++c)
      for (int64_t p = 0; p < 4; ++p) {
        CHECK(scale[size_t(c * 4 + p)] == doctest::Approx(bn.scale()[size_t(c)]));
        CHECK(shift[size_t(c * 4 + p)] == doctest::Approx(bn.shift()[size_t(c)]));
      }
    const cv::Node& d = sole_reader(g, q.out());
    CHECK(d.op == cv::ops::kDequantize);
    CHECK(d.out() == g.find_value("f"));
    CHECK(node(g, "fc").in(0) == g.find_value("f"));
  }
  SUBCASE("end to end: binary FC on the flattened bits agrees with the reference") {
    Rewritten rw = rewrite(t);
    CHECK(rw.fired("binary_flatten") == 1);
    CHECK(node(rw.g, "fc").op == cv::ops::kBinaryFullyConnected);
    check_end_to_end(t, RefTensor{{1, C, 2, 2}, r.normal(size_t(C * 4))}, "y");
  }
  SUBCASE("does not fire: Flatten of a float value, or a flatten that does not keep N") {
    CHECK_FALSE(matches(chain({1, C, 2, 2}, {{"Flatten", "flatten", "y"}}), "binary_flatten", "flatten"));
    const OnnxTestGraph a =
        chain({1, C, 2, 2}, {{"Sign", "sign", "s"}, {"Flatten", "flatten", "y", {}, {{"axis", 2}}}});
    CHECK_FALSE(matches(a, "binary_flatten", "flatten", {{"sign_to_quantize", "sign"}}));
  }
}
