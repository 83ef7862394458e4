// Rewrite-rule tests: k-bit activations and 1-bit weights (lowbit_activation.cc, lowbit_weights.cc).
// Helpers and conventions: rules_test_util.h.
#include "rules_test_util.h"

using namespace rules_test;

// =========================================================================================================
// lowbit_activation.cc, lowbit_weights.cc

namespace {

// x [1, 2, 4, 4] -> optional BN -> quantizer built by `q` (returns its output name) -> y.
struct Quantizer {
  OnnxTestGraph t;
  std::string out;
};

// DoReFa: Clip(x, 0, 1) -> Mul(n) -> Round -> Div(n), with the STE residue x + (q - x).
std::string dorefa(OnnxTestGraph& t, const std::string& x, float n, bool residue = true) {
  scalar(t, "d.lo", 0.0f);
  scalar(t, "d.hi", 1.0f);
  scalar(t, "d.n", n);
  add_chain(t, x,
            {{"Clip", "d.clip", "d.c", {"^", "d.lo", "d.hi"}},
             {"Mul", "d.mul", "d.m", {"^", "d.n"}},
             {"Round", "d.round", "d.r"},
             {"Div", "d.div", "d.q", {"^", "d.n"}}});
  if (!residue) return "d.q";
  return add_chain(t, "d.q", {{"Sub", "d.sub", "d.s", {"^", "d.c"}}, {"Add", "d.add", "d.y", {"d.c", "^"}}});
}

// LSQ: Div(x, s) -> Round -> Clip(lo, hi) -> Mul(s).
std::string lsq(OnnxTestGraph& t, const std::string& x, float s, float lo, float hi) {
  scalar(t, "l.s", s);
  scalar(t, "l.lo", lo);
  scalar(t, "l.hi", hi);
  return add_chain(t, x,
                   {{"Div", "l.div", "l.d", {"^", "l.s"}},
                    {"Round", "l.round", "l.r"},
                    {"Clip", "l.clip", "l.c", {"^", "l.lo", "l.hi"}},
                    {"Mul", "l.mul", "l.y", {"^", "l.s"}}});
}

// x[1, 2, hw, hw] -> DoReFa (n, with or without the STE residue) -> Conv 3x3 pad 1 (weights w of w_shape,
// `stride`) -> y.
OnnxTestGraph dorefa_conv(int64_t hw, float n, bool residue, const std::vector<int64_t>& w_shape,
                          const std::vector<float>& w, int64_t stride = 1) {
  OnnxTestGraph t;
  t.input("x", {1, 2, hw, hw});
  const std::string q = dorefa(t, "x", n, residue);
  t.initializer("w", w_shape, w);
  add_conv(t, "conv", {q, "w"}, "y", 3, stride, 1);
  t.output("y");
  return t;
}

}  // namespace

TEST_CASE("rules: uniform_quantizer") {
  SUBCASE("fires: DoReFa clip -> *3 -> round -> /3 (+ STE residue) -> 2-bit Unipolar, level scale 1/3") {
    OnnxTestGraph t;
    t.input("x", {1, 2, 4, 4});
    t.output(dorefa(t, "x", 3.0f));
    CHECK(matches(t, "uniform_quantizer", "d.round"));
    Rewritten r = rewrite(t);
    CHECK(r.fired("uniform_quantizer") == 1);
    CHECK(r.fired("straight_through_residue") == 1);
    CHECK(r.ops() == std::vector<std::string>{cv::ops::kQuantizeLevels, cv::ops::kDequantize});
    const cv::Node& q = node(r.g, "d.round");
    const cv::Levels l = r.g.value(q.out()).levels;
    CHECK(l.kind == cv::LevelKind::kUnipolar);
    CHECK(l.bits == 2);
    CHECK(l.zero_level == 0);
    CHECK(l.scale == doctest::Approx(1.0 / 3));
    CHECK(q.in(0) == r.g.find_value("x"));  // the clip folds (the range fills the 4 levels)
    check_close(const_input(r.g, q, 1), {3, 3});
    check_close(const_input(r.g, q, 2), {0, 0});
  }
  SUBCASE("fires: LSQ signed clamp(round(x / s), -2, 1) * s -> zero level 2; BatchNormalization folds") {
    OnnxTestGraph t;
    Rng rng(30);
    t.input("x", {1, 2, 4, 4});
    const BnParams bn = add_bn(t, rng, "bn", "x", "b", 2);
    t.output(lsq(t, "b", 0.5f, -2, 1));
    Rewritten r = rewrite(t);
    CHECK(r.fired("uniform_quantizer") == 1);
    CHECK(r.fired("affine_into_quantize") == 1);
    const cv::Node& q = node(r.g, "l.round");
    check_levels(r.g.value(q.out()).levels, 2, 2, 0.5f);
    // t = (scale_bn x + shift_bn) / s + 2
    const std::vector<float> sc = bn.scale(), sh = bn.shift();
    check_close(const_input(r.g, q, 1), {sc[0] * 2, sc[1] * 2});
    check_close(const_input(r.g, q, 2), {sh[0] * 2 + 2, sh[1] * 2 + 2});
  }
  SUBCASE("fires: PACT min(relu(x), a) -> *3 -> /a -> round -> *a -> /3 -> level scale a/3") {
    OnnxTestGraph t = chain({1, 2, 4, 4}, {{"Relu", "relu", "r"},
                                           {"Min", "min", "m", {"^", "a"}},
                                           {"Mul", "mul3", "m3", {"^", "three"}},
                                           {"Div", "diva", "t", {"^", "a"}},
                                           {"Round", "round", "q"},
                                           {"Mul", "mula", "qa", {"^", "a"}},
                                           {"Div", "div3", "y", {"^", "three"}}});
    scalar(t, "a", 2.5f);
    scalar(t, "three", 3.0f);
    Rewritten r = rewrite(t);
    CHECK(r.fired("min_relu_to_clip") == 1);
    CHECK(r.fired("uniform_quantizer") == 1);
    const cv::Levels l = r.g.value(node(r.g, "round").out()).levels;
    CHECK(l.bits == 2);
    CHECK(l.scale == doctest::Approx(2.5 / 3));
    check_end_to_end(t, lowbit_input(31), "y");
  }
  SUBCASE("fires: a zero point (round(x / s) + zp, clamp 0..15, - zp) * s -> 4 bits, zero level zp") {
    OnnxTestGraph t = chain({1, 2, 4, 4}, {{"Div", "div", "d", {"^", "s"}},
                                           {"Round", "round", "r"},
                                           {"Add", "addzp", "a", {"^", "zp"}},
                                           {"Clip", "clip", "c", {"^", "lo", "hi"}},
                                           {"Sub", "subzp", "sz", {"^", "zp"}},
                                           {"Mul", "mul", "y", {"^", "s"}}});
    for (const auto& [name, v] : {std::make_pair("s", 0.25f), {"zp", 5.0f}, {"lo", 0.0f}, {"hi", 15.0f}})
      scalar(t, name, v);
    Rewritten r = rewrite(t);
    check_levels(r.g.value(node(r.g, "round").out()).levels, 4, 5, 0.25f);
    check_end_to_end(t, lowbit_input(32), "y");
  }
  SUBCASE("fires: a range short of 2^bits levels (LSQ [-1, 1]) keeps a float Clip in front") {
    OnnxTestGraph t;
    t.input("x", {1, 2, 4, 4});
    t.output(lsq(t, "x", 0.5f, -1, 1));
    Rewritten r = rewrite(t);
    CHECK(r.ops() == std::vector<std::string>{"Clip", cv::ops::kQuantizeLevels, cv::ops::kDequantize});
    const cv::Levels l = r.g.value(node(r.g, "l.round").out()).levels;
    CHECK(l.bits == 2);
    CHECK(l.zero_level == 1);
    check_end_to_end(t, lowbit_input(33), "l.y");
  }
}

TEST_CASE("rules: uniform_quantizer into binary convs; where it does not fire") {
  SUBCASE("end to end: a DoReFa 2-bit activation into a ±s conv -> k-bit BinaryConv2D, multiplier s / 3") {
    Rng rng(34);
    std::vector<float> w = rng.signs(3 * 2 * 9);
    for (size_t i = 0; i < w.size(); ++i) w[i] *= 0.1f * float(1 + i / 18);
    const OnnxTestGraph t = dorefa_conv(5, 3.0f, true, {3, 2, 3, 3}, w);
    Rewritten r = rewrite(t);
    const cv::Node& c = node(r.g, "conv");
    REQUIRE(c.op == cv::ops::kBinaryConv2D);
    CHECK(r.g.value(c.in(0)).dtype == cv::DType::kLevels);
    CHECK(c.conv_params().weight_bits == 1);
    check_close(const_input(r.g, c, 2), {0.1f / 3, 0.2f / 3, 0.3f / 3});
    check_end_to_end(t, lowbit_input(35, {1, 2, 5, 5}), "y");
    Converted cv_ = convert(t);
    REQUIRE(cv_.status.ok());
    CHECK(contains(cv_.result.summary, "BinaryConv2D W1A2"));
    CHECK(contains(cv_.result.summary, "binary layers: 1 (BinaryConv2D 1 (k-bit: W1A2 1)"));
  }
  SUBCASE("end to end: 2-bit weights {-3, -1, 1, 3} * s on a 4-bit activation -> weight_bits 2") {
    Rng rng(36);
    std::vector<float> w(size_t(2 * 2 * 9));
    const float levels[4] = {-3, -1, 1, 3};
    const std::vector<float> pick = rng.uniform(w.size(), 0.0f, 3.999f);
    for (size_t i = 0; i < w.size(); ++i) w[i] = levels[int(pick[i])] * (i < 18 ? 0.05f : 0.2f) / 3.0f;
    w[0] = 0.05f;  // every channel reaches its largest level
    w[18] = -0.2f;
    const OnnxTestGraph t = dorefa_conv(5, 15.0f, false, {2, 2, 3, 3}, w, 2);
    Rewritten r = rewrite(t);
    const cv::Node& c = node(r.g, "conv");
    REQUIRE(c.op == cv::ops::kBinaryConv2D);
    CHECK(c.conv_params().weight_bits == 2);
    check_end_to_end(t, lowbit_input(37, {1, 2, 5, 5}), "y");
  }
  SUBCASE("does not fire: no clamp, more than 16 levels, a non-integer range, levels off the zero grid") {
    struct Case {
      const char* what;
      float n, lo, hi, offset;
      const char* why;
    };
    const Case cases[] = {{"5 bits", 31, 0, 1, 0, "32 levels"},
                          {"clamp to 2.5", 2.5f, 0, 1, 0, "not integer bounds"},
                          {"offset 0.5", 3, 0, 1, 0.5f, "do not include 0"}};
    for (const Case& k : cases) {
      CAPTURE(k.what);
      OnnxTestGraph t = chain({1, 2, 4, 4}, {{"Clip", "clip", "c", {"^", "lo", "hi"}},
                                             {"Mul", "mul", "m", {"^", "n"}},
                                             {"Round", "round", "r"},
                                             {"Add", "add", "y", {"^", "off"}}});
      for (const auto& [name, v] : {std::make_pair("lo", k.lo), {"hi", k.hi}, {"n", k.n}, {"off", k.offset}})
        scalar(t, name, v);
      CHECK_FALSE(matches(t, "uniform_quantizer", "round"));
      check_convert_fails(t, {"node 'round' (Round)", k.why});
    }
    const OnnxTestGraph t = chain({1, 2, 4, 4}, {{"Round", "round", "y"}});
    CHECK_FALSE(matches(t, "uniform_quantizer", "round"));
    check_convert_fails(t, {"nothing clamps it"});
  }
  SUBCASE("stays float (warning): a k-bit activation into a conv whose weights are not 1- or 2-bit") {
    Rng rng(38);
    const OnnxTestGraph t = dorefa_conv(4, 3.0f, true, {2, 2, 3, 3}, rng.normal(36, 0.3f));
    Converted c = convert(t);
    REQUIRE_MESSAGE(c.status.ok(), c.status.message());
    CHECK(contains(c.result.summary, "warning: node 'conv' (Conv) reads a k-bit activation but stays float"));
    check_end_to_end(t, lowbit_input(39), "y");
  }
  SUBCASE("error: a k-bit input padded with +1") {
    OnnxTestGraph t;
    t.input("x", {1, 2, 4, 4});
    const std::string q = dorefa(t, "x", 3.0f);
    add_pad(t, "pad", q, "p", 1.0f);
    Rng rng(40);
    t.initializer("w", {2, 2, 3, 3}, rng.signs(36));
    add_conv(t, "conv", {"p", "w"}, "y", 3, 1, 0);
    t.output("y");
    check_convert_fails(t, {"k-bit input can only be zero padded"});
  }
}

TEST_CASE("rules: min_relu_to_clip") {
  SUBCASE("fires: Min(Relu(x), 2) and Min(2, Relu(x)) -> Clip(x, 0, 2)") {
    for (bool swap : {false, true}) {
      const std::vector<std::string> in =
          swap ? std::vector<std::string>{"a", "^"} : std::vector<std::string>{"^", "a"};
      OnnxTestGraph t = chain({1, 2, 3, 3}, {{"Relu", "relu", "r"}, {"Min", "min", "y", in}});
      scalar(t, "a", 2.0f);
      cv::Graph g = import_fired(t, {{"min_relu_to_clip", "min"}});
      const cv::Node& c = node(g, "min");
      CHECK(c.op == "Clip");
      CHECK(c.in(0) == g.find_value("x"));
      check_close(const_input(g, c, 1), {0});
      check_close(const_input(g, c, 2), {2});
    }
  }
  SUBCASE("does not fire: Min of two activations, a negative bound, no Relu") {
    OnnxTestGraph t;
    t.input("x", {1, 2, 3, 3});
    scalar(t, "neg", -1.0f);
    t.output(add_chain(t, "x",
                       {{"Relu", "relu", "r"},
                        {"Min", "min_act", "m1", {"r", "x"}},
                        {"Min", "min_neg", "m2", {"r", "neg"}},
                        {"Min", "min_norelu", "m3", {"x", "neg"}},
                        {"Add", "add", "a", {"m1", "m2"}},
                        {"Add", "add2", "y", {"a", "m3"}}}));
    cv::Graph g = import(t);
    for (const char* n : {"min_act", "min_neg", "min_norelu"}) CHECK_FALSE(matches(g, "min_relu_to_clip", n));
  }
}

TEST_CASE("rules: binary_weights_float_input") {
  auto graph = [](bool binary_weights, bool fc) {
    OnnxTestGraph t;
    Rng rng(42);
    t.input("x", fc ? std::vector<int64_t>{1, 8} : std::vector<int64_t>{1, 2, 4, 4});
    std::vector<float> w = rng.signs(fc ? 24 : 36);
    const size_t per = fc ? 8 : 18;
    for (size_t i = 0; i < w.size(); ++i) w[i] *= 0.1f * float(1 + i / per);
    if (!binary_weights) w[1] *= 1.5f;
    if (fc) {
      add_fc(t, "layer", "x", "y", 3, 8, w);
    } else {
      t.initializer("w", {2, 2, 3, 3}, w);
      add_conv(t, "layer", {"x", "w"}, "y", 3, 1, 1);
    }
    t.output("y");
    return t;
  };
  SUBCASE("fires: Conv and Gemm on float input with ±alpha weights; file smaller, outputs equal") {
    for (bool fc : {false, true}) {
      CAPTURE(fc);
      OnnxTestGraph t = graph(true, fc);
      Rewritten r = rewrite(t);
      CHECK(r.fired("binary_weights_float_input") == 1);
      CHECK(node(r.g, "layer").i("binary_weights") == 1);
      Converted c = convert(t);
      REQUIRE_MESSAGE(c.status.ok(), c.status.message());
      CHECK(contains(c.result.summary, "(binary weights)"));
      CHECK(contains(c.result.summary, "BWN layers (float compute, 1-bit weights + scale): 1"));
      check_end_to_end(t, lowbit_input(43, fc ? std::vector<int64_t>{1, 8} : std::vector<int64_t>{1, 2, 4, 4}), "y");
    }
  }
  SUBCASE("does not fire: weights not ±alpha per channel, or a binary input (binary_conv's)") {
    for (bool fc : {false, true}) {
      OnnxTestGraph t = graph(false, fc);
      Rewritten r = rewrite(t);
      CHECK(r.fired("binary_weights_float_input") == 0);
    }
    OnnxTestGraph t;
    Rng rng(44);
    t.input("x", {1, 2, 4, 4});
    add_sign_conv(t, "x", "sign", "conv", "y", {2, 2, 3, 3}, rng.signs(36));
    t.output("y");
    Rewritten r = rewrite(t);
    CHECK(r.fired("binary_weights_float_input") == 0);
    CHECK(node(r.g, "conv").op == cv::ops::kBinaryConv2D);
  }
}
