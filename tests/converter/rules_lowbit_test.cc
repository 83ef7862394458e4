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

void scalar(OnnxTestGraph& t, const std::string& name, float v) { t.initializer(name, {}, {v}); }

// DoReFa: Clip(x, 0, 1) -> Mul(n) -> Round -> Div(n), with the STE residue x + (q - x).
std::string dorefa(OnnxTestGraph& t, const std::string& x, float n, bool residue = true) {
  scalar(t, "d.lo", 0.0f);
  scalar(t, "d.hi", 1.0f);
  scalar(t, "d.n", n);
  t.node("Clip", {x, "d.lo", "d.hi"}, {"d.c"}, "d.clip");
  t.node("Mul", {"d.c", "d.n"}, {"d.m"}, "d.mul");
  t.node("Round", {"d.m"}, {"d.r"}, "d.round");
  t.node("Div", {"d.r", "d.n"}, {"d.q"}, "d.div");
  if (!residue) return "d.q";
  t.node("Sub", {"d.q", "d.c"}, {"d.s"}, "d.sub");
  t.node("Add", {"d.c", "d.s"}, {"d.y"}, "d.add");
  return "d.y";
}

// LSQ: Div(x, s) -> Round -> Clip(lo, hi) -> Mul(s).
std::string lsq(OnnxTestGraph& t, const std::string& x, float s, float lo, float hi) {
  scalar(t, "l.s", s);
  scalar(t, "l.lo", lo);
  scalar(t, "l.hi", hi);
  t.node("Div", {x, "l.s"}, {"l.d"}, "l.div");
  t.node("Round", {"l.d"}, {"l.r"}, "l.round");
  t.node("Clip", {"l.r", "l.lo", "l.hi"}, {"l.c"}, "l.clip");
  t.node("Mul", {"l.c", "l.s"}, {"l.y"}, "l.mul");
  return "l.y";
}

RefTensor lowbit_input(uint32_t seed, const std::vector<int64_t>& shape = {1, 2, 4, 4}) {
  Rng r(seed);
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return RefTensor{shape, r.normal(size_t(n), 1.0f)};
}

}  // namespace

TEST_CASE("rules: uniform_quantizer") {
  SUBCASE("fires: DoReFa clip -> *3 -> round -> /3 (+ STE residue) -> 2-bit Unipolar, level scale 1/3") {
    OnnxTestGraph t;
    t.input("x", {1, 2, 4, 4});
    t.output(dorefa(t, "x", 3.0f));
    cv::Graph g = import(t);
    CHECK(matches(g, "uniform_quantizer", "d.round"));
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
    const cv::Levels l = r.g.value(q.out()).levels;
    CHECK(l.bits == 2);
    CHECK(l.zero_level == 2);
    CHECK(l.scale == 0.5f);
    // t = (scale_bn x + shift_bn) / s + 2
    const std::vector<float> sc = bn.scale(), sh = bn.shift();
    check_close(const_input(r.g, q, 1), {sc[0] * 2, sc[1] * 2});
    check_close(const_input(r.g, q, 2), {sh[0] * 2 + 2, sh[1] * 2 + 2});
  }
  SUBCASE("fires: PACT min(relu(x), a) -> *3 -> /a -> round -> *a -> /3 -> level scale a/3") {
    OnnxTestGraph t;
    t.input("x", {1, 2, 4, 4});
    scalar(t, "a", 2.5f);
    scalar(t, "three", 3.0f);
    t.node("Relu", {"x"}, {"r"}, "relu");
    t.node("Min", {"r", "a"}, {"m"}, "min");
    t.node("Mul", {"m", "three"}, {"m3"}, "mul3");
    t.node("Div", {"m3", "a"}, {"t"}, "diva");
    t.node("Round", {"t"}, {"q"}, "round");
    t.node("Mul", {"q", "a"}, {"qa"}, "mula");
    t.node("Div", {"qa", "three"}, {"y"}, "div3");
    t.output("y");
    Rewritten r = rewrite(t);
    CHECK(r.fired("min_relu_to_clip") == 1);
    CHECK(r.fired("uniform_quantizer") == 1);
    const cv::Levels l = r.g.value(node(r.g, "round").out()).levels;
    CHECK(l.bits == 2);
    CHECK(l.scale == doctest::Approx(2.5 / 3));
    check_end_to_end(t, lowbit_input(31), "y");
  }
  SUBCASE("fires: a zero point (round(x / s) + zp, clamp 0..15, - zp) * s -> 4 bits, zero level zp") {
    OnnxTestGraph t;
    t.input("x", {1, 2, 4, 4});
    scalar(t, "s", 0.25f);
    scalar(t, "zp", 5.0f);
    scalar(t, "lo", 0.0f);
    scalar(t, "hi", 15.0f);
    t.node("Div", {"x", "s"}, {"d"}, "div");
    t.node("Round", {"d"}, {"r"}, "round");
    t.node("Add", {"r", "zp"}, {"a"}, "addzp");
    t.node("Clip", {"a", "lo", "hi"}, {"c"}, "clip");
    t.node("Sub", {"c", "zp"}, {"sz"}, "subzp");
    t.node("Mul", {"sz", "s"}, {"y"}, "mul");
    t.output("y");
    Rewritten r = rewrite(t);
    const cv::Levels l = r.g.value(node(r.g, "round").out()).levels;
    CHECK(l.bits == 4);
    CHECK(l.zero_level == 5);
    CHECK(l.scale == 0.25f);
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
    OnnxTestGraph t;
    Rng rng(34);
    t.input("x", {1, 2, 5, 5});
    const std::string q = dorefa(t, "x", 3.0f);
    std::vector<float> w = rng.signs(3 * 2 * 9);
    for (size_t i = 0; i < w.size(); ++i) w[i] *= 0.1f * float(1 + i / 18);
    t.initializer("w", {3, 2, 3, 3}, w);
    add_conv(t, "conv", {q, "w"}, "y", 3, 1, 1);
    t.output("y");
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
    OnnxTestGraph t;
    Rng rng(36);
    t.input("x", {1, 2, 5, 5});
    const std::string q = dorefa(t, "x", 15.0f, false);
    std::vector<float> w(size_t(2 * 2 * 9));
    const float levels[4] = {-3, -1, 1, 3};
    const std::vector<float> pick = rng.uniform(w.size(), 0.0f, 3.999f);
    for (size_t i = 0; i < w.size(); ++i) w[i] = levels[int(pick[i])] * (i < 18 ? 0.05f : 0.2f) / 3.0f;
    w[0] = 0.05f;  // every channel reaches its largest level
    w[18] = -0.2f;
    t.initializer("w", {2, 2, 3, 3}, w);
    add_conv(t, "conv", {q, "w"}, "y", 3, 2, 1);
    t.output("y");
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
      OnnxTestGraph t;
      t.input("x", {1, 2, 4, 4});
      scalar(t, "lo", k.lo);
      scalar(t, "hi", k.hi);
      scalar(t, "n", k.n);
      scalar(t, "off", k.offset);
      t.node("Clip", {"x", "lo", "hi"}, {"c"}, "clip");
      t.node("Mul", {"c", "n"}, {"m"}, "mul");
      t.node("Round", {"m"}, {"r"}, "round");
      t.node("Add", {"r", "off"}, {"y"}, "add");
      t.output("y");
      cv::Graph g = import(t);
      CHECK_FALSE(matches(g, "uniform_quantizer", "round"));
      Converted c = convert(t);
      REQUIRE_FALSE(c.status.ok());
      CHECK(contains(c.status.message(), "node 'round' (Round)"));
      CHECK(contains(c.status.message(), k.why));
    }
    OnnxTestGraph t;
    t.input("x", {1, 2, 4, 4});
    t.node("Round", {"x"}, {"y"}, "round");
    t.output("y");
    cv::Graph g = import(t);
    CHECK_FALSE(matches(g, "uniform_quantizer", "round"));
    Converted c = convert(t);
    REQUIRE_FALSE(c.status.ok());
    CHECK(contains(c.status.message(), "nothing clamps it"));
  }
  SUBCASE("stays float (warning): a k-bit activation into a conv whose weights are not 1- or 2-bit") {
    OnnxTestGraph t;
    Rng rng(38);
    t.input("x", {1, 2, 4, 4});
    const std::string q = dorefa(t, "x", 3.0f);
    t.initializer("w", {2, 2, 3, 3}, rng.normal(36, 0.3f));
    add_conv(t, "conv", {q, "w"}, "y", 3, 1, 1);
    t.output("y");
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
    Converted c = convert(t);
    REQUIRE_FALSE(c.status.ok());
    CHECK(contains(c.status.message(), "k-bit input can only be zero padded"));
  }
}

TEST_CASE("rules: min_relu_to_clip") {
  SUBCASE("fires: Min(Relu(x), 2) and Min(2, Relu(x)) -> Clip(x, 0, 2)") {
    for (bool swap : {false, true}) {
      OnnxTestGraph t;
      t.input("x", {1, 2, 3, 3});
      scalar(t, "a", 2.0f);
      t.node("Relu", {"x"}, {"r"}, "relu");
      t.node("Min", swap ? std::vector<std::string>{"a", "r"} : std::vector<std::string>{"r", "a"}, {"y"}, "min");
      t.output("y");
      cv::Graph g = import(t);
      REQUIRE(fire(g, "min_relu_to_clip", "min").ok());
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
    t.node("Relu", {"x"}, {"r"}, "relu");
    t.node("Min", {"r", "x"}, {"m1"}, "min_act");
    t.node("Min", {"r", "neg"}, {"m2"}, "min_neg");
    t.node("Min", {"x", "neg"}, {"m3"}, "min_norelu");
    t.node("Add", {"m1", "m2"}, {"a"}, "add");
    t.node("Add", {"a", "m3"}, {"y"}, "add2");
    t.output("y");
    cv::Graph g = import(t);
    CHECK_FALSE(matches(g, "min_relu_to_clip", "min_act"));
    CHECK_FALSE(matches(g, "min_relu_to_clip", "min_neg"));
    CHECK_FALSE(matches(g, "min_relu_to_clip", "min_norelu"));
  }
}

TEST_CASE("rules: qdq_to_levels") {
  // QuantizeLinear(x, s, zp uint8) -> Clip(lo, hi) -> DequantizeLinear, what torch's (0, 127) fake quant
  // exports, here narrowed to `hi`.
  auto qdq = [](float hi, bool with_clip) {
    OnnxTestGraph t;
    t.input("x", {1, 2, 4, 4});
    scalar(t, "s", 0.2f);
    t.initializer_int("zp", onnx::TensorProto::UINT8, {}, {3});
    t.node("QuantizeLinear", {"x", "s", "zp"}, {"q"}, "quant");
    std::string q = "q";
    if (with_clip) {
      t.initializer_int("lo", onnx::TensorProto::UINT8, {}, {0});
      t.initializer_int("hi", onnx::TensorProto::UINT8, {}, {int64_t(hi)});
      t.node("Clip", {"q", "lo", "hi"}, {"qc"}, "clip");
      q = "qc";
    }
    t.node("DequantizeLinear", {q, "s", "zp"}, {"y"}, "dequant");
    t.output("y");
    return t;
  };
  SUBCASE("fires: uint8 narrowed to 0..15 -> 4-bit Unipolar, zero level 3, level scale s") {
    OnnxTestGraph t = qdq(15, true);
    cv::Graph g = import(t);
    CHECK(matches(g, "qdq_to_levels", "dequant"));
    Rewritten r = rewrite(t);
    CHECK(r.ops() == std::vector<std::string>{cv::ops::kQuantizeLevels, cv::ops::kDequantize});
    const cv::Levels l = r.g.value(node(r.g, "dequant").out()).levels;
    CHECK(l.bits == 4);
    CHECK(l.zero_level == 3);
    CHECK(l.scale == 0.2f);
    check_end_to_end(t, lowbit_input(41), "y");
  }
  SUBCASE("does not fire: the full uint8 range (256 levels); the conversion names the node and why") {
    OnnxTestGraph t = qdq(255, false);
    cv::Graph g = import(t);
    CHECK_FALSE(matches(g, "qdq_to_levels", "dequant"));
    Converted c = convert(t);
    REQUIRE_FALSE(c.status.ok());
    CHECK(contains(c.status.message(), "node 'dequant' (DequantizeLinear)"));
    CHECK(contains(c.status.message(), "256 levels"));
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
      t.initializer("w", {3, 8}, w);
      auto& g = t.node("Gemm", {"x", "w"}, {"y"}, "layer");
      OnnxTestGraph::attr(g, "transB", int64_t(1));
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
    t.node("Sign", {"x"}, {"s"}, "sign");
    t.initializer("w", {2, 2, 3, 3}, rng.signs(36));
    add_conv(t, "conv", {"s", "w"}, "y", 3, 1, 1);
    t.output("y");
    Rewritten r = rewrite(t);
    CHECK(r.fired("binary_weights_float_input") == 0);
    CHECK(node(r.g, "conv").op == cv::ops::kBinaryConv2D);
  }
}
