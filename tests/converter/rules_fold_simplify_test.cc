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
