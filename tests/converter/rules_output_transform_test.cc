// Rewrite-rule tests: output transforms (output_transform.cc).
// Helpers and conventions: rules_test_util.h.
#include "rules_test_util.h"

using namespace rules_test;

// =========================================================================================================
// output_transform.cc

TEST_CASE("rules: fold_into_output_transform") {
  const int64_t O = 3;
  Rng r(16);
  const std::vector<float> signs = r.signs(size_t(O * 2 * 9));
  const std::vector<float> mags = {0.5f, 0.25f, 2.0f};
  std::vector<float> w = signs;
  for (size_t i = 0; i < w.size(); ++i) w[i] *= mags[i / 18];
  const std::vector<float> alpha = {0.5f, -2.0f, 1.5f}, divisor = {2.0f, 4.0f, 0.5f}, bias = {0.25f, -0.5f, 1.0f};
  // x -> Sign -> binary Conv -> chain -> y; returns the expected multiplier / bias / clamp next to the graph.
  struct Built {
    OnnxTestGraph t;
    std::vector<float> mult, bias;
    float lo = -INFINITY, hi = INFINITY;
  };
  auto graph = [&](const std::vector<std::string>& chain) {
    Built b;
    b.t.input("x", {1, 2, 4, 4});
    add_sign_conv(b.t, "x", "sign", "conv", "c0", {O, 2, 3, 3}, w);
    b.mult = mags;
    b.bias.assign(size_t(O), 0.0f);
    std::string cur = "c0";
    for (size_t k = 0; k < chain.size(); ++k) {
      const std::string& op = chain[k];
      const std::string out = k + 1 == chain.size() ? "y" : "c" + std::to_string(k + 1), name = op + std::to_string(k);
      std::vector<float> a(size_t(O), 1.0f), s(size_t(O), 0.0f);
      if (op == "Mul" || op == "Div" || op == "Add" || op == "Sub") {
        const std::vector<float>& v = op == "Mul" ? alpha : op == "Div" ? divisor : bias;
        b.t.initializer(name + ".c", {1, O, 1, 1}, v);
        b.t.node(op, {cur, name + ".c"}, {out}, name);
        for (size_t i = 0; i < size_t(O); ++i) {
          if (op == "Mul") a[i] = v[i];
          else if (op == "Div") a[i] = 1.0f / v[i];
          else if (op == "Add") s[i] = v[i];
          else s[i] = -v[i];
        }
      } else if (op == "BatchNormalization") {
        const BnParams bn = add_bn(b.t, r, name, cur, out, O);
        a = bn.scale();
        s = bn.shift();
      } else if (op == "Relu") {
        b.t.node("Relu", {cur}, {out}, name);
        b.lo = std::max(b.lo, 0.0f);
      } else if (op == "Clip") {
        b.t.initializer(name + ".lo", {}, {-1.0f});
        b.t.initializer(name + ".hi", {}, {2.0f});
        b.t.node("Clip", {cur, name + ".lo", name + ".hi"}, {out}, name);
        b.lo = std::max(b.lo, -1.0f);
        b.hi = std::min(b.hi, 2.0f);
      }
      for (size_t i = 0; i < size_t(O); ++i) {
        b.mult[i] *= a[i];
        b.bias[i] = b.bias[i] * a[i] + s[i];
      }
      cur = out;
    }
    b.t.output("y");
    return b;
  };
  const RefTensor x{{1, 2, 4, 4}, r.normal(32)};
  SUBCASE("fires: Mul alpha, Div, Add, Sub, BatchNormalization, Relu, Clip and chains of them") {
    const std::vector<std::vector<std::string>> chains = {
        {"Mul"}, {"Div"}, {"Add"}, {"Sub"}, {"BatchNormalization"}, {"Relu"}, {"Clip"},
        {"Mul", "BatchNormalization", "Relu"}, {"Div", "Add", "Sub", "Clip"}, {"Mul", "Relu", "Clip"}};
    for (const auto& chain : chains) {
      std::string label;
      for (const auto& op : chain) label += op + " ";
      CAPTURE(label);
      Built b = graph(chain);
      Rewritten rw = rewrite(b.t);
      CHECK(rw.fired("fold_into_output_transform") == int(chain.size()));
      CHECK(rw.ops() == std::vector<std::string>{cv::ops::kQuantize, cv::ops::kBinaryConv2D});
      const cv::Node& c = node(rw.g, "conv");
      REQUIRE(rw.g.outputs.size() == 1);
      CHECK(rw.g.outputs[0] == c.out());  // the graph output now reads the conv
      check_close(const_input(rw.g, c, 2), b.mult);
      check_close(const_input(rw.g, c, 3), b.bias);
      CHECK(c.conv_params().clamp_min == b.lo);
      CHECK(c.conv_params().clamp_max == b.hi);
      check_end_to_end(b.t, x, "y");
    }
  }
  SUBCASE("does not fire: the conv output has two users") {
    Built b = graph({"Mul"});
    b.t.output("c0");
    Rewritten rw = rewrite(b.t);
    CHECK(rw.fired("fold_into_output_transform") == 0);
    CHECK(find_node(rw.g, "Mul0") != cv::kNoId);
    check_close(const_input(rw.g, node(rw.g, "conv"), 2), mags);
  }
  SUBCASE("does not fire: an affine after a clamp") {
    Built b = graph({"Relu", "Mul"});
    Rewritten rw = rewrite(b.t);
    CHECK(rw.fired("fold_into_output_transform") == 1);  // the Relu only
    CHECK(find_node(rw.g, "Mul1") != cv::kNoId);
    const cv::Node& c = node(rw.g, "conv");
    CHECK(c.conv_params().clamp_min == 0.0f);
    check_close(const_input(rw.g, c, 2), mags);
    check_end_to_end(b.t, x, "y");
  }
  SUBCASE("does not fire: c - y, c / y, or a Mul by an activation") {
    for (const std::string op : {"Sub", "Div", "Mul"}) {
      CAPTURE(op);
      OnnxTestGraph t;
      t.input("x", {1, 2, 4, 4});
      t.input("z", {1, O, 4, 4});
      add_sign_conv(t, "x", "sign", "conv", "c0", {O, 2, 3, 3}, w);
      t.initializer("k", {1, O, 1, 1}, divisor);
      t.node(op, op == "Mul" ? std::vector<std::string>{"c0", "z"} : std::vector<std::string>{"k", "c0"}, {"y"}, "after");
      t.output("y");
      const Steps binary = {{"sign_to_quantize", "sign"}, {"binary_conv", "conv"}};
      CHECK_FALSE(matches(t, "fold_into_output_transform", "conv", binary));
    }
  }
}

TEST_CASE("rules: bitpacked_output") {
  Rng r(17);
  // x -> Sign -> conv1 (binary) -> BN -> Sign -> conv2 (binary) -> y [; Sign output also -> Relu -> z]
  auto graph = [&](bool float_reader, BnParams* bn) {
    OnnxTestGraph t = binary_conv_bn_sign(r, true, bn);
    if (float_reader) add_float_reader(t, "sign2", "relu");
    return t;
  };
  SUBCASE("fires: every reader of the bits is binary; conv1 writes bits with the BN threshold") {
    BnParams bn;
    OnnxTestGraph t = graph(false, &bn);
    Rewritten rw = rewrite(t);
    CHECK(rw.fired("bitpacked_output") == 1);
    CHECK(rw.count(cv::ops::kQuantize) == 1);
    CHECK(rw.count(cv::ops::kDequantize) == 0);
    const cv::Node& c1 = node(rw.g, "conv1");
    const cv::Node& c2 = node(rw.g, "conv2");
    CHECK(rw.g.value(c1.out()).dtype == cv::DType::kBits);
    CHECK(c1.conv_params().bitpacked_output);  // what the builder is told, and what shape inference keeps
    CHECK_FALSE(c2.conv_params().bitpacked_output);
    CHECK(c2.in(0) == c1.out());
    // bit = (scale * dot + shift < 0): the BN's affine, as computed here.
    check_close(const_input(rw.g, c1, 2), bn.scale());
    check_close(const_input(rw.g, c1, 3), bn.shift());
    check_end_to_end(t, RefTensor{{1, 2, 4, 4}, r.normal(32)}, "y");
  }
  SUBCASE("does not fire: a float op also reads the Sign output") {
    BnParams bn;
    OnnxTestGraph t = graph(true, &bn);
    Rewritten rw = rewrite(t);
    CHECK(rw.fired("bitpacked_output") == 0);
    const cv::Node& c1 = node(rw.g, "conv1");
    CHECK(rw.g.value(c1.out()).dtype == cv::DType::kFloat);
    // The late fusion then has conv1 write the Sign's bits as its second output (rules_binary_fusion_test.cc);
    // the float reference keeps the Quantize, on which bitpacked_output still does not match.
    CHECK(c1.outputs.size() == 2);
    cv::RewriteOptions reference;
    reference.float_reference = true;
    Rewritten rr = rewrite(t, reference);
    CHECK(rr.fired("bitpacked_output") == 0);
    const cv::Node& q = node(rr.g, "sign2");
    CHECK(q.op == cv::ops::kQuantize);
    CHECK(q.in(0) == node(rr.g, "conv1").out());
    CHECK(matches(rr.g, "bitpacked_output", "sign2") == false);
  }
  SUBCASE("does not fire: the bits are a graph output") {
    const OnnxTestGraph t = binary_conv_bn_sign(r, false);
    Rewritten rw = rewrite(t);
    CHECK(rw.fired("bitpacked_output") == 0);
    CHECK(rw.g.value(node(rw.g, "conv1").out()).dtype == cv::DType::kFloat);
    cv::RewriteOptions reference;  // keeps the Quantize (no FloatAndBitPacked fusion)
    reference.float_reference = true;
    Rewritten rr = rewrite(t, reference);
    CHECK(rr.fired("bitpacked_output") == 0);
    CHECK(node(rr.g, "sign2").op == cv::ops::kQuantize);
  }
}
