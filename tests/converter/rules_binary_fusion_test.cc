// Rewrite-rule tests: fusions into binary convs (binary_fusion.cc).
// Helpers and conventions: rules_test_util.h.
#include "rules_test_util.h"

using namespace rules_test;

// =========================================================================================================
// binary_fusion.cc (issue 12)

namespace {

// x [1, 4, 5, 5] -> Sign -> conv (±1, 3x3 pad 1) -> [Relu: the conv's own clamp] -> Add(., x) (or Add(x, .))
// -> y [-> Relu -> y2]; with `second_reader` the conv output also feeds Relu -> z.
OnnxTestGraph residual_graph(Rng& r, bool second_reader, bool own_clamp, bool swap, bool relu_after = false) {
  OnnxTestGraph t;
  t.input("x", {1, 4, 5, 5});
  add_sign_conv(t, "x", "sign", "conv", "c", {4, 4, 3, 3}, r.signs(144));
  std::string c = "c";
  if (own_clamp) {
    t.node("Relu", {"c"}, {"cr"}, "conv_relu");
    c = "cr";
  }
  t.node("Add", swap ? std::vector<std::string>{"x", c} : std::vector<std::string>{c, "x"}, {"y"}, "add");
  if (relu_after) {
    t.node("Relu", {"y"}, {"y2"}, "add_relu");
    t.output("y2");
  } else {
    t.output("y");
  }
  if (second_reader) add_float_reader(t, "c", "other_reader");
  return t;
}

}  // namespace

TEST_CASE("rules: residual_into_binary_conv") {
  Rng r(41);
  SUBCASE("fires: Add(conv, x) and Add(x, conv) -> the conv with residual x; a Relu after becomes its clamp") {
    for (bool swap : {false, true})
      for (bool relu_after : {false, true}) {
        CAPTURE(swap); CAPTURE(relu_after);
        OnnxTestGraph t = residual_graph(r, false, false, swap, relu_after);
        Rewritten rw = rewrite(t);
        CHECK(rw.fired("residual_into_binary_conv") == 1);
        CHECK(rw.count("Add") == 0);
        const cv::Node& conv = node(rw.g, "conv");
        REQUIRE(conv.op == cv::ops::kBinaryConv2D);
        CHECK(conv.in(4) == rw.g.find_value("x"));
        CHECK(conv.conv_params().clamp_min == (relu_after ? 0.0f : -INFINITY));
        CHECK(rw.count("Relu") == 0);
        const Converted c = convert(t);
        REQUIRE(c.status.ok());
        CHECK(contains(c.result.summary, "+ residual"));
        check_end_to_end(t, RefTensor{{1, 4, 5, 5}, r.normal(100)}, relu_after ? "y2" : "y");
      }
  }
  SUBCASE("does not fire: the conv output has a second reader before the Add") {
    OnnxTestGraph t = residual_graph(r, true, false, false);
    Rewritten rw = rewrite(t);
    CHECK(rw.fired("residual_into_binary_conv") == 0);
    CHECK(rw.count("Add") == 1);
    CHECK(node(rw.g, "conv").in(4) == cv::kNoId);
    check_end_to_end(t, RefTensor{{1, 4, 5, 5}, r.normal(100)}, "y");
  }
  SUBCASE("does not fire: the conv has a clamp of its own (a Relu between conv and Add)") {
    OnnxTestGraph t = residual_graph(r, false, true, false);
    Rewritten rw = rewrite(t);
    CHECK(rw.fired("residual_into_binary_conv") == 0);
    CHECK(node(rw.g, "conv").conv_params().clamp_min == 0.0f);
    CHECK(rw.count("Add") == 1);
    check_end_to_end(t, RefTensor{{1, 4, 5, 5}, r.normal(100)}, "y");
  }
  SUBCASE("does not fire: Add of a conv output and a per-channel constant (that is a bias: folded instead)") {
    OnnxTestGraph t;
    t.input("x", {1, 4, 5, 5});
    add_sign_conv(t, "x", "sign", "conv", "c", {4, 4, 3, 3}, r.signs(144));
    t.initializer("k", {1, 4, 1, 1}, r.normal(4));
    t.node("Add", {"c", "k"}, {"y"}, "add");
    t.output("y");
    Rewritten rw = rewrite(t);
    CHECK(rw.fired("residual_into_binary_conv") == 0);
    CHECK(rw.fired("fold_into_output_transform") == 1);
  }
}

namespace {

// Two Bi-Real blocks on x [1, 5, 5, 5]: y1 = conv1(Sign x) + x, y2 = conv2(Sign y1) + y1 [, z = Relu(y1)].
OnnxTestGraph bireal_graph(Rng& r) {
  OnnxTestGraph t;
  t.input("x", {1, 5, 5, 5});
  add_sign_conv(t, "x", "sign1", "conv1", "c1", {5, 5, 3, 3}, r.signs(225));
  t.node("Add", {"c1", "x"}, {"y1"}, "add1");
  add_sign_conv(t, "y1", "sign2", "conv2", "c2", {5, 5, 3, 3}, r.signs(225));
  t.node("Add", {"y1", "c2"}, {"y"}, "add2");
  t.output("y");
  return t;
}

}  // namespace

TEST_CASE("rules: quantize_into_binary_conv") {
  Rng r(42);
  SUBCASE("fires: the Sign of a residual block's output is written by that block's conv") {
    OnnxTestGraph t = bireal_graph(r);
    Rewritten rw = rewrite(t);
    CHECK(rw.fired("residual_into_binary_conv") == 2);
    CHECK(rw.fired("quantize_into_binary_conv") == 1);
    // The Sign's bits are the conv's second output (the Quantize node is gone), its name kept for the summary.
    const cv::Node& conv1 = node(rw.g, "conv1");
    REQUIRE(conv1.outputs.size() == 2);
    CHECK(node(rw.g, "conv2").in(0) == conv1.out(1));  // the next block's binary conv reads them
    CHECK(rw.g.value(conv1.out(1)).dtype == cv::DType::kBits);
    CHECK(rw.g.value(conv1.out(1)).producer == find_node(rw.g, "conv1"));
    CHECK(conv1.s("bits_from") == "sign2");
    CHECK(rw.count(cv::ops::kQuantize) == 1);  // sign1 only
    const Converted c = convert(t);
    REQUIRE(c.status.ok());
    CHECK(contains(c.result.summary, "(float and bits output)"));
    CHECK(contains(c.result.summary, "written by binary BinaryConv2D 'conv1'"));
    check_end_to_end(t, RefTensor{{1, 5, 5, 5}, r.normal(125)}, "y");
    check_end_to_end(t, RefTensor{{1, 5, 5, 5}, r.normal(125)}, "y", [] {
      cv::ConvertOptions o;
      o.float_reference = true;
      return o;
    }());
  }
  SUBCASE("does not fire: a Quantize of a graph input, of a float op, or of a conv whose bits are all binary reads") {
    OnnxTestGraph t = bireal_graph(r);
    Rewritten rw = rewrite(t);
    CHECK_FALSE(matches(rw.g, "quantize_into_binary_conv", "sign1"));  // reads x
    CHECK(node(rw.g, "sign1").op == cv::ops::kQuantize);
    CHECK(node(rw.g, "conv2").outputs.size() == 1);  // conv2's output is read by the Add only
    OnnxTestGraph f;
    f.input("x", {1, 2, 4, 4});
    f.node("Relu", {"x"}, {"rx"}, "relu");
    add_sign_conv(f, "rx", "sign", "conv", "y", {2, 2, 3, 3}, r.signs(36));
    f.output("y");
    Rewritten rf = rewrite(f);
    CHECK(rf.fired("quantize_into_binary_conv") == 0);
  }
  SUBCASE("does not fire: bitpacked_output takes a Quantize whose every reader is binary") {
    // The BN is a bias, so the conv output cannot be exactly 0 (binary Sign).
    Rewritten rw = rewrite(binary_conv_bn_sign(r, true));
    CHECK(rw.fired("bitpacked_output") == 1);
    CHECK(rw.fired("quantize_into_binary_conv") == 0);
  }
}

TEST_CASE("rules: sign_before_max_pool") {
  Rng r(43);
  // x [1, 3, 6, 6] -> MaxPool 2x2/2 [-> BatchNorm] -> Sign -> conv -> y [; MaxPool also -> Relu -> z]
  auto graph = [&](bool second_reader, bool bn_between, float gamma0) {
    OnnxTestGraph t;
    t.input("x", {1, 3, 6, 6});
    add_pool(t, "MaxPool", "pool", "x", "p", 2, 2);
    std::string s_in = "p";
    if (bn_between) {
      std::vector<float> g = {gamma0, 0.7f, 1.3f};
      t.node("BatchNormalization", {"p", "g", "b", "m", "v"}, {"pb"}, "bn");
      t.initializer("g", {3}, g);
      t.initializer("b", {3}, r.normal(3));
      t.initializer("m", {3}, r.normal(3));
      t.initializer("v", {3}, {1.0f, 0.5f, 2.0f});
      s_in = "pb";
    }
    add_sign_conv(t, s_in, "sign", "conv", "y", {4, 3, 3, 3}, r.signs(108));
    t.output("y");
    if (second_reader) add_float_reader(t, "p", "relu");
    return t;
  };
  SUBCASE("fires: Sign(MaxPool x) -> BinaryMaxPool(Sign x), also with a BatchNorm threshold of positive scales") {
    for (bool bn_between : {false, true}) {
      CAPTURE(bn_between);
      OnnxTestGraph t = graph(false, bn_between, 0.9f);
      Rewritten rw = rewrite(t);
      CHECK(rw.fired("sign_before_max_pool") == 1);
      CHECK(rw.count("MaxPool") == 0);
      CHECK(rw.count(cv::ops::kBinaryMaxPool2D) == 1);
      CHECK(rw.count(cv::ops::kQuantize) == 1);
      check_end_to_end(t, RefTensor{{1, 3, 6, 6}, r.normal(108)}, "y");
    }
  }
  SUBCASE("does not fire: the MaxPool output has another reader; a negative BatchNorm scale (flipped compare)") {
    for (const OnnxTestGraph& t : {graph(true, false, 0.9f), graph(false, true, -0.9f)}) {
      Rewritten rw = rewrite(t);
      CHECK(rw.fired("sign_before_max_pool") == 0);
      CHECK(rw.count("MaxPool") == 1);
    }
  }
}

namespace {

// DoReFa without the STE residue, names prefixed: Clip(x, 0, 1) -> Mul(n) -> Round -> Div(n).
std::string dorefa_levels(OnnxTestGraph& t, const std::string& p, const std::string& x, float n) {
  scalar(t, p + ".lo", 0.0f);
  scalar(t, p + ".hi", 1.0f);
  scalar(t, p + ".n", n);
  return add_chain(t, x,
                   {{"Clip", p + ".clip", p + ".c", {"^", p + ".lo", p + ".hi"}},
                    {"Mul", p + ".mul", p + ".m", {"^", p + ".n"}},
                    {"Round", p + ".round", p + ".r"},
                    {"Div", p + ".div", p + ".q", {"^", p + ".n"}}});
}

// Two W1A2 residual blocks on x [1, 4, 5, 5]: y1 = conv1(q(x)) + x, y = conv2(q(y1)) + y1, q a 2-bit DoReFa
// quantizer (n = 3); with `second_quantizer` y1 is also quantized at n = 15 for a third conv z, output s = y + z.
OnnxTestGraph kbit_blocks(Rng& r, bool second_quantizer) {
  OnnxTestGraph t;
  t.input("x", {1, 4, 5, 5});
  t.initializer("w1", {4, 4, 3, 3}, r.signs(144));
  add_conv(t, "conv1", {dorefa_levels(t, "q1", "x", 3.0f), "w1"}, "c1", 3, 1, 1);
  t.node("Add", {"c1", "x"}, {"y1"}, "add1");
  t.initializer("w2", {4, 4, 3, 3}, r.signs(144));
  add_conv(t, "conv2", {dorefa_levels(t, "q2", "y1", 3.0f), "w2"}, "c2", 3, 1, 1);
  t.node("Add", {"y1", "c2"}, {"y"}, "add2");
  if (!second_quantizer) {
    t.output("y");
    return t;
  }
  t.initializer("w3", {4, 4, 3, 3}, r.signs(144));
  add_conv(t, "conv3", {dorefa_levels(t, "q3", "y1", 15.0f), "w3"}, "z", 3, 1, 1);
  t.node("Add", {"y", "z"}, {"s"}, "add3");
  t.output("s");
  return t;
}

}  // namespace

TEST_CASE("rules: quantize_into_binary_conv with k-bit levels (FloatAndLevels, issue 20)") {
  Rng r(44);
  SUBCASE("fires: the next block's QuantizeLevels is written by the conv whose output it reads") {
    OnnxTestGraph t = kbit_blocks(r, false);
    Rewritten rw = rewrite(t);
    CHECK(rw.fired("quantize_into_binary_conv") == 1);
    const cv::Node& conv1 = node(rw.g, "conv1");
    REQUIRE(conv1.op == cv::ops::kBinaryConv2D);
    REQUIRE(conv1.outputs.size() == 2);
    const cv::Value& levels = rw.g.value(conv1.out(1));
    CHECK(levels.dtype == cv::DType::kLevels);
    check_levels(levels.levels, 2, 0, 1.0f / 3);
    CHECK(node(rw.g, "conv2").in(0) == conv1.out(1));
    CHECK(rw.count(cv::ops::kQuantizeLevels) == 1);  // the first block's, which reads x
    const Converted c = convert(t);
    REQUIRE(c.status.ok());
    CHECK(contains(c.result.summary, "(float and levels output)"));
    CHECK(contains(c.result.summary, "(FloatAndLevels)"));
    CHECK(contains(c.result.summary, "k-bit activation quantizers: 2"));
    for (uint32_t seed : {45u, 46u}) check_end_to_end(t, lowbit_input(seed, {1, 4, 5, 5}), "y");
    cv::ConvertOptions o;
    o.float_reference = true;
    check_end_to_end(t, lowbit_input(47, {1, 4, 5, 5}), "y", o);
  }
  SUBCASE("one second output per conv: of two quantizers of y1 the conv writes one, the other stays") {
    OnnxTestGraph t = kbit_blocks(r, true);
    Rewritten rw = rewrite(t);
    CHECK(rw.fired("quantize_into_binary_conv") == 1);
    CHECK(node(rw.g, "conv1").outputs.size() == 2);
    CHECK(rw.count(cv::ops::kQuantizeLevels) == 2);
    check_end_to_end(t, lowbit_input(48, {1, 4, 5, 5}), "s");
  }
  SUBCASE("does not fire: the float reference keeps QuantizeLevels as its own operator") {
    cv::RewriteOptions o;
    o.float_reference = true;
    Rewritten rw = rewrite(kbit_blocks(r, false), o);
    CHECK(rw.fired("quantize_into_binary_conv") == 0);
    CHECK(rw.count(cv::ops::kQuantizeLevels) == 2);
  }
}
