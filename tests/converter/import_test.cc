// The ONNX reader (converter/onnx/import.h): old-opset attribute forms become the canonical constant
// inputs, schema defaults are filled in, and malformed nodes are errors naming node, attribute or input
// and what was expected. Also the cross-check of onebit's shape inference against ONNX's.
#include <doctest/doctest.h>

#include <cmath>

#include "graph_dsl.h"
#include "ir/shape_inference.h"
#include "onnx/import.h"
#include "onnx_test_graph.h"

using onebit::Status;
using namespace onebit::converter;
using onebit::testing::chain;
using onebit::testing::Link;
using onebit::testing::OnnxTestGraph;

namespace {

Status import(const OnnxTestGraph& t, Graph* g) {
  ImportReport report;
  return import_onnx(t.bytes(), "test.onnx", ImportOptions{}, g, &report);
}

const Node* find_node(const Graph& g, const std::string& name) {
  for (size_t n = 0; n < g.node_count(); ++n)
    if (!g.node(NodeId(n)).dead && g.node(NodeId(n)).name == name) return &g.node(NodeId(n));
  return nullptr;
}

// Imports t into *g (which must succeed); returns its node `name` (which must exist).
const Node& import_node(const OnnxTestGraph& t, Graph* g, const std::string& name) {
  const Status s = import(t, g);
  REQUIRE_MESSAGE(s.ok(), s.message());
  const Node* n = find_node(*g, name);
  REQUIRE(n != nullptr);
  return *n;
}

std::vector<int64_t> const_ints(const Graph& g, ValueId v) {
  const Tensor* t = g.constant(v);
  REQUIRE(t != nullptr);
  std::vector<int64_t> out;
  for (int64_t k = 0; k < t->elements(); ++k) out.push_back(t->as_int(k));
  return out;
}

}  // namespace

TEST_CASE("import: Squeeze/Unsqueeze axes attribute (opset 11) and input (opset 13) read the same") {
  for (int opset : {11, 13}) {
    CAPTURE(opset);
    OnnxTestGraph t(opset);
    t.input("x", {1, 3, 1, 1});
    if (opset == 11) {
      t.node("Squeeze", {"x"}, {"y"}, "sq", {{"axes", {2, 3}}});
    } else {
      t.initializer_i64("axes", {2}, {2, 3});
      t.node("Squeeze", {"x", "axes"}, {"y"}, "sq");
    }
    t.output("y");
    Graph g;
    const Node& sq = import_node(t, &g, "sq");
    CHECK(sq.attrs.count("axes") == 0);
    CHECK(const_ints(g, sq.in(1)) == std::vector<int64_t>{2, 3});
    REQUIRE(infer_shapes(&g).ok());
    CHECK(g.value(sq.out()).shape == std::vector<int64_t>{1, 3});
  }
}

TEST_CASE("import: Clip min/max (opset 6) and Pad pads/value (opset 2) attributes become inputs") {
  OnnxTestGraph t(6);
  t.input("x", {1, 2, 3, 3});
  t.node("Clip", {"x"}, {"c"}, "clip", {{"min", -0.5f}, {"max", 2.0f}});
  t.output("c");
  Graph g;
  const Node& c = import_node(t, &g, "clip");
  REQUIRE(c.inputs.size() == 3);
  CHECK(g.constant(c.in(1))->f == std::vector<float>{-0.5f});
  CHECK(g.constant(c.in(2))->f == std::vector<float>{2.0f});

  OnnxTestGraph p(2);
  p.input("x", {1, 2, 3, 3});
  p.node("Pad", {"x"}, {"y"}, "pad", {{"pads", {0, 0, 1, 2, 0, 0, 3, 4}}, {"value", -1.0f}});
  p.output("y");
  Graph h;
  const Node& pn = import_node(p, &h, "pad");
  CHECK(const_ints(h, pn.in(1)) == std::vector<int64_t>{0, 0, 1, 2, 0, 0, 3, 4});
  CHECK(h.constant(pn.in(2))->f == std::vector<float>{-1.0f});
  REQUIRE(infer_shapes(&h).ok());
  CHECK(h.value(pn.out()).shape == std::vector<int64_t>{1, 2, 7, 9});
}

TEST_CASE("import: schema defaults are filled in, Softmax's axis default follows the opset") {
  for (int opset : {11, 13}) {
    CAPTURE(opset);
    OnnxTestGraph t(opset);
    t.input("x", {2, 5});
    t.initializer("w", {5, 4}, std::vector<float>(20, 0.5f));
    t.node("Gemm", {"x", "w"}, {"y"}, "fc");
    t.node("Softmax", {"y"}, {"z"}, "sm");
    t.output("z");
    Graph g;
    Status s = import(t, &g);
    REQUIRE_MESSAGE(s.ok(), s.message());
    const Node* fc = find_node(g, "fc");
    CHECK(fc->f("alpha") == 1.0f);
    CHECK(fc->f("beta") == 1.0f);
    CHECK(fc->i("transB") == 0);
    CHECK(find_node(g, "sm")->i("axis") == (opset >= 13 ? -1 : 1));
  }
}

TEST_CASE("import: malformed nodes are errors naming node and what was expected") {
  auto check = [](const OnnxTestGraph& t, std::vector<const char*> needles) {
    Graph g;
    Status s = import(t, &g);
    REQUIRE_FALSE(s.ok());
    INFO(s.message());
    for (const char* n : needles) CHECK(s.message().find(n) != std::string::npos);
  };
  // x[shape] -> one node -> y; with w_count, an initializer w of w_shape holding w_count ones.
  auto one_node = [](const std::vector<int64_t>& shape, const Link& n, const std::vector<int64_t>& w_shape = {},
                     size_t w_count = 0) {
    OnnxTestGraph t = chain(shape, {n});
    if (w_count > 0) t.initializer("w", w_shape, std::vector<float>(w_count, 1.0f));
    return t;
  };
  // An unknown attribute; one of the wrong kind.
  check(one_node({1, 2, 3, 3}, {"Relu", "r", "y", {}, {{"alpha", 3}}}),
        {"node 'r' (Relu)", "attribute 'alpha' is not known"});
  check(one_node({1, 2, 4, 4}, {"Conv", "conv", "y", {"^", "w"}, {{"strides", 2.0f}}}, {2, 2, 3, 3}, 36),
        {"node 'conv' (Conv)", "attribute 'strides' must be a list of ints"});
  // Too few inputs; an empty name for a required input; a missing required attribute.
  check(one_node({1, 2, 3, 3}, {"Add", "add", "y"}), {"node 'add' (Add)", "has 1 inputs; expected 2"});
  check(one_node({1, 2, 3, 3}, {"Mul", "mul", "y", {"", "^"}}), {"node 'mul' (Mul)", "required input 0 is empty"});
  check(one_node({1, 2, 3, 3}, {"MaxPool", "pool", "y"}),
        {"node 'pool' (MaxPool)", "required attribute 'kernel_shape'"});
  // An initializer whose data disagrees with its dims.
  check(one_node({1, 2}, {"MatMul", "mm", "y", {"^", "w"}}, {2, 3}, 5), {"tensor 'w'", "imply 6"});
  // A per-axis attribute of the wrong length, reported by the shape inference the importer runs.
  check(one_node({1, 2, 4, 4}, {"Conv", "conv", "y", {"^", "w"}, {{"strides", std::vector<int64_t>{2}}}}, {2, 2, 3, 3},
                 36),
        {"node 'conv' (Conv): attribute 'strides' has 1 values; expected 2"});
}

TEST_CASE("shape inference: a disagreement with ONNX's stated shape is an error, agreement is silent") {
  for (bool wrong : {false, true}) {
    CAPTURE(wrong);
    OnnxTestGraph t;
    t.input("x", {1, 3, 8, 8});
    t.initializer("w", {4, 3, 3, 3}, std::vector<float>(108, 0.1f));
    t.node("Conv", {"x", "w"}, {"y"}, "conv", {{"strides", {2, 2}}, {"pads", {1, 1, 1, 1}}});
    t.output("y");
    // The file states y's shape (as exporters do in value_info / outputs).
    auto* out = t.model.mutable_graph()->mutable_output(0);
    auto* shape = out->mutable_type()->mutable_tensor_type()->mutable_shape();
    out->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
    shape->clear_dim();
    for (int64_t d : {int64_t(1), int64_t(4), int64_t(wrong ? 3 : 4), int64_t(4)}) shape->add_dim()->set_dim_value(d);
    Graph g;
    REQUIRE(import(t, &g).ok());
    Status s = infer_shapes(&g);
    if (!wrong) {
      REQUIRE_MESSAGE(s.ok(), s.message());
      CHECK(g.value(g.outputs[0]).shape == std::vector<int64_t>{1, 4, 4, 4});
    } else {
      REQUIRE_FALSE(s.ok());
      CHECK(s.message().find("node 'conv' (Conv)") != std::string::npos);
      CHECK(s.message().find("[1, 4, 4, 4] by onebit's inference but [1, 4, 3, 4] by ONNX's") != std::string::npos);
    }
  }
}
