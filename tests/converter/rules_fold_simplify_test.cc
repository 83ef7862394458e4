// Rewrite-rule tests: constant folding (fold.cc), graph simplifications (simplify.cc) and the lowering of
// float ops onebit has no operator for (float_lowering.cc). Helpers and conventions: rules_test_util.h.
#include "rules_test_util.h"
#include "verify/verify.h"

using namespace rules_test;

// =========================================================================================================
// fold.cc

TEST_CASE("rules: constant_fold") {
  SUBCASE("fires: an op on constants, and Shape of a known-shape activation") {
    OnnxTestGraph t;
    t.input("x", {1, 48});
    t.input("y", {1, 3, 4, 4});
    t.initializer("a", {3}, {1.5f, -2.0f, 0.25f});
    t.initializer("b", {3}, {0.5f, 4.0f, -1.0f});
    t.initializer_i64("ab_to", {4}, {1, 3, 1, 1});
    t.output(add_chain(t, "x",
                       {{"Mul", "mul_const", "ab", {"a", "b"}},
                        {"Shape", "shape_of_y", "shape", {"y"}},
                        {"Reshape", "reshape", "xr", {"x", "shape"}},
                        {"Add", "add", "s", {"xr", "y"}},
                        {"Reshape", "reshape_const", "abr", {"ab", "ab_to"}},
                        {"Mul", "scale", "out", {"s", "abr"}}}));
    cv::Graph g = import(t);
    CHECK(matches(g, "constant_fold", "mul_const"));
    CHECK(matches(g, "constant_fold", "shape_of_y"));
    CHECK_FALSE(matches(g, "constant_fold", "reshape"));  // reads the input x
    CHECK_FALSE(matches(g, "constant_fold", "add"));

    Rewritten r = rewrite(t);
    CHECK(r.fired("constant_fold") >= 3);  // Mul, Shape, Reshape of the product
    CHECK(find_node(r.g, "mul_const") == cv::kNoId);
    CHECK(find_node(r.g, "shape_of_y") == cv::kNoId);
    CHECK(find_node(r.g, "reshape_const") == cv::kNoId);
    const cv::Node& reshape = node(r.g, "reshape");
    const cv::Tensor* shape = r.g.constant(reshape.in(1));
    REQUIRE(shape != nullptr);
    CHECK(shape->i == std::vector<int64_t>{1, 3, 4, 4});
    const cv::Node& scale = node(r.g, "scale");
    const cv::Tensor* ab = r.g.constant(scale.in(1));
    REQUIRE(ab != nullptr);
    CHECK(ab->shape == std::vector<int64_t>{1, 3, 1, 1});
    check_close(ab->f, {1.5f * 0.5f, -2.0f * 4.0f, 0.25f * -1.0f});
    CHECK(std::count(r.log.folded.begin(), r.log.folded.end(), "shape_of_y (Shape)") == 1);
  }
  SUBCASE("does not fire: a node with a non-constant input") {
    OnnxTestGraph t = chain({1, 3}, {{"Add", "add", "y", {"^", "c"}}, {"Relu", "relu", "z"}});
    t.initializer("c", {3}, {1, 2, 3});
    cv::Graph g = import(t);
    for (const char* n : {"add", "relu"}) CHECK_FALSE(matches(g, "constant_fold", n));
    Rewritten r = rewrite(t);
    CHECK(r.fired("constant_fold") == 0);
    CHECK(r.ops() == std::vector<std::string>{"Add", "Relu"});
  }
}

// =========================================================================================================
// simplify.cc

namespace {

// x -> Dropout (outputs d, mask); the mask read by Cast -> Add(d, .) -> y, or Relu(d) -> y and the mask a
// graph output.
OnnxTestGraph dropout_graph(bool mask_read) {
  OnnxTestGraph t;
  t.input("x", {1, 3, 2, 2});
  t.node("Dropout", {"x"}, {"d", "mask"}, "dropout");
  if (mask_read) {
    add_chain(t, "mask",
              {{"Cast", "cast", "maskf", {}, {{"to", int(onnx::TensorProto::FLOAT)}}},
               {"Add", "add", "y", {"d", "^"}}});
    t.output("y");
    return t;
  }
  t.node("Relu", {"d"}, {"y"}, "relu");
  t.output("y");
  t.output("mask");
  t.model.mutable_graph()->mutable_output(1)->mutable_type()->mutable_tensor_type()->set_elem_type(
      onnx::TensorProto::BOOL);
  return t;
}

}  // namespace

TEST_CASE("rules: remove_identity") {
  SUBCASE("fires: Identity and Dropout without a used mask") {
    const OnnxTestGraph t =
        chain({1, 3, 2, 2}, {{"Identity", "identity", "i"}, {"Dropout", "dropout", "d"}, {"Relu", "relu", "y"}});
    cv::Graph g = import(t);
    for (const char* n : {"identity", "dropout"}) CHECK(matches(g, "remove_identity", n));
    Rewritten r = rewrite(t);
    CHECK(r.fired("remove_identity") == 2);
    CHECK(r.ops() == std::vector<std::string>{"Relu"});
    CHECK(node(r.g, "relu").in(0) == r.g.find_value("x"));
  }
  SUBCASE("does not fire: Dropout whose mask output is read") {
    CHECK_FALSE(matches(dropout_graph(true), "remove_identity", "dropout"));
  }
}

// Regression: a mask that is a graph output (not read by any node) must keep its Dropout.
TEST_CASE("rules: remove_identity does not fire on a Dropout whose mask is a graph output") {
  CHECK_FALSE(matches(dropout_graph(false), "remove_identity", "dropout"));
}

TEST_CASE("rules: unit_factor") {
  auto graph = [](const std::string& op, bool constant_first, const std::vector<int64_t>& cshape, float value,
                  const std::vector<int64_t>& xshape = {1, 3, 4, 4}) {
    const std::vector<std::string> in =
        constant_first ? std::vector<std::string>{"c", "^"} : std::vector<std::string>{"^", "c"};
    OnnxTestGraph t = chain(xshape, {{op, "op", "y", in}, {"Relu", "relu", "z"}});
    int64_t n = 1;
    for (int64_t d : cshape) n *= d;
    t.initializer("c", cshape, std::vector<float>(size_t(n), value));
    return t;
  };
  SUBCASE("fires: x*1, 1*x, x/1, x+0, 0+x, x-0") {
    struct Case { const char* op; bool first; float unit; };
    for (const Case& c : {Case{"Mul", false, 1}, Case{"Mul", true, 1}, Case{"Div", false, 1}, Case{"Add", false, 0},
                          Case{"Add", true, 0}, Case{"Sub", false, 0}}) {
      CAPTURE(c.op);
      CAPTURE(c.first);
      for (const std::vector<int64_t>& cs : {std::vector<int64_t>{}, std::vector<int64_t>{1, 3, 1, 1}, std::vector<int64_t>{1, 3, 4, 4}}) {
        CAPTURE(cs.size());
        OnnxTestGraph t = graph(c.op, c.first, cs, c.unit);
        CHECK(matches(t, "unit_factor", "op"));
        Rewritten r = rewrite(t);
        CHECK(r.fired("unit_factor") == 1);
        CHECK(r.ops() == std::vector<std::string>{"Relu"});
        CHECK(node(r.g, "relu").in(0) == r.g.find_value("x"));
      }
    }
  }
  SUBCASE("does not fire: the constant 1 broadcasts x to a bigger shape") {
    for (const OnnxTestGraph& t :
         {graph("Mul", false, {1, 3, 4, 4}, 1.0f, {1, 3, 1, 1}), graph("Add", true, {2, 3, 1, 1}, 0.0f, {1, 3, 1, 1})})
      CHECK_FALSE(matches(t, "unit_factor", "op"));
  }
  SUBCASE("does not fire: the constant is not exactly 1 / 0") {
    OnnxTestGraph t = chain({1, 3, 4, 4}, {{"Mul", "op", "y", {"^", "c"}}});  // one element of the constant differs
    t.initializer("c", {1, 3, 1, 1}, {1, 1, 2});
    for (const OnnxTestGraph& u : {graph("Mul", false, {}, 1.0001f), graph("Add", false, {}, 1e-7f), t})
      CHECK_FALSE(matches(u, "unit_factor", "op"));
  }
  SUBCASE("does not fire: 1/x and 0-x (the unit is on the wrong side of a non-commutative op)") {
    for (const OnnxTestGraph& t : {graph("Div", true, {}, 1.0f), graph("Sub", true, {}, 0.0f)})
      CHECK_FALSE(matches(t, "unit_factor", "op"));
  }
}

TEST_CASE("rules: straight_through_residue") {
  // Add(Sub(a, b), b) or Add(b, Sub(a, b)); a, b graph inputs of the given shapes.
  auto graph = [](bool sub_first, const std::vector<int64_t>& ashape, const std::vector<int64_t>& bshape, bool same_b) {
    OnnxTestGraph t;
    t.input("a", ashape);
    t.input("b", bshape);
    t.input("b2", bshape);
    const std::string other = same_b ? "b" : "b2";
    const std::vector<std::string> add_in =
        sub_first ? std::vector<std::string>{"^", other} : std::vector<std::string>{other, "^"};
    t.output(add_chain(t, "a", {{"Sub", "sub", "d", {"^", "b"}}, {"Add", "add", "s", add_in}, {"Relu", "relu", "y"}}));
    return t;
  };
  SUBCASE("fires: both operand orders; the Add's users read A") {
    for (bool sub_first : {true, false}) {
      CAPTURE(sub_first);
      OnnxTestGraph t = graph(sub_first, {1, 3, 4, 4}, {1, 3, 4, 4}, true);
      CHECK(matches(t, "straight_through_residue", "add"));
      Rewritten r = rewrite(t);
      CHECK(r.fired("straight_through_residue") == 1);
      CHECK(r.ops() == std::vector<std::string>{"Relu"});  // the Sub has no reader left
      CHECK(node(r.g, "relu").in(0) == r.g.find_value("a"));
    }
    // B broadcast against A inside the Sub: still A's shape at the Add.
    CHECK(matches(graph(true, {1, 3, 4, 4}, {1, 3, 1, 1}, true), "straight_through_residue", "add"));
  }
  SUBCASE("does not fire: the Sub's B is not the Add's other operand") {
    for (bool sub_first : {true, false})
      CHECK_FALSE(matches(graph(sub_first, {1, 3, 4, 4}, {1, 3, 4, 4}, false), "straight_through_residue", "add"));
  }
  SUBCASE("does not fire: A's shape differs from the Add's output") {
    for (bool sub_first : {true, false})
      CHECK_FALSE(matches(graph(sub_first, {1, 3, 1, 1}, {1, 3, 4, 4}, true), "straight_through_residue", "add"));
  }
}

TEST_CASE("rules: shrink_broadcast_constant") {
  auto graph = [](const std::vector<float>& c, const std::vector<int64_t>& xshape = {1, 2, 2, 3}) {
    OnnxTestGraph t = chain(xshape, {{"Add", "add", "y", {"^", "c"}}});
    t.initializer("c", {1, 2, 2, 3}, c);
    return t;
  };
  const std::vector<float> per_channel = {0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, -2, -2, -2, -2, -2, -2};
  SUBCASE("fires: a [1, C, H, W] constant constant along H and W becomes [1, C, 1, 1]") {
    cv::Graph g = import_fired(graph(per_channel), {{"shrink_broadcast_constant", "add"}});
    const cv::Tensor* c = g.constant(node(g, "add").in(1));
    REQUIRE(c != nullptr);
    CHECK(c->shape == std::vector<int64_t>{1, 2, 1, 1});
    CHECK(c->f == std::vector<float>{0.5f, -2.0f});
    CHECK_FALSE(matches(g, "shrink_broadcast_constant", "add"));  // nothing left to shrink
    Rewritten r = rewrite(graph(per_channel));
    CHECK(r.fired("shrink_broadcast_constant") == 1);
  }
  SUBCASE("fires along the one axis where it is constant") {
    // Varies along W only: [1, 2, 2, 3] -> [1, 2, 1, 3].
    cv::Graph g = import_fired(graph({1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6}), {{"shrink_broadcast_constant", "add"}});
    const cv::Tensor* c = g.constant(node(g, "add").in(1));
    CHECK(c->shape == std::vector<int64_t>{1, 2, 1, 3});
    CHECK(c->f == std::vector<float>{1, 2, 3, 4, 5, 6});
  }
  SUBCASE("does not fire: the constant varies along every axis") {
    CHECK_FALSE(matches(graph({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}), "shrink_broadcast_constant", "add"));
  }
  SUBCASE("does not fire: x is size 1 on those axes (the constant sets the output shape)") {
    CHECK_FALSE(matches(graph(per_channel, {1, 2, 1, 1}), "shrink_broadcast_constant", "add"));
  }
}

// =========================================================================================================
// float_lowering.cc: Abs and the channel mean on activations (XNOR-Net's run-time scale K, issue 21).

namespace {

// Converts t and compares it with the double-precision ONNX reference of --verify (verify.h) on 4 inputs.
void check_against_reference(const OnnxTestGraph& t, double tol) {
  Converted c = convert(t);
  REQUIRE_MESSAGE(c.status.ok(), c.status.message());
  INFO(c.result.summary);
  cv::VerifyOptions vo;
  vo.inputs = 4;
  cv::VerifyReport r;
  const Status s = cv::verify_conversion(t.bytes(), "t.onnx", c.result.model, vo, &r);
  REQUIRE_MESSAGE(s.ok(), s.message());
  INFO(r.text());
  CHECK(r.disagreeing == 0);
  CHECK(r.max_relative_delta <= tol);
}

}  // namespace

TEST_CASE("rules: abs_as_prelu") {
  SUBCASE("fires on activations of rank 4 and 2: PRelu(x, -1), exactly |x|") {
    for (const std::vector<int64_t>& shape : {std::vector<int64_t>{1, 3, 4, 4}, std::vector<int64_t>{2, 5}}) {
      CAPTURE(shape.size());
      const OnnxTestGraph t = chain(shape, {{"Abs", "abs", "y"}});
      CHECK(matches(t, "abs_as_prelu", "abs"));
      Rewritten r = rewrite(t);
      CHECK(r.fired("abs_as_prelu") == 1);
      CHECK(r.ops() == std::vector<std::string>{"PRelu"});
      check_against_reference(t, 0.0);
    }
  }
  SUBCASE("does not fire: Abs of a constant (it folds)") {
    OnnxTestGraph t;
    t.input("x", {1, 3, 2, 2});
    t.initializer("w", {1, 3, 1, 1}, {-1.0f, 2.0f, -3.0f});
    t.node("Abs", {"w"}, {"a"}, "abs");
    t.node("Mul", {"x", "a"}, {"y"}, "mul");
    t.output("y");
    CHECK_FALSE(matches(t, "abs_as_prelu", "abs"));
  }
}

TEST_CASE("rules: channel_mean_as_conv") {
  const Attrs over_channels = {{"axes", std::vector<int64_t>{1}}, {"keepdims", 1}};
  SUBCASE("fires: ReduceMean over axis 1 (or -3), keepdims -> a 1x1 conv to one channel of weights 1/C") {
    for (int64_t axis : {int64_t(1), int64_t(-3)}) {
      CAPTURE(axis);
      const OnnxTestGraph t = chain({2, 5, 3, 4}, {{"ReduceMean", "mean", "y", {"^"}, {{"axes", std::vector<int64_t>{axis}}, {"keepdims", 1}}}});
      CHECK(matches(t, "channel_mean_as_conv", "mean"));
      Rewritten r = rewrite(t);
      CHECK(r.fired("channel_mean_as_conv") == 1);
      CHECK(r.ops() == std::vector<std::string>{"Conv"});
      check_against_reference(t, 1e-6);
    }
  }
  SUBCASE("does not fire: other axes, keepdims 0, rank 2, a constant input") {
    CHECK_FALSE(matches(chain({1, 5, 3, 4}, {{"ReduceMean", "mean", "y", {"^"}, {{"axes", {2, 3}}, {"keepdims", 1}}}}),
                        "channel_mean_as_conv", "mean"));
    CHECK_FALSE(matches(chain({1, 5, 3, 4}, {{"ReduceMean", "mean", "y", {"^"}, {{"axes", {1, 2}}, {"keepdims", 1}}}}),
                        "channel_mean_as_conv", "mean"));
    CHECK_FALSE(matches(chain({1, 5, 3, 4}, {{"ReduceMean", "mean", "y", {"^"}, {{"axes", std::vector<int64_t>{1}}, {"keepdims", 0}}}}),
                        "channel_mean_as_conv", "mean"));
    CHECK_FALSE(matches(chain({2, 5}, {{"ReduceMean", "mean", "y", {"^"}, over_channels}}), "channel_mean_as_conv", "mean"));
    OnnxTestGraph t;
    t.input("x", {1, 3, 2, 2});
    t.initializer("w", {1, 3, 2, 2}, Rng(5).normal(12));
    t.node("ReduceMean", {"w"}, {"m"}, "mean", over_channels);
    t.node("Mul", {"x", "m"}, {"y"}, "mul");
    t.output("y");
    CHECK_FALSE(matches(t, "channel_mean_as_conv", "mean"));
  }
}

// XNOR-Net's K end to end: y = x * AvgPool3x3(mean_c |x|) (count_include_pad), the Mul of two activations
// broadcasting [1, 1, H, W] over channels; and XNOR-Net++'s Gamma, a Mul by a constant [1, C, H, W] / [1, 1, H, 1].
TEST_CASE("XNOR-Net's run-time scale K and XNOR-Net++'s per-position scale convert as float Mul") {
  SUBCASE("K: Abs -> ReduceMean(1) -> AveragePool(3, pad 1) times the feature map") {
    OnnxTestGraph t;
    t.input("x", {1, 4, 6, 5});
    add_chain(t, "x", {{"Abs", "abs", "a"}, {"ReduceMean", "mean", "m", {"^"}, {{"axes", std::vector<int64_t>{1}}, {"keepdims", 1}}},
                       {"AveragePool", "pool", "k", {"^"},
                        {{"kernel_shape", {3, 3}}, {"pads", {1, 1, 1, 1}}, {"count_include_pad", 1}}}});
    t.node("Mul", {"x", "k"}, {"y"}, "scale");
    t.output("y");
    Converted c = convert(t);
    REQUIRE_MESSAGE(c.status.ok(), c.status.message());
    CHECK(contains(c.result.summary, "scale (Mul) -> float Mul (two activations)"));
    check_against_reference(t, 1e-6);
  }
  SUBCASE("Gamma: constants [1, C, H, W] and [1, 1, H, 1]") {
    for (const std::vector<int64_t>& g : {std::vector<int64_t>{1, 4, 6, 5}, std::vector<int64_t>{1, 1, 6, 1}}) {
      CAPTURE(g.size());
      OnnxTestGraph t;
      t.input("x", {1, 4, 6, 5});
      int64_t n = 1;
      for (int64_t d : g) n *= d;
      t.initializer("gamma", g, Rng(9).uniform(size_t(n), 0.5f, 1.5f));
      t.node("Mul", {"x", "gamma"}, {"y"}, "scale");
      t.output("y");
      check_against_reference(t, 1e-7);  // a float product against the double one
    }
  }
  SUBCASE("refused: Mul of activations of different ranks ([1, 4, 5, 4] x [1, 4], NumPy-aligned on W)") {
    OnnxTestGraph t;
    t.input("x", {1, 4, 5, 4});
    add_chain(t, "x", {{"GlobalAveragePool", "gap", "p"}, {"Flatten", "flat", "z"}});
    t.node("Mul", {"x", "z"}, {"y"}, "scale");
    t.output("y");
    check_convert_fails(t, {"node 'scale' (Mul)", "only of one rank"});
  }
}
