// Rewrite-rule tests: QuantizeLinear / DequantizeLinear (qdq.cc) and weights with a zero level
// (offset_weights.cc). The reference is OnnxTestGraph::evaluate (the --verify reference: ONNX's definition, round half to
// even, saturation to the zero point's type, per tensor or per axis). Helpers: rules_test_util.h.
#include "rules_test_util.h"

using namespace rules_test;

namespace {

// x -> [float clamps `links`] -> QuantizeLinear(s, zp of `type`) -> [Clip(int lo, hi)] -> DequantizeLinear
// named `name`; returns its output.
std::string qdq(OnnxTestGraph& t, const std::string& x, const std::string& name, float s, int type, int64_t zp,
                const std::vector<Link>& clamps = {}, const std::vector<int64_t>& int_clip = {}) {
  const std::string in = clamps.empty() ? x : add_chain(t, x, clamps);
  scalar(t, name + ".s", s);
  t.initializer_int(name + ".zp", type, {}, {zp});
  t.node("QuantizeLinear", {in, name + ".s", name + ".zp"}, {name + ".q"}, name + ".quant");
  std::string q = name + ".q";
  if (!int_clip.empty()) {
    t.initializer_int(name + ".lo", type, {}, {int_clip[0]});
    t.initializer_int(name + ".hi", type, {}, {int_clip[1]});
    t.node("Clip", {q, name + ".lo", name + ".hi"}, {name + ".qc"}, name + ".clip");
    q = name + ".qc";
  }
  t.node("DequantizeLinear", {q, name + ".s", name + ".zp"}, {name + ".y"}, name);
  return name + ".y";
}

// x[1, 2, 4, 4] = -1 + 0.125 i: with s = 0.25 every other x / s is an exact tie (.5), and x spans the range.
RefTensor tie_input() {
  RefTensor x{{1, 2, 4, 4}, {}};
  for (int i = 0; i < 32; ++i) x.data.push_back(-1.0f + 0.125f * float(i));
  return x;
}

// x[1, 4, 5, 5] -> Clip(0, 3 s) -> Q(uint8) -> DQ (torch 1.13's 2-bit export, s = 0.5) -> Conv 3x3 pad 1 with
// weights w ([out, 4 / group, 3, 3]) and a bias -> y.
OnnxTestGraph qdq_conv(const std::vector<float>& w, int64_t out, int64_t group = 1) {
  OnnxTestGraph t;
  t.input("x", {1, 4, 5, 5});
  scalar(t, "lo", 0.0f);
  scalar(t, "hi", 1.5f);
  const std::string a = qdq(t, "x", "act", 0.5f, onnx::TensorProto::UINT8, 0, {{"Clip", "clamp", "c", {"^", "lo", "hi"}}});
  t.initializer("w", {out, 4 / group, 3, 3}, w);
  std::vector<float> bias;
  for (int64_t o = 0; o < out; ++o) bias.push_back(0.1f * float(o) - 0.2f);
  t.initializer("b", {out}, bias);
  onnx::NodeProto& conv = add_conv(t, "conv", {a, "w", "b"}, "y", 3, 1, 1);
  if (group > 1) OnnxTestGraph::attr(conv, "group", group);
  t.output("y");
  return t;
}

// Integer weights lo .. hi (uniform, every channel reaching both ends) times s_o = 0.05 (o + 1).
std::vector<float> grid_weights(uint32_t seed, int64_t out, int64_t per, int lo, int hi) {
  const std::vector<float> u = Rng(seed).uniform(size_t(out * per), 0.0f, 0.999f);
  std::vector<float> w(u.size());
  for (int64_t o = 0; o < out; ++o)
    for (int64_t i = 0; i < per; ++i) {
      const int l = i == 0 ? lo : i == 1 ? hi : lo + int(u[size_t(o * per + i)] * float(hi - lo + 1));
      w[size_t(o * per + i)] = float(l) * 0.05f * float(o + 1);
    }
  return w;
}

RefTensor conv_input(uint32_t seed) { return RefTensor{{1, 4, 5, 5}, Rng(seed).uniform(100, -0.5f, 2.0f)}; }

}  // namespace

TEST_CASE("rules: qdq_to_levels") {
  SUBCASE("fires: uint8 narrowed to 0..15 by a Clip between Q and DQ -> 4-bit Unipolar, zero level 3, scale s") {
    OnnxTestGraph t;
    t.input("x", {1, 2, 4, 4});
    t.output(qdq(t, "x", "dequant", 0.2f, onnx::TensorProto::UINT8, 3, {}, {0, 15}));
    CHECK(matches(t, "qdq_to_levels", "dequant"));
    Rewritten r = rewrite(t);
    CHECK(r.ops() == std::vector<std::string>{cv::ops::kQuantizeLevels, cv::ops::kDequantize});
    check_levels(r.g.value(node(r.g, "dequant").out()).levels, 4, 3, 0.2f);
    check_end_to_end(t, lowbit_input(41), "dequant.y");
  }
  SUBCASE("fires: float clamps before the Q narrow its range; exact at ties (half to even) and saturation") {
    struct Case {
      const char* what;
      std::vector<Link> clamps;
      int type;
      int64_t zp;
      int bits, zero_level;
    };
    const Case cases[] = {
        {"Clip(0, 3s) -> uint8 (torch 1.13's 2-bit export)", {{"Clip", "clamp", "c", {"^", "zero", "three_s"}}}, onnx::TensorProto::UINT8, 0, 2, 0},
        {"Max(-2s) -> Min(s) -> int8 (LSQ signed [-2, 1])", {{"Max", "max", "m1", {"^", "minus_two_s"}}, {"Min", "min", "m2", {"^", "s1"}}},
         onnx::TensorProto::INT8, 0, 2, 2},
        {"Relu -> Min(7s) -> uint8, 3 bits", {{"Relu", "relu", "r"}, {"Min", "min", "m", {"^", "seven_s"}}}, onnx::TensorProto::UINT8, 0, 3, 0},
        {"Clip(-s, s) -> uint8 with zero point 1 (indices up by one: an even offset)", {{"Clip", "clamp", "c", {"^", "minus_s", "s1"}}},
         onnx::TensorProto::UINT8, 1, 2, 2},
        {"Clip(-s, s) -> int8, 3 levels [-1, 1] (zero level 1 -> 2)", {{"Clip", "clamp", "c", {"^", "minus_s", "s1"}}}, onnx::TensorProto::INT8, 0, 2, 2},
        {"Clip(0, 2.4s) -> 3 levels in 2 bits (a range Clip stays)", {{"Clip", "clamp", "c", {"^", "zero", "s24"}}}, onnx::TensorProto::UINT8, 0, 2, 0},
    };
    for (const Case& k : cases) {
      CAPTURE(k.what);
      OnnxTestGraph t;
      t.input("x", {1, 2, 4, 4});
      for (const auto& [name, v] : {std::make_pair("zero", 0.0f), {"three_s", 0.75f}, {"minus_two_s", -0.5f}, {"s1", 0.25f},
                                    {"seven_s", 1.75f}, {"minus_s", -0.25f}, {"two_s", 0.5f}, {"s24", 0.6f}})
        scalar(t, name, v);
      t.output(qdq(t, "x", "dequant", 0.25f, k.type, k.zp, k.clamps));
      CHECK(matches(t, "qdq_to_levels", "dequant"));
      Rewritten r = rewrite(t);
      check_levels(r.g.value(node(r.g, "dequant").out()).levels, k.bits, k.zero_level, 0.25f);
      check_end_to_end(t, tie_input(), "dequant.y", {}, 0.0);  // s a power of two: every value exact
      check_end_to_end(t, lowbit_input(42), "dequant.y");
    }
  }
  SUBCASE("does not fire: the full uint8 range (256 levels), a clamp leaving 101 levels; the conversion says why") {
    OnnxTestGraph t;
    t.input("x", {1, 2, 4, 4});
    t.output(qdq(t, "x", "dequant", 0.2f, onnx::TensorProto::UINT8, 3));
    CHECK_FALSE(matches(t, "qdq_to_levels", "dequant"));
    check_convert_fails(t, {"node 'dequant' (DequantizeLinear)", "256 levels"});
    OnnxTestGraph u;
    u.input("x", {1, 2, 4, 4});
    scalar(u, "lo", 0.0f);
    scalar(u, "hi", 20.0f);
    u.output(qdq(u, "x", "dequant", 0.2f, onnx::TensorProto::UINT8, 0, {{"Clip", "clamp", "c", {"^", "lo", "hi"}}}));
    CHECK_FALSE(matches(u, "qdq_to_levels", "dequant"));
    check_convert_fails(u, {"node 'dequant' (DequantizeLinear)", "0..100 has 101 levels"});
  }
}

TEST_CASE("rules: qdq_weights") {
  // w [3, 2, 1, 1] -> Q(s_o, int8 zp 0, axis 0) -> Clip(-2, 1) -> DQ -> Conv 1x1 on a float input (stays float).
  auto graph = [](const std::vector<float>& w, int64_t q_axis, int64_t dq_axis, std::vector<float> s) {
    OnnxTestGraph t;
    t.input("x", {1, 2, 3, 3});
    t.initializer("w", {3, 2, 1, 1}, w);
    t.initializer("ws", {int64_t(s.size())}, s);
    t.initializer_int("wz", onnx::TensorProto::INT8, {int64_t(s.size())}, std::vector<int64_t>(s.size(), 0));
    t.initializer_int("lo", onnx::TensorProto::INT8, {}, {-2});
    t.initializer_int("hi", onnx::TensorProto::INT8, {}, {1});
    t.node("QuantizeLinear", {"w", "ws", "wz"}, {"wq"}, "wquant", {{"axis", q_axis}});
    t.node("Clip", {"wq", "lo", "hi"}, {"wc"}, "wclip");
    t.node("DequantizeLinear", {"wc", "ws", "wz"}, {"wd"}, "wdequant", {{"axis", dq_axis}});
    add_conv(t, "conv", {"x", "wd"}, "y", 1, 1, 0);
    t.output("y");
    return t;
  };
  const std::vector<float> s = {0.25f, 0.5f, 1.0f};
  // Per channel, in units of s_o: ties 0.5 -> 0, 1.5 -> 2 -> clipped 1, -1.5 -> -2, -2.5 -> -2; saturation.
  const std::vector<float> units = {0.5f, 1.5f, -1.5f, -2.5f, 0.49f, -0.51f};
  std::vector<float> w;
  for (size_t o = 0; o < 3; ++o)
    for (size_t i = 0; i < 2; ++i) w.push_back(units[(o * 2 + i) % units.size()] * s[o]);
  SUBCASE("fires: per-channel int8 weights after an integer Clip, evaluated as ONNX defines them") {
    OnnxTestGraph t = graph(w, 0, 0, s);
    CHECK(matches(t, "qdq_weights", "wdequant"));
    Rewritten r = rewrite(t);
    const std::vector<float> want = {0.0f, 0.25f, -1.0f, -1.0f, 0.0f, -1.0f};  // levels {0, 1, -2, -2, 0, -1} * s_o
    CHECK(const_input(r.g, node(r.g, "conv"), 1) == want);
    check_end_to_end(t, lowbit_input(43, {1, 2, 3, 3}), "y", {}, 0.0);
  }
  SUBCASE("fires: per tensor, uint8 zero point 128, no Clip (8-bit weights of a float layer)") {
    OnnxTestGraph t;
    t.input("x", {1, 2, 3, 3});
    t.initializer("w", {3, 2, 1, 1}, {0.3f, -0.7f, 100.0f, -100.0f, 0.04f, 0.14f});
    t.output(qdq(t, "w", "wdequant", 0.1f, onnx::TensorProto::UINT8, 128));
    t.model.mutable_graph()->mutable_output()->Clear();
    add_conv(t, "conv", {"x", "wdequant.y"}, "y", 1, 1, 0);
    t.output("y");
    Rewritten r = rewrite(t);
    CHECK(r.fired("qdq_weights") == 1);
    check_close(const_input(r.g, node(r.g, "conv"), 1), {0.3f, -0.7f, 12.7f, -12.8f, 0.0f, 0.1f});
    check_end_to_end(t, lowbit_input(44, {1, 2, 3, 3}), "y");
  }
  SUBCASE("does not fire: axes that differ, a scale count that is not the axis' size") {
    CHECK_FALSE(matches(graph(w, 0, 1, s), "qdq_weights", "wdequant"));
    CHECK_FALSE(matches(graph(w, 0, 0, {0.25f, 0.5f}), "qdq_weights", "wdequant"));
    CHECK_FALSE(matches(graph(w, 1, 1, s), "qdq_weights", "wdequant"));  // axis 1 has 2 slices
  }
}

TEST_CASE("rules: offset_weight_conv") {
  const int64_t per = 4 * 9;
  SUBCASE("fires: LSQ's signed 2-bit weights {-2, -1, 0, 1} * s_o -> W2A2 planes + a W1A2 window sum") {
    const OnnxTestGraph t = qdq_conv(grid_weights(50, 3, per, -2, 1), 3);
    Rewritten r = rewrite(t);
    CHECK(r.fired("offset_weight_conv") == 1);
    const cv::Node& c = node(r.g, "conv");
    REQUIRE(c.op == cv::ops::kBinaryConv2D);
    CHECK(c.conv_params().weight_bits == 2);
    CHECK(c.in(4) != cv::kNoId);  // the offset, as the conv's residual
    CHECK(node(r.g, "conv/window_sum").op == cv::ops::kBinaryConv2D);
    check_end_to_end(t, conv_input(51), "y");
    Converted cv_ = convert(t);
    REQUIRE(cv_.status.ok());
    CHECK(contains(cv_.result.summary, "conv (Conv) -> binary BinaryConv2D W2A2 + residual"));
    CHECK(contains(cv_.result.summary, "binary layers: 2 (BinaryConv2D 2 (k-bit: W1A2 1, W2A2 1)"));
  }
  SUBCASE("fires: unsigned, 1-, 3- and 4-bit grids, a grouped conv, a BatchNormalization after it") {
    struct Case {
      const char* what;
      int lo, hi;
      int64_t group;
      bool bn;
      size_t digits;
    };
    const Case cases[] = {{"unsigned {0..3}", 0, 3, 1, false, 1}, {"1 bit {0, 1}", 0, 1, 1, false, 1},
                          {"3 bits {-4..3}", -4, 3, 1, false, 2},  {"4 bits {-8..7}", -8, 7, 1, false, 2},
                          {"group 2, {-1..2}", -1, 2, 2, false, 1}, {"BN after, {-2..1}", -2, 1, 1, true, 1}};
    for (const Case& k : cases) {
      CAPTURE(k.what);
      OnnxTestGraph t = qdq_conv(grid_weights(52, 4, per / k.group, k.lo, k.hi), 4, k.group);
      if (k.bn) {
        Rng rng(53);
        t.model.mutable_graph()->mutable_output()->Clear();
        add_bn(t, rng, "bn", "y", "z", 4);
        t.output("z");
      }
      Rewritten r = rewrite(t);
      CHECK(r.fired("offset_weight_conv") == 1);
      size_t planes = 0;
      for (size_t n = 0; n < r.g.node_count(); ++n)
        planes += !r.g.node(cv::NodeId(n)).dead && r.g.node(cv::NodeId(n)).op == cv::ops::kBinaryConv2D;
      CHECK(planes == k.digits + 1);
      const std::vector<std::string> ops = r.ops();
      CHECK(std::count(ops.begin(), ops.end(), "BatchNormalization") == 0);  // folded into the pieces
      check_end_to_end(t, conv_input(54), k.bn ? "z" : "y");
    }
  }
  SUBCASE("does not fire: symmetric ±s weights (binary_conv's), a float input, off-grid or 17-level weights") {
    std::vector<float> signs = Rng(55).signs(size_t(2 * per));
    Rewritten sym = rewrite(qdq_conv(signs, 2));
    CHECK(sym.fired("offset_weight_conv") == 0);
    CHECK(node(sym.g, "conv").op == cv::ops::kBinaryConv2D);
    OnnxTestGraph fl;
    fl.input("x", {1, 4, 5, 5});
    fl.initializer("w", {2, 4, 3, 3}, grid_weights(56, 2, per, -2, 1));
    add_conv(fl, "conv", {"x", "w"}, "y", 3, 1, 1);
    fl.output("y");
    CHECK(rewrite(fl).fired("offset_weight_conv") == 0);
    for (const std::vector<float>& w : {Rng(57).normal(size_t(2 * per), 0.3f), grid_weights(58, 2, per, -8, 8)}) {
      const OnnxTestGraph t = qdq_conv(w, 2);
      Converted c = convert(t);
      REQUIRE_MESSAGE(c.status.ok(), c.status.message());
      CHECK_FALSE(contains(c.result.summary, rule("offset_weight_conv").summary()));
      CHECK(contains(c.result.summary, "warning: node 'conv' (Conv) reads a k-bit activation but stays float"));
      check_end_to_end(t, conv_input(59), "y");
    }
  }
}

TEST_CASE("rules: qdq_int8_scales") {
  // x [1, 2, 5, 5] -> Q(uint8, s 0.05, zp 128) -> DQ -> Conv 3x3 (float weights) -> Q(uint8, s 0.1, zp 100) -> DQ
  OnnxTestGraph t;
  t.input("x", {1, 2, 5, 5});
  const std::string a = qdq(t, "x", "in8", 0.05f, onnx::TensorProto::UINT8, 128);
  t.initializer("w", {3, 2, 3, 3}, Rng(60).normal(54, 0.3f));
  add_conv(t, "conv", {a, "w"}, "c", 3, 1, 1);
  t.output(qdq(t, "c", "out8", 0.1f, onnx::TensorProto::UINT8, 100));
  const RefTensor x{{1, 2, 5, 5}, Rng(61).uniform(50, -3.0f, 3.0f)};
  SUBCASE("fires: both pairs become the conv's int8 scales (zero points moved to int8); a warning says so") {
    CHECK(matches(t, "qdq_int8_scales", "in8"));
    Rewritten r = rewrite(t);
    CHECK(r.fired("qdq_int8_scales") == 2);
    const cv::Node& c = node(r.g, "conv");
    CHECK(c.f("int8_input_scale") == 0.05f);
    CHECK(c.i("int8_input_zero_point") == 0);
    CHECK(c.f("int8_output_scale") == 0.1f);
    CHECK(c.i("int8_output_zero_point") == -28);
    CHECK(c.i("int8") == 1);
    CHECK(r.ops() == std::vector<std::string>{"Conv"});
    Converted f = convert(t);
    REQUIRE_MESSAGE(f.status.ok(), f.status.message());
    CHECK(contains(f.result.summary, "warning: node 'in8' (DequantizeLinear): an 8-bit fake quantization"));
    CHECK(f.result.int8_layers == 0);
    cv::ConvertOptions strict;
    strict.strict = true;
    check_convert_fails(t, {"node 'in8' (DequantizeLinear)", "--strict"}, strict);
  }
  SUBCASE("with --int8-float-layers the conv runs in int8 on them, no calibration needed, within one output step") {
    cv::ConvertOptions o;
    o.int8_float_layers = true;
    Converted c = convert(t, o);
    REQUIRE_MESSAGE(c.status.ok(), c.status.message());
    CHECK(c.result.int8_layers == 1);
    const RefTensor want = t.evaluate({{"x", x}}).at("out8.y");
    const std::vector<float> got = onebit::testing::run_model(c.result.model, onebit::testing::to_nhwc(x));
    const std::vector<float> w = onebit::testing::to_nhwc(want);
    REQUIRE(got.size() == w.size());
    for (size_t i = 0; i < got.size(); ++i) CHECK(std::fabs(got[i] - w[i]) <= 0.1f + 1e-5f);
  }
  SUBCASE("does not fire: an 8-bit pair next to no float layer stays an error naming it") {
    OnnxTestGraph u = chain({1, 2, 4, 4}, {{"Relu", "relu", "r"}});
    u.model.mutable_graph()->mutable_output()->Clear();
    u.output(qdq(u, "r", "q8", 0.05f, onnx::TensorProto::UINT8, 0));
    CHECK_FALSE(matches(u, "qdq_int8_scales", "q8"));
    check_convert_fails(u, {"node 'q8' (DequantizeLinear)", "256 levels"});
  }
}
