// Rewrite-rule tests: NHWC feature order (layout.cc).
// Helpers and conventions: rules_test_util.h.
#include "rules_test_util.h"

using namespace rules_test;

// =========================================================================================================
// layout.cc

TEST_CASE("rules: flatten_feature_order") {
  const int64_t C = 2, H = 2, W = 3, HW = H * W, K = C * HW, O = 3;
  Rng r(18);
  const std::vector<float> w_ok = r.normal(size_t(O * K));  // Gemm transB: [O][K]
  auto graph = [&](const std::string& fc_op, bool extra_reader) {
    OnnxTestGraph t;
    t.input("x", {1, C, H, W});
    t.node("Flatten", {"x"}, {"f"}, "flatten");
    add_fc(t, "fc", "f", "y", O, K, w_ok, fc_op == "MatMul");  // MatMul: [K, O] weights
    t.output("y");
    if (extra_reader) add_float_reader(t, "f", "relu");
    return t;
  };
  SUBCASE("fires: Gemm (transB) and MatMul weights' input columns permuted from (c, h, w) to (h, w, c)") {
    for (const std::string op : {"Gemm", "MatMul"}) {
      CAPTURE(op);
      cv::Graph g = import(graph(op, false));
      REQUIRE(fire(g, "flatten_feature_order", "flatten").ok());
      CHECK(node(g, "flatten").i("nhwc_order") == 1);
      CHECK_FALSE(matches(g, "flatten_feature_order", "flatten"));
      const std::vector<float> nw = const_input(g, node(g, "fc"), 1);
      for (int64_t o = 0; o < O; ++o)
        for (int64_t c = 0; c < C; ++c)
          for (int64_t p = 0; p < HW; ++p) {
            const int64_t nhwc = p * C + c;
            const float got = op == "Gemm" ? nw[size_t(o * K + nhwc)] : nw[size_t(nhwc * O + o)];
            CHECK(got == w_ok[size_t(o * K + c * HW + p)]);
          }
    }
    Rewritten rw = rewrite(graph("MatMul", false));
    CHECK(rw.fired("flatten_feature_order") == 1);
    check_end_to_end(graph("Gemm", false), RefTensor{{1, C, H, W}, r.normal(size_t(K))}, "y");
  }
  SUBCASE("fires through Quantize / Dequantize: per-feature thresholds and the binary Gemm's weights permuted") {
    const BnSignFlattenFc n = bn_sign_flatten_fc(r, C, H, W, O);
    const OnnxTestGraph& t = n.t;
    const BnParams& bn = n.bn;
    const std::vector<float>& ws = n.w;
    cv::Graph g =
        import_fired(t,
                     {{"sign_to_quantize", "sign"}, {"affine_into_quantize", "sign"}, {"binary_flatten", "flatten"}});
    // Per-feature shift that differs per feature, so the permutation is visible in it too.
    const cv::Node& q0 = sole_reader(g, node(g, "flatten").out());
    REQUIRE(q0.op == cv::ops::kQuantize);
    std::vector<float> shift(static_cast<size_t>(K));
    for (int64_t k = 0; k < K; ++k) shift[size_t(k)] = float(k) + 0.5f;
    g.set_input(find_node(g, q0.name), 2, g.add_constant("distinct_shift", cv::Tensor::floats({K}, shift)));
    REQUIRE(fire(g, "flatten_feature_order", "flatten").ok());
    const cv::Node& f = node(g, "flatten");
    CHECK(f.i("nhwc_order") == 1);
    const cv::Node& q = sole_reader(g, f.out());
    const std::vector<float> scale = const_input(g, q, 1), nshift = const_input(g, q, 2);
    const std::vector<float> nw = const_input(g, node(g, "fc"), 1);
    for (int64_t c = 0; c < C; ++c)
      for (int64_t p = 0; p < HW; ++p) {
        CHECK(scale[size_t(p * C + c)] == doctest::Approx(bn.scale()[size_t(c)]));
        CHECK(nshift[size_t(p * C + c)] == shift[size_t(c * HW + p)]);
        for (int64_t o = 0; o < O; ++o) CHECK(nw[size_t(o * K + p * C + c)] == ws[size_t(o * K + c * HW + p)]);
      }
    Rewritten rw = rewrite(t);
    CHECK(rw.fired("flatten_feature_order") == 1);
    CHECK(node(rw.g, "fc").op == cv::ops::kBinaryFullyConnected);
    check_end_to_end(t, RefTensor{{1, C, H, W}, r.normal(size_t(K))}, "y");
  }
  SUBCASE("does not fire: another reader, a flatten of [N, C, 1, 1], a graph output") {
    OnnxTestGraph t;
    t.input("x", {1, C, 1, 1});
    t.node("Flatten", {"x"}, {"f"}, "flatten");
    add_fc(t, "fc", "f", "y", O, C, r.normal(size_t(O * C)));
    t.output("y");
    OnnxTestGraph o = graph("Gemm", false);
    o.output("f");
    for (const OnnxTestGraph& u : {graph("Gemm", true), t, o})
      CHECK_FALSE(matches(u, "flatten_feature_order", "flatten"));
  }
}

// Regression: in the driver's order the BatchNormalization in front of the Sign folds into the Quantize
// first (binary_flatten waits for affine_into_quantize), then the Flatten moves with per-feature thresholds.
TEST_CASE("rules: binary_flatten keeps the BatchNormalization threshold in the driver's order") {
  const int64_t C = 2;
  Rng r(19);
  const BnSignFlattenFc n = bn_sign_flatten_fc(r, C, 2, 2, 3);
  const BnParams& bn = n.bn;
  Rewritten rw = rewrite(n.t);
  CHECK(rw.count("BatchNormalization") == 0);
  const cv::Node& f = node(rw.g, "flatten");
  CHECK(f.in(0) == rw.g.find_value("x"));
  const cv::Node& q = sole_reader(rw.g, f.out());
  REQUIRE(q.in(1) != cv::kNoId);
  const std::vector<float> scale = const_input(rw.g, q, 1);
  for (int64_t c = 0; c < C; ++c)
    for (int64_t p = 0; p < 4; ++p) CHECK(scale[size_t(p * C + c)] == doctest::Approx(bn.scale()[size_t(c)]));
}
