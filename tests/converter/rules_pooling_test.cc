// Rewrite-rule tests: pooling rules (pooling.cc).
// Helpers and conventions: rules_test_util.h.
#include "rules_test_util.h"

using namespace rules_test;

// =========================================================================================================
// pooling.cc

namespace {

// ONNX's SAME_* padding for one axis: output ceil(in / stride); total = max(0, (out - 1) * stride + k - in);
// SAME_UPPER puts the odd extra pad at the end, SAME_LOWER at the beginning.
std::pair<int64_t, int64_t> same_pads(int64_t in, int64_t k, int64_t stride, bool upper) {
  const int64_t out = (in + stride - 1) / stride;
  const int64_t total = std::max<int64_t>(0, (out - 1) * stride + k - in);
  const int64_t extra = total % 2, half = total / 2;
  return upper ? std::make_pair(half, half + extra) : std::make_pair(half + extra, half);
}

}  // namespace

TEST_CASE("rules: explicit_auto_pad") {
  // H = 7 (odd), W = 8 (even), stride 2, kernel 3 (conv) or 2 (pools).
  for (const std::string op : {"Conv", "MaxPool", "AveragePool"}) {
    for (const std::string mode : {"SAME_UPPER", "SAME_LOWER", "VALID"}) {
      CAPTURE(op);
      CAPTURE(mode);
      const int64_t k = op == "Conv" ? 3 : 2;
      Attrs a = {{"strides", {2, 2}}, {"auto_pad", mode.c_str()}};
      if (op != "Conv") a.insert(a.begin(), Attr("kernel_shape", {k, k}));
      OnnxTestGraph t =
          chain({1, 2, 7, 8},
                {{op, "op", "y", op == "Conv" ? std::vector<std::string>{"^", "w"} : std::vector<std::string>{}, a}});
      if (op == "Conv") t.initializer("w", {2, 2, 3, 3}, Rng(1).normal(36));
      cv::Graph g = import_fired(t, {{"explicit_auto_pad", "op"}});
      const cv::Node& p = node(g, "op");
      CHECK(p.s("auto_pad") == "NOTSET");
      std::vector<int64_t> want = {0, 0, 0, 0};
      if (mode != "VALID") {
        const auto h = same_pads(7, k, 2, mode == "SAME_UPPER"), w = same_pads(8, k, 2, mode == "SAME_UPPER");
        want = {h.first, w.first, h.second, w.second};
      }
      CHECK(p.ints("pads") == want);
      CHECK_FALSE(matches(g, "explicit_auto_pad", "op"));
      // Same output shape as ONNX's own inference of the auto_pad form (ceil(in / stride) for SAME).
      const auto& ys = g.value(p.out()).shape;
      CHECK(ys == (mode == "VALID" ? std::vector<int64_t>{1, 2, (7 - k) / 2 + 1, (8 - k) / 2 + 1}
                                   : std::vector<int64_t>{1, 2, 4, 4}));
    }
  }
  // The hand-computed values the formula gives (so the formula above is checked too):
  CHECK(same_pads(7, 3, 2, true) == std::make_pair<int64_t, int64_t>(1, 1));
  CHECK(same_pads(8, 3, 2, true) == std::make_pair<int64_t, int64_t>(0, 1));
  CHECK(same_pads(8, 3, 2, false) == std::make_pair<int64_t, int64_t>(1, 0));
  CHECK(same_pads(7, 2, 2, false) == std::make_pair<int64_t, int64_t>(1, 0));
  CHECK(same_pads(8, 2, 2, true) == std::make_pair<int64_t, int64_t>(0, 0));

  SUBCASE("end to end: SAME_LOWER conv equals the explicitly padded conv") {
    Rng r(3);
    const std::vector<float> w = r.normal(2 * 2 * 9);
    auto conv = [&](const Attr& padding) {
      OnnxTestGraph t = chain({1, 2, 8, 8}, {{"Conv", "conv", "y", {"^", "w"}, {{"strides", {2, 2}}, padding}}});
      t.initializer("w", {2, 2, 3, 3}, w);
      return t;
    };
    const OnnxTestGraph t = conv({"auto_pad", "SAME_LOWER"});
    const OnnxTestGraph ref = conv({"pads", {1, 1, 0, 0}});  // the reference evaluator reads explicit pads only
    const RefTensor x{{1, 2, 8, 8}, r.normal(128)};
    Converted c = convert(t);
    REQUIRE_MESSAGE(c.status.ok(), c.status.message());
    const std::vector<float> got = onebit::testing::run_model(c.result.model, onebit::testing::to_nhwc(x));
    check_close(got, onebit::testing::to_nhwc(ref.evaluate({{"x", x}}).at("y")), 1e-4);
  }
  SUBCASE("does not fire: NOTSET, or a conv whose weights are not constant") {
    OnnxTestGraph t;
    t.input("x", {1, 2, 7, 8});
    t.input("w", {2, 2, 3, 3});
    t.node("Conv", {"x", "w"}, {"y"}, "conv", {{"auto_pad", "SAME_UPPER"}});
    add_pool(t, "MaxPool", "pool", "x", "p", 2, 2);
    t.output("y");
    t.output("p");
    cv::Graph g = import(t);
    for (const char* n : {"conv", "pool"}) CHECK_FALSE(matches(g, "explicit_auto_pad", n));
  }
}

TEST_CASE("rules: ceil_mode_equal") {
  auto graph = [](int64_t size, bool ceil = true) {
    Attrs a = pool_attrs(2, 2);
    if (ceil) a.push_back({"ceil_mode", 1});
    return chain({1, 2, size, size}, {{"MaxPool", "pool", "y", {}, a}});
  };
  SUBCASE("fires where ceil == floor (8x8, kernel 2, stride 2)") {
    cv::Graph g = import_fired(graph(8), {{"ceil_mode_equal", "pool"}});
    CHECK(node(g, "pool").i("ceil_mode") == 0);
    CHECK(g.value(node(g, "pool").out()).shape == std::vector<int64_t>{1, 2, 4, 4});
    CHECK_FALSE(matches(g, "ceil_mode_equal", "pool"));
    Rng r(4);
    check_end_to_end(graph(8), RefTensor{{1, 2, 8, 8}, r.normal(128)}, "y");
  }
  SUBCASE("does not fire where they differ (7x7: ceil 4, floor 3); the conversion names ceil_mode") {
    CHECK_FALSE(matches(graph(7), "ceil_mode_equal", "pool"));
    Rewritten r = rewrite(graph(7));
    CHECK(r.fired("ceil_mode_equal") == 0);
    CHECK(node(r.g, "pool").i("ceil_mode") == 1);
    check_convert_fails(graph(7), {"ceil_mode", "node 'pool' (MaxPool)"});
  }
  SUBCASE("does not fire when ceil_mode is 0") { CHECK_FALSE(matches(graph(8, false), "ceil_mode_equal", "pool")); }
}

TEST_CASE("rules: strided_slice_to_pool") {
  // x[1, 3, 6, 5] sliced with starts/ends/axes/steps.
  auto graph = [](const std::vector<int64_t>& starts, const std::vector<int64_t>& ends,
                  const std::vector<int64_t>& axes, const std::vector<int64_t>& steps) {
    OnnxTestGraph t = chain({1, 3, 6, 5}, {{"Slice", "slice", "y", {"^", "starts", "ends", "axes", "steps"}}});
    const int64_t n = int64_t(starts.size());
    t.initializer_i64("starts", {n}, starts);
    t.initializer_i64("ends", {n}, ends);
    t.initializer_i64("axes", {n}, axes);
    t.initializer_i64("steps", {n}, steps);
    return t;
  };
  SUBCASE("fires: x[:, :, ::2, ::2] -> 1x1 MaxPool stride 2 (same values)") {
    OnnxTestGraph t = graph({0, 0}, {kEnd, kEnd}, {2, 3}, {2, 2});
    cv::Graph g = import_fired(t, {{"strided_slice_to_pool", "slice"}});
    const cv::Node& p = node(g, "slice");
    CHECK(p.op == "MaxPool");
    CHECK(p.ints("kernel_shape") == std::vector<int64_t>{1, 1});
    CHECK(p.ints("strides") == std::vector<int64_t>{2, 2});
    CHECK(p.ints("pads") == std::vector<int64_t>{0, 0, 0, 0});
    CHECK(g.value(p.out()).shape == std::vector<int64_t>{1, 3, 3, 3});  // ceil(6/2), ceil(5/2)
    // Values: the converted model against x[:, :, ::2, ::2] computed here.
    Rng r(5);
    const RefTensor x{{1, 3, 6, 5}, r.normal(90)};
    RefTensor want{{1, 3, 3, 3}, {}};
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t h = 0; h < 6; h += 2)
        for (int64_t w = 0; w < 5; w += 2) want.data.push_back(x.data[size_t((c * 6 + h) * 5 + w)]);
    Converted conv = convert(t);
    REQUIRE_MESSAGE(conv.status.ok(), conv.status.message());
    CHECK(onebit::testing::run_model(conv.result.model, onebit::testing::to_nhwc(x)) == onebit::testing::to_nhwc(want));
  }
  SUBCASE("fires: one axis, negative start -dim, steps 3 on H only") {
    cv::Graph g = import_fired(graph({-6}, {kEnd}, {-2}, {3}), {{"strided_slice_to_pool", "slice"}});
    CHECK(node(g, "slice").ints("strides") == std::vector<int64_t>{3, 1});
  }
  SUBCASE("does not fire: a nonzero start") {
    CHECK_FALSE(matches(graph({1, 0}, {kEnd, kEnd}, {2, 3}, {2, 2}), "strided_slice_to_pool", "slice"));
  }
  SUBCASE("does not fire: an end before the end of the axis") {
    CHECK_FALSE(matches(graph({0, 0}, {5, kEnd}, {2, 3}, {2, 2}), "strided_slice_to_pool", "slice"));
  }
  SUBCASE("does not fire: a step on the channel axis") {
    for (const OnnxTestGraph& t : {graph({0}, {kEnd}, {1}, {2}), graph({0, 0}, {kEnd, kEnd}, {1, 2}, {2, 2})})
      CHECK_FALSE(matches(t, "strided_slice_to_pool", "slice"));
  }
  SUBCASE("does not fire: steps of 1 (nothing to subsample)") {
    CHECK_FALSE(matches(graph({0, 0}, {kEnd, kEnd}, {2, 3}, {1, 1}), "strided_slice_to_pool", "slice"));
  }
}

TEST_CASE("rules: pad_into_average_pool") {
  auto graph = [](float value, const std::vector<int64_t>& pads, const std::string& mode = "constant",
                  const std::vector<int64_t>& pool_pads = {}) {
    OnnxTestGraph t;
    t.input("x", {1, 2, 5, 5});
    auto& p = add_pad(t, "pad", "x", "xp", value, pads);
    if (mode != "constant") OnnxTestGraph::attr(p, {"mode", mode.c_str()});
    Attrs a = pool_attrs(3, 2);
    if (!pool_pads.empty()) a.push_back({"pads", pool_pads});
    t.node("AveragePool", {"xp"}, {"y"}, "avg", a);
    t.output("y");
    return t;
  };
  SUBCASE("fires: Pad(0 on H, W) -> AveragePool with those pads and count_include_pad") {
    OnnxTestGraph t = graph(0.0f, {0, 0, 1, 2, 0, 0, 2, 1});
    cv::Graph g = import_fired(t, {{"pad_into_average_pool", "avg"}});
    const cv::Node& a = node(g, "avg");
    CHECK(a.ints("pads") == std::vector<int64_t>{1, 2, 2, 1});
    CHECK(a.i("count_include_pad") == 1);
    CHECK(a.in(0) == g.find_value("x"));
    Rewritten r = rewrite(t);
    CHECK(r.fired("pad_into_average_pool") == 1);
    CHECK(r.ops() == std::vector<std::string>{"AveragePool"});
    Rng rng(6);
    check_end_to_end(t, RefTensor{{1, 2, 5, 5}, rng.normal(50)}, "y");
  }
  SUBCASE("does not fire: nonzero pad value, pads on N / C, reflect mode, or a pool with its own pads") {
    for (const OnnxTestGraph& t : {graph(1.0f, {0, 0, 1, 1, 0, 0, 1, 1}), graph(0.0f, {0, 1, 1, 1, 0, 0, 1, 1}),
                                   graph(0.0f, {0, 0, 1, 1, 0, 0, 1, 1}, "reflect"),
                                   graph(0.0f, {0, 0, 1, 1, 0, 0, 1, 1}, "constant", {1, 1, 1, 1})})
      CHECK_FALSE(matches(t, "pad_into_average_pool", "avg"));
  }
}
