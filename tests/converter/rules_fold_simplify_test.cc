// Rewrite-rule tests: constant folding (fold.cc) and graph simplifications (simplify.cc).
// Helpers and conventions: rules_test_util.h.
#include "rules_test_util.h"

using namespace rules_test;

// =========================================================================================================
// fold.cc

TEST_CASE("rules: constant_fold") {
  SUBCASE("fires: an op on constants, and Shape of a known-shape activation") {
    OnnxTestGraph t;
    t.input("x", {1, 48});
    t.initializer("a", {3}, {1.5f, -2.0f, 0.25f});
    t.initializer("b", {3}, {0.5f, 4.0f, -1.0f});
    t.node("Mul", {"a", "b"}, {"ab"}, "mul_const");
    t.input("y", {1, 3, 4, 4});
    t.node("Shape", {"y"}, {"shape"}, "shape_of_y");
    t.node("Reshape", {"x", "shape"}, {"xr"}, "reshape");
    t.node("Add", {"xr", "y"}, {"s"}, "add");
    t.initializer_i64("ab_to", {4}, {1, 3, 1, 1});
    t.node("Reshape", {"ab", "ab_to"}, {"abr"}, "reshape_const");
    t.node("Mul", {"s", "abr"}, {"out"}, "scale");
    t.output("out");

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
    OnnxTestGraph t;
    t.input("x", {1, 3});
    t.initializer("c", {3}, {1, 2, 3});
    t.node("Add", {"x", "c"}, {"y"}, "add");
    t.node("Relu", {"y"}, {"z"}, "relu");
    t.output("z");
    cv::Graph g = import(t);
    CHECK_FALSE(matches(g, "constant_fold", "add"));
    CHECK_FALSE(matches(g, "constant_fold", "relu"));
    Rewritten r = rewrite(t);
    CHECK(r.fired("constant_fold") == 0);
    CHECK(r.ops() == std::vector<std::string>{"Add", "Relu"});
  }
}

// =========================================================================================================
// simplify.cc

TEST_CASE("rules: remove_identity") {
  SUBCASE("fires: Identity and Dropout without a used mask") {
    OnnxTestGraph t;
    t.input("x", {1, 3, 2, 2});
    t.node("Identity", {"x"}, {"i"}, "identity");
    t.node("Dropout", {"i"}, {"d"}, "dropout");
    t.node("Relu", {"d"}, {"y"}, "relu");
    t.output("y");
    cv::Graph g = import(t);
    CHECK(matches(g, "remove_identity", "identity"));
    CHECK(matches(g, "remove_identity", "dropout"));
    Rewritten r = rewrite(t);
    CHECK(r.fired("remove_identity") == 2);
    CHECK(r.ops() == std::vector<std::string>{"Relu"});
    CHECK(node(r.g, "relu").in(0) == r.g.find_value("x"));
  }
  SUBCASE("does not fire: Dropout whose mask output is read") {
    OnnxTestGraph t;
    t.input("x", {1, 3, 2, 2});
    t.node("Dropout", {"x"}, {"d", "mask"}, "dropout");
    auto& cast = t.node("Cast", {"mask"}, {"maskf"}, "cast");
    OnnxTestGraph::attr(cast, "to", int64_t(onnx::TensorProto::FLOAT));
    t.node("Add", {"d", "maskf"}, {"y"}, "add");
    t.output("y");
    cv::Graph g = import(t);
    CHECK_FALSE(matches(g, "remove_identity", "dropout"));
  }
}

// Regression: a mask that is a graph output (not read by any node) must keep its Dropout.
TEST_CASE("rules: remove_identity does not fire on a Dropout whose mask is a graph output") {
  OnnxTestGraph t;
  t.input("x", {1, 3, 2, 2});
  t.node("Dropout", {"x"}, {"d", "mask"}, "dropout");
  t.node("Relu", {"d"}, {"y"}, "relu");
  t.output("y");
  t.output("mask");
  t.model.mutable_graph()->mutable_output(1)->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::BOOL);
  cv::Graph g = import(t);
  CHECK_FALSE(matches(g, "remove_identity", "dropout"));
}

TEST_CASE("rules: unit_factor") {
  auto graph = [](const std::string& op, bool constant_first, const std::vector<int64_t>& cshape, float value,
                  const std::vector<int64_t>& xshape = {1, 3, 4, 4}) {
    OnnxTestGraph t;
    t.input("x", xshape);
    int64_t n = 1;
    for (int64_t d : cshape) n *= d;
    t.initializer("c", cshape, std::vector<float>(size_t(n), value));
    if (constant_first) t.node(op, {"c", "x"}, {"y"}, "op");
    else t.node(op, {"x", "c"}, {"y"}, "op");
    t.node("Relu", {"y"}, {"z"}, "relu");
    t.output("z");
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
        cv::Graph g = import(t);
        CHECK(matches(g, "unit_factor", "op"));
        Rewritten r = rewrite(t);
        CHECK(r.fired("unit_factor") == 1);
        CHECK(r.ops() == std::vector<std::string>{"Relu"});
        CHECK(node(r.g, "relu").in(0) == r.g.find_value("x"));
      }
    }
  }
  SUBCASE("does not fire: the constant 1 broadcasts x to a bigger shape") {
    OnnxTestGraph t = graph("Mul", false, {1, 3, 4, 4}, 1.0f, {1, 3, 1, 1});
    cv::Graph g = import(t);
    CHECK_FALSE(matches(g, "unit_factor", "op"));
    OnnxTestGraph t2 = graph("Add", true, {2, 3, 1, 1}, 0.0f, {1, 3, 1, 1});
    cv::Graph g2 = import(t2);
    CHECK_FALSE(matches(g2, "unit_factor", "op"));
  }
  SUBCASE("does not fire: the constant is not exactly 1 / 0") {
    cv::Graph g = import(graph("Mul", false, {}, 1.0001f));
    CHECK_FALSE(matches(g, "unit_factor", "op"));
    cv::Graph g2 = import(graph("Add", false, {}, 1e-7f));
    CHECK_FALSE(matches(g2, "unit_factor", "op"));
    OnnxTestGraph t;  // one element of the constant differs
    t.input("x", {1, 3, 4, 4});
    t.initializer("c", {1, 3, 1, 1}, {1, 1, 2});
    t.node("Mul", {"x", "c"}, {"y"}, "op");
    t.output("y");
    cv::Graph g3 = import(t);
    CHECK_FALSE(matches(g3, "unit_factor", "op"));
  }
  SUBCASE("does not fire: 1/x and 0-x (the unit is on the wrong side of a non-commutative op)") {
    cv::Graph g = import(graph("Div", true, {}, 1.0f));
    CHECK_FALSE(matches(g, "unit_factor", "op"));
    cv::Graph g2 = import(graph("Sub", true, {}, 0.0f));
    CHECK_FALSE(matches(g2, "unit_factor", "op"));
  }
}

TEST_CASE("rules: straight_through_residue") {
  // Add(Sub(a, b), b) or Add(b, Sub(a, b)); a, b graph inputs of the given shapes.
  auto graph = [](bool sub_first, const std::vector<int64_t>& ashape, const std::vector<int64_t>& bshape, bool same_b) {
    OnnxTestGraph t;
    t.input("a", ashape);
    t.input("b", bshape);
    t.input("b2", bshape);
    t.node("Sub", {"a", "b"}, {"d"}, "sub");
    const std::string other = same_b ? "b" : "b2";
    if (sub_first) t.node("Add", {"d", other}, {"s"}, "add");
    else t.node("Add", {other, "d"}, {"s"}, "add");
    t.node("Relu", {"s"}, {"y"}, "relu");
    t.output("y");
    return t;
  };
  SUBCASE("fires: both operand orders; the Add's users read A") {
    for (bool sub_first : {true, false}) {
      CAPTURE(sub_first);
      OnnxTestGraph t = graph(sub_first, {1, 3, 4, 4}, {1, 3, 4, 4}, true);
      cv::Graph g = import(t);
      CHECK(matches(g, "straight_through_residue", "add"));
      Rewritten r = rewrite(t);
      CHECK(r.fired("straight_through_residue") == 1);
      CHECK(r.ops() == std::vector<std::string>{"Relu"});  // the Sub has no reader left
      CHECK(node(r.g, "relu").in(0) == r.g.find_value("a"));
    }
    // B broadcast against A inside the Sub: still A's shape at the Add.
    cv::Graph g = import(graph(true, {1, 3, 4, 4}, {1, 3, 1, 1}, true));
    CHECK(matches(g, "straight_through_residue", "add"));
  }
  SUBCASE("does not fire: the Sub's B is not the Add's other operand") {
    for (bool sub_first : {true, false}) {
      cv::Graph g = import(graph(sub_first, {1, 3, 4, 4}, {1, 3, 4, 4}, false));
      CHECK_FALSE(matches(g, "straight_through_residue", "add"));
    }
  }
  SUBCASE("does not fire: A's shape differs from the Add's output") {
    for (bool sub_first : {true, false}) {
      cv::Graph g = import(graph(sub_first, {1, 3, 1, 1}, {1, 3, 4, 4}, true));
      CHECK_FALSE(matches(g, "straight_through_residue", "add"));
    }
  }
}

TEST_CASE("rules: shrink_broadcast_constant") {
  auto graph = [](const std::vector<float>& c, const std::vector<int64_t>& xshape = {1, 2, 2, 3}) {
    OnnxTestGraph t;
    t.input("x", xshape);
    t.initializer("c", {1, 2, 2, 3}, c);
    t.node("Add", {"x", "c"}, {"y"}, "add");
    t.output("y");
    return t;
  };
  const std::vector<float> per_channel = {0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, -2, -2, -2, -2, -2, -2};
  SUBCASE("fires: a [1, C, H, W] constant constant along H and W becomes [1, C, 1, 1]") {
    cv::Graph g = import(graph(per_channel));
    REQUIRE(fire(g, "shrink_broadcast_constant", "add").ok());
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
    cv::Graph g = import(graph({1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6}));
    REQUIRE(fire(g, "shrink_broadcast_constant", "add").ok());
    const cv::Tensor* c = g.constant(node(g, "add").in(1));
    CHECK(c->shape == std::vector<int64_t>{1, 2, 1, 3});
    CHECK(c->f == std::vector<float>{1, 2, 3, 4, 5, 6});
  }
  SUBCASE("does not fire: the constant varies along every axis") {
    cv::Graph g = import(graph({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));
    CHECK_FALSE(matches(g, "shrink_broadcast_constant", "add"));
  }
  SUBCASE("does not fire: x is size 1 on those axes (the constant sets the output shape)") {
    cv::Graph g = import(graph(per_channel, {1, 2, 1, 1}));
    CHECK_FALSE(matches(g, "shrink_broadcast_constant", "add"));
  }
}
