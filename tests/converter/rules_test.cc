// Unit tests of every rewrite rule (converter/rules/*.cc), in the style of Larq Compute Engine's MLIR
// pattern tests: per rule one graph on which it fires (checked by value against an independent
// computation, not just by op names) and graphs on which it must not fire.
//
// Two ways to test a rule:
//  - sharp: import, infer shapes, then `matches(g, "rule", "node")` / `fire(g, "rule", "node")` run exactly
//    that rule on exactly that node (as the driver would: only if the node's op is one of its targets);
//  - whole driver: `rewrite(t)` runs rewrite_to_fixed_point and the test inspects the resulting graph and
//    the RewriteLog; `check_end_to_end` converts and runs the model against OnnxTestGraph::evaluate.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "common/rng.h"
#include "common/run_model.h"
#include "convert.h"
#include "ir/graph.h"
#include "ir/onebit_ops.h"
#include "ir/shape_inference.h"
#include "onebit/status.h"
#include "onnx/import.h"
#include "onnx_test_graph.h"
#include "rules/rule.h"

namespace cv = onebit::converter;
using onebit::Status;
using onebit::testing::OnnxTestGraph;
using RefTensor = onebit::testing::Tensor;

namespace {

constexpr int64_t kEnd = std::numeric_limits<int64_t>::max();

// ---------------------------------------------------------------------------------------------------------
// Building graphs.

using onebit::testing::Rng;

void attr_s(onnx::NodeProto& n, const std::string& name, const std::string& v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(v);
}

void attr_ints(onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& v) { OnnxTestGraph::attr(n, name, v); }

// BatchNormalization parameters and their affine form y = scale * x + shift, computed here in double
// from the operator's definition (y = (x - mean) / sqrt(var + eps) * gamma + beta).
struct BnParams {
  std::vector<float> gamma, beta, mean, var;
  float eps = 1e-5f;
  std::vector<float> scale() const {
    std::vector<float> s;
    for (size_t c = 0; c < gamma.size(); ++c) s.push_back(float(double(gamma[c]) / std::sqrt(double(var[c]) + double(eps))));
    return s;
  }
  std::vector<float> shift() const {
    std::vector<float> s;
    const std::vector<float> sc = scale();
    for (size_t c = 0; c < gamma.size(); ++c) s.push_back(float(double(beta[c]) - double(mean[c]) * double(sc[c])));
    return s;
  }
};

BnParams add_bn(OnnxTestGraph& t, Rng& r, const std::string& name, const std::string& in, const std::string& out, int64_t c) {
  BnParams p;
  p.gamma = r.uniform(size_t(c), 0.5f, 1.5f);
  p.beta = r.uniform(size_t(c), 0.1f, 0.5f);  // nonzero shift: no exact zeros after the BN
  for (size_t k = 0; k < size_t(c); ++k)
    if (k % 2) p.beta[k] = -p.beta[k];
  p.mean = r.normal(size_t(c), 0.2f);
  p.var = r.uniform(size_t(c), 0.5f, 2.0f);
  t.initializer(name + ".g", {c}, p.gamma);
  t.initializer(name + ".b", {c}, p.beta);
  t.initializer(name + ".m", {c}, p.mean);
  t.initializer(name + ".v", {c}, p.var);
  t.node("BatchNormalization", {in, name + ".g", name + ".b", name + ".m", name + ".v"}, {out}, name);
  return p;
}

onnx::NodeProto& add_conv(OnnxTestGraph& t, const std::string& name, const std::vector<std::string>& inputs,
                          const std::string& out, int64_t k, int64_t stride, int64_t pad) {
  auto& n = t.node("Conv", inputs, {out}, name);
  attr_ints(n, "kernel_shape", {k, k});
  attr_ints(n, "strides", {stride, stride});
  attr_ints(n, "pads", {pad, pad, pad, pad});
  return n;
}

// Pad of H and W by 1 on every side with `value`.
void add_pad(OnnxTestGraph& t, const std::string& name, const std::string& in, const std::string& out, float value,
             std::vector<int64_t> pads = {0, 0, 1, 1, 0, 0, 1, 1}) {
  t.initializer_i64(name + ".pads", {8}, pads);
  t.initializer(name + ".value", {}, {value});
  t.node("Pad", {in, name + ".pads", name + ".value"}, {out}, name);
}

onnx::NodeProto& add_pool(OnnxTestGraph& t, const std::string& op, const std::string& name, const std::string& in,
                          const std::string& out, int64_t k, int64_t stride) {
  auto& n = t.node(op, {in}, {out}, name);
  attr_ints(n, "kernel_shape", {k, k});
  attr_ints(n, "strides", {stride, stride});
  return n;
}

// ---------------------------------------------------------------------------------------------------------
// Running rules.

cv::Graph import(const OnnxTestGraph& t) {
  cv::Graph g;
  cv::ImportReport report;
  Status s = cv::import_onnx(t.bytes(), "test", cv::ImportOptions{}, &g, &report);
  REQUIRE_MESSAGE(s.ok(), s.message());
  s = cv::infer_shapes(&g);
  REQUIRE_MESSAGE(s.ok(), s.message());
  return g;
}

// The live node called `name`, or kNoId.
cv::NodeId find_node(const cv::Graph& g, const std::string& name) {
  for (size_t k = 0; k < g.node_count(); ++k)
    if (!g.node(cv::NodeId(k)).dead && g.node(cv::NodeId(k)).name == name) return cv::NodeId(k);
  return cv::kNoId;
}

const cv::Node& node(const cv::Graph& g, const std::string& name) {
  const cv::NodeId id = find_node(g, name);
  REQUIRE_MESSAGE(id != cv::kNoId, "no live node '" << name << "'");
  return g.node(id);
}

const cv::Rule& rule(const std::string& name) {
  const cv::Rule* r = cv::find_rule(name);
  REQUIRE_MESSAGE(r != nullptr, "no rule '" << name << "'");
  return *r;
}

// Would the driver apply `rule_name` to node `node_name`? (Its op must be a target, then match.)
bool matches(cv::Graph& g, const std::string& rule_name, const std::string& node_name, const cv::RewriteOptions& o = {}) {
  Status s = cv::infer_shapes(&g);
  REQUIRE_MESSAGE(s.ok(), s.message());
  const cv::Rule& r = rule(rule_name);
  const cv::NodeId id = find_node(g, node_name);
  REQUIRE_MESSAGE(id != cv::kNoId, "no live node '" << node_name << "'");
  const std::vector<std::string> targets = r.targets();
  if (!targets.empty() && std::find(targets.begin(), targets.end(), g.node(id).op) == targets.end()) return false;
  return r.match(g, id, o);
}

// Applies `rule_name` to `node_name` (which it must match); returns apply's status.
Status fire(cv::Graph& g, const std::string& rule_name, const std::string& node_name, const cv::RewriteOptions& o = {}) {
  REQUIRE_MESSAGE(matches(g, rule_name, node_name, o), rule_name << " does not match '" << node_name << "'");
  cv::RewriteLog log;
  Status s = rule(rule_name).apply(g, find_node(g, node_name), o, &log);
  if (s.ok()) s = cv::infer_shapes(&g);
  return s;
}

struct Rewritten {
  cv::Graph g;
  cv::RewriteLog log;
  Status status;
  int fired(const std::string& rule_name) {
    auto it = log.fired.find(rule(rule_name).summary());
    return it == log.fired.end() ? 0 : it->second;
  }
  std::vector<std::string> ops() const {
    std::vector<cv::NodeId> order;
    g.topo_order(&order);
    std::vector<std::string> out;
    for (cv::NodeId id : order) out.push_back(g.node(id).op);
    return out;
  }
  int count(const std::string& op) const {
    const std::vector<std::string> o = ops();
    return int(std::count(o.begin(), o.end(), op));
  }
};

// Import + rewrite_to_fixed_point; REQUIREs success unless `expect_ok` is false.
Rewritten rewrite(const OnnxTestGraph& t, const cv::RewriteOptions& o = {}, bool expect_ok = true) {
  Rewritten r;
  r.g = import(t);
  r.status = cv::rewrite_to_fixed_point(&r.g, o, &r.log);
  if (expect_ok) REQUIRE_MESSAGE(r.status.ok(), r.status.message());
  return r;
}

// Constant input `slot` of `n` as floats.
std::vector<float> const_input(const cv::Graph& g, const cv::Node& n, size_t slot) {
  const cv::Tensor* c = g.constant(n.in(slot));
  REQUIRE_MESSAGE(c != nullptr, n.describe() << ": input " << slot << " is not a constant");
  return c->to_floats();
}

// The node reading value `v` (exactly one live reader).
const cv::Node& sole_reader(const cv::Graph& g, cv::ValueId v) {
  const std::vector<cv::NodeId> users = g.users(v);
  REQUIRE(users.size() == 1);
  return g.node(users[0]);
}

void check_close(const std::vector<float>& got, const std::vector<float>& want, double tol = 1e-5) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    CAPTURE(i);
    CHECK(got[i] == doctest::Approx(want[i]).epsilon(tol).scale(1.0));
  }
}

struct Converted {
  Status status;
  cv::ConvertResult result;
};

Converted convert(const OnnxTestGraph& t, const cv::ConvertOptions& o = {}) {
  Converted c;
  c.status = cv::convert_onnx_bytes(t.bytes(), "test.onnx", o, &c.result);
  return c;
}

// Converts t, runs it on x and compares output `out` with the NCHW reference of the ONNX graph.
void check_end_to_end(const OnnxTestGraph& t, const RefTensor& x, const std::string& out, const cv::ConvertOptions& o = {},
                      double tol = 1e-4) {
  Converted c = convert(t, o);
  REQUIRE_MESSAGE(c.status.ok(), c.status.message());
  INFO(c.result.summary);
  const RefTensor want = t.evaluate({{"x", x}}).at(out);
  const std::vector<float> got = onebit::testing::run_model(c.result.model, onebit::testing::to_nhwc(x));
  float scale = 1.0f;
  for (float v : want.data) scale = std::max(scale, std::fabs(v));
  const std::vector<float> w = onebit::testing::to_nhwc(want);
  REQUIRE(got.size() == w.size());
  for (size_t i = 0; i < got.size(); ++i) {
    CAPTURE(i);
    CHECK(std::fabs(got[i] - w[i]) <= tol * scale);
  }
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

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
      OnnxTestGraph t;
      t.input("x", {1, 2, 7, 8});
      onnx::NodeProto* n;
      if (op == "Conv") {
        t.initializer("w", {2, 2, 3, 3}, Rng(1).normal(36));
        n = &t.node("Conv", {"x", "w"}, {"y"}, "op");
      } else {
        n = &t.node(op, {"x"}, {"y"}, "op");
        attr_ints(*n, "kernel_shape", {k, k});
      }
      attr_ints(*n, "strides", {2, 2});
      attr_s(*n, "auto_pad", mode);
      t.output("y");
      cv::Graph g = import(t);
      REQUIRE(fire(g, "explicit_auto_pad", "op").ok());
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
    OnnxTestGraph t;
    t.input("x", {1, 2, 8, 8});
    t.initializer("w", {2, 2, 3, 3}, w);
    auto& n = t.node("Conv", {"x", "w"}, {"y"}, "conv");
    attr_ints(n, "strides", {2, 2});
    attr_s(n, "auto_pad", "SAME_LOWER");
    t.output("y");
    OnnxTestGraph ref;  // the reference evaluator reads explicit pads only
    ref.input("x", {1, 2, 8, 8});
    ref.initializer("w", {2, 2, 3, 3}, w);
    auto& m = ref.node("Conv", {"x", "w"}, {"y"}, "conv");
    attr_ints(m, "strides", {2, 2});
    attr_ints(m, "pads", {1, 1, 0, 0});
    ref.output("y");
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
    auto& n = t.node("Conv", {"x", "w"}, {"y"}, "conv");
    attr_s(n, "auto_pad", "SAME_UPPER");
    add_pool(t, "MaxPool", "pool", "x", "p", 2, 2);
    t.output("y");
    t.output("p");
    cv::Graph g = import(t);
    CHECK_FALSE(matches(g, "explicit_auto_pad", "conv"));
    CHECK_FALSE(matches(g, "explicit_auto_pad", "pool"));
  }
}

TEST_CASE("rules: ceil_mode_equal") {
  auto graph = [](int64_t size) {
    OnnxTestGraph t;
    t.input("x", {1, 2, size, size});
    auto& p = add_pool(t, "MaxPool", "pool", "x", "y", 2, 2);
    OnnxTestGraph::attr(p, "ceil_mode", int64_t(1));
    t.output("y");
    return t;
  };
  SUBCASE("fires where ceil == floor (8x8, kernel 2, stride 2)") {
    cv::Graph g = import(graph(8));
    REQUIRE(fire(g, "ceil_mode_equal", "pool").ok());
    CHECK(node(g, "pool").i("ceil_mode") == 0);
    CHECK(g.value(node(g, "pool").out()).shape == std::vector<int64_t>{1, 2, 4, 4});
    CHECK_FALSE(matches(g, "ceil_mode_equal", "pool"));
    Rng r(4);
    check_end_to_end(graph(8), RefTensor{{1, 2, 8, 8}, r.normal(128)}, "y");
  }
  SUBCASE("does not fire where they differ (7x7: ceil 4, floor 3); the conversion names ceil_mode") {
    cv::Graph g = import(graph(7));
    CHECK_FALSE(matches(g, "ceil_mode_equal", "pool"));
    Rewritten r = rewrite(graph(7));
    CHECK(r.fired("ceil_mode_equal") == 0);
    CHECK(node(r.g, "pool").i("ceil_mode") == 1);
    Converted c = convert(graph(7));
    REQUIRE_FALSE(c.status.ok());
    CHECK(contains(c.status.message(), "ceil_mode"));
    CHECK(contains(c.status.message(), "node 'pool' (MaxPool)"));
  }
  SUBCASE("does not fire when ceil_mode is 0") {
    OnnxTestGraph t;
    t.input("x", {1, 2, 8, 8});
    add_pool(t, "MaxPool", "pool", "x", "y", 2, 2);
    t.output("y");
    cv::Graph g = import(t);
    CHECK_FALSE(matches(g, "ceil_mode_equal", "pool"));
  }
}

TEST_CASE("rules: strided_slice_to_pool") {
  // x[1, 3, 6, 5] sliced with starts/ends/axes/steps.
  auto graph = [](const std::vector<int64_t>& starts, const std::vector<int64_t>& ends, const std::vector<int64_t>& axes,
                  const std::vector<int64_t>& steps) {
    OnnxTestGraph t;
    t.input("x", {1, 3, 6, 5});
    const int64_t n = int64_t(starts.size());
    t.initializer_i64("starts", {n}, starts);
    t.initializer_i64("ends", {n}, ends);
    t.initializer_i64("axes", {n}, axes);
    t.initializer_i64("steps", {n}, steps);
    t.node("Slice", {"x", "starts", "ends", "axes", "steps"}, {"y"}, "slice");
    t.output("y");
    return t;
  };
  SUBCASE("fires: x[:, :, ::2, ::2] -> 1x1 MaxPool stride 2 (same values)") {
    OnnxTestGraph t = graph({0, 0}, {kEnd, kEnd}, {2, 3}, {2, 2});
    cv::Graph g = import(t);
    REQUIRE(fire(g, "strided_slice_to_pool", "slice").ok());
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
    cv::Graph g = import(graph({-6}, {kEnd}, {-2}, {3}));
    REQUIRE(fire(g, "strided_slice_to_pool", "slice").ok());
    CHECK(node(g, "slice").ints("strides") == std::vector<int64_t>{3, 1});
  }
  SUBCASE("does not fire: a nonzero start") {
    cv::Graph g = import(graph({1, 0}, {kEnd, kEnd}, {2, 3}, {2, 2}));
    CHECK_FALSE(matches(g, "strided_slice_to_pool", "slice"));
  }
  SUBCASE("does not fire: an end before the end of the axis") {
    cv::Graph g = import(graph({0, 0}, {5, kEnd}, {2, 3}, {2, 2}));
    CHECK_FALSE(matches(g, "strided_slice_to_pool", "slice"));
  }
  SUBCASE("does not fire: a step on the channel axis") {
    cv::Graph g = import(graph({0}, {kEnd}, {1}, {2}));
    CHECK_FALSE(matches(g, "strided_slice_to_pool", "slice"));
    cv::Graph g2 = import(graph({0, 0}, {kEnd, kEnd}, {1, 2}, {2, 2}));
    CHECK_FALSE(matches(g2, "strided_slice_to_pool", "slice"));
  }
  SUBCASE("does not fire: steps of 1 (nothing to subsample)") {
    cv::Graph g = import(graph({0, 0}, {kEnd, kEnd}, {2, 3}, {1, 1}));
    CHECK_FALSE(matches(g, "strided_slice_to_pool", "slice"));
  }
}

TEST_CASE("rules: pad_into_average_pool") {
  auto graph = [](float value, const std::vector<int64_t>& pads, const std::string& mode = "constant",
                  const std::vector<int64_t>& pool_pads = {}) {
    OnnxTestGraph t;
    t.input("x", {1, 2, 5, 5});
    t.initializer_i64("pads", {8}, pads);
    t.initializer("value", {}, {value});
    auto& p = t.node("Pad", {"x", "pads", "value"}, {"xp"}, "pad");
    if (mode != "constant") attr_s(p, "mode", mode);
    auto& a = add_pool(t, "AveragePool", "avg", "xp", "y", 3, 2);
    if (!pool_pads.empty()) attr_ints(a, "pads", pool_pads);
    t.output("y");
    return t;
  };
  SUBCASE("fires: Pad(0 on H, W) -> AveragePool with those pads and count_include_pad") {
    OnnxTestGraph t = graph(0.0f, {0, 0, 1, 2, 0, 0, 2, 1});
    cv::Graph g = import(t);
    REQUIRE(fire(g, "pad_into_average_pool", "avg").ok());
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
                                   graph(0.0f, {0, 0, 1, 1, 0, 0, 1, 1}, "constant", {1, 1, 1, 1})}) {
      cv::Graph g = import(t);
      CHECK_FALSE(matches(g, "pad_into_average_pool", "avg"));
    }
  }
}

// =========================================================================================================
// binary_activation.cc

TEST_CASE("rules: sign_of_clip") {
  auto graph = [](float lo, float hi) {
    OnnxTestGraph t;
    t.input("x", {1, 2, 3, 3});
    t.initializer("lo", {}, {lo});
    t.initializer("hi", {}, {hi});
    t.node("Clip", {"x", "lo", "hi"}, {"c"}, "clip");
    t.node("Sign", {"c"}, {"y"}, "sign");
    t.output("y");
    return t;
  };
  SUBCASE("fires: Sign(Clip(x, -1, 1)) -> Sign(x)") {
    cv::Graph g = import(graph(-1, 1));
    REQUIRE(fire(g, "sign_of_clip", "sign").ok());
    CHECK(node(g, "sign").in(0) == g.find_value("x"));
    Rewritten r = rewrite(graph(-1, 1));
    CHECK(r.fired("sign_of_clip") == 1);
    CHECK(r.ops() == std::vector<std::string>{cv::ops::kQuantize, cv::ops::kDequantize});
    CHECK(node(r.g, "sign").in(0) == r.g.find_value("x"));
  }
  SUBCASE("does not fire: Clip(0, 1) or Clip(-1, 0) (a bound at 0 makes zeros)") {
    for (const auto& b : {std::make_pair(0.0f, 1.0f), std::make_pair(-1.0f, 0.0f), std::make_pair(0.5f, 1.0f)}) {
      CAPTURE(b.first);
      cv::Graph g = import(graph(b.first, b.second));
      CHECK_FALSE(matches(g, "sign_of_clip", "sign"));
    }
  }
}

TEST_CASE("rules: sign_to_quantize") {
  SUBCASE("fires: Sign of a float activation -> Dequantize(Quantize(x))") {
    for (const std::vector<int64_t>& shape : {std::vector<int64_t>{1, 2, 3, 3}, std::vector<int64_t>{2, 5}}) {
      OnnxTestGraph t;
      t.input("x", shape);
      t.node("Sign", {"x"}, {"y"}, "sign");
      t.output("y");
      cv::Graph g = import(t);
      REQUIRE(fire(g, "sign_to_quantize", "sign").ok());
      const cv::Node& q = node(g, "sign");
      CHECK(q.op == cv::ops::kQuantize);
      CHECK(q.in(0) == g.find_value("x"));
      CHECK(q.in(1) == cv::kNoId);
      CHECK(g.value(q.out()).dtype == cv::DType::kBits);
      const cv::Node& d = sole_reader(g, q.out());
      CHECK(d.op == cv::ops::kDequantize);
      CHECK(d.out() == g.find_value("y"));
    }
  }
  SUBCASE("does not fire: a 3-D tensor or a constant") {
    OnnxTestGraph t;
    t.input("x", {2, 3, 4});
    t.node("Sign", {"x"}, {"y"}, "sign");
    t.output("y");
    cv::Graph g = import(t);
    CHECK_FALSE(matches(g, "sign_to_quantize", "sign"));
  }
  SUBCASE("Relu -> Sign (sign(0) = 0): ternary by default, refused with kError, binary with kPlusOne") {
    OnnxTestGraph t;
    t.input("x", {1, 2, 3, 3});
    t.node("Relu", {"x"}, {"r"}, "relu");
    t.node("Sign", {"r"}, {"y"}, "sign");
    t.output("y");
    Rewritten d = rewrite(t);
    CHECK(d.fired("sign_to_quantize") == 1);
    const cv::Node& q = node(d.g, "sign");
    CHECK(q.op == cv::ops::kQuantizeLevels);
    CHECK(q.s("kind") == "ternary");
    CHECK(d.g.value(q.out()).dtype == cv::DType::kLevels);
    CHECK(d.g.value(q.out()).levels.kind == cv::LevelKind::kTernary);
    CHECK(d.g.value(q.out()).levels.scale == 1.0f);
    cv::RewriteOptions error;
    error.sign_zero = cv::SignZero::kError;
    Rewritten r = rewrite(t, error, false);
    REQUIRE_FALSE(r.status.ok());
    CHECK(contains(r.status.message(), "sign(0)"));
    CHECK(contains(r.status.message(), "node 'sign' (Sign)"));
    CHECK(contains(r.status.message(), "node 'relu' (Relu)"));
    cv::RewriteOptions plus;
    plus.sign_zero = cv::SignZero::kPlusOne;
    Rewritten p = rewrite(t, plus);
    CHECK(p.fired("sign_to_quantize") == 1);
    CHECK(node(p.g, "sign").op == cv::ops::kQuantize);
  }
  // x -> Sign -> binary conv (no bias) [-> BN] -> Sign.
  auto conv_sign = [](bool bn) {
    Rng r(8);
    OnnxTestGraph t;
    t.input("x", {1, 2, 4, 4});
    t.node("Sign", {"x"}, {"s1"}, "sign1");
    t.initializer("w", {2, 2, 3, 3}, r.signs(36));
    add_conv(t, "conv", {"s1", "w"}, "c", 3, 1, 1);
    if (bn) add_bn(t, r, "bn", "c", "b", 2);
    t.node("Sign", {bn ? "b" : "c"}, {"y"}, "sign2");
    t.output("y");
    return t;
  };
  SUBCASE("Sign of a binary conv without bias (a ±1 dot can be exactly 0): ternary, or refused with kError") {
    cv::RewriteOptions error;
    error.sign_zero = cv::SignZero::kError;
    Rewritten r = rewrite(conv_sign(false), error, false);
    REQUIRE_FALSE(r.status.ok());
    CHECK(contains(r.status.message(), "node 'sign2' (Sign)"));
    CHECK(contains(r.status.message(), "sign(0)"));
    Rewritten d = rewrite(conv_sign(false));
    CHECK(node(d.g, "sign2").op == cv::ops::kQuantizeLevels);
    CHECK(node(d.g, "sign2").s("kind") == "ternary");
    Rng rng(10);
    check_end_to_end(conv_sign(false), RefTensor{{1, 2, 4, 4}, rng.normal(32)}, "y");
  }
  SUBCASE("accepted: a BatchNormalization between the binary conv and the Sign") {
    Rewritten r = rewrite(conv_sign(true));
    CHECK(r.fired("sign_to_quantize") == 2);
    Rng rng(9);
    check_end_to_end(conv_sign(true), RefTensor{{1, 2, 4, 4}, rng.normal(32)}, "y");
  }
}

TEST_CASE("rules: affine_into_quantize") {
  const int64_t C = 3;
  Rng r(10);
  const std::vector<float> bias = {0.25f, -0.5f, 0.75f};
  // x -> [BN] -> [op(x, c) / op(c, x)] -> Sign -> y, rewritten to the fixed point.
  struct Built {
    OnnxTestGraph t;
    BnParams bn;
  };
  auto graph = [&](bool with_bn, const std::string& op, bool constant_first) {
    Built b;
    b.t.input("x", {1, C, 2, 2});
    std::string cur = "x";
    if (with_bn) {
      b.bn = add_bn(b.t, r, "bn", cur, "xb", C);
      cur = "xb";
    }
    if (!op.empty()) {
      b.t.initializer("c", {1, C, 1, 1}, bias);
      b.t.node(op, constant_first ? std::vector<std::string>{"c", cur} : std::vector<std::string>{cur, "c"}, {"a"}, "affine");
      cur = "a";
    }
    b.t.node("Sign", {cur}, {"y"}, "sign");
    b.t.output("y");
    return b;
  };
  auto quantize = [](Rewritten& rw) -> const cv::Node& {
    const cv::Node& q = node(rw.g, "sign");
    REQUIRE(q.op == cv::ops::kQuantize);
    CHECK(q.in(0) == rw.g.find_value("x"));
    return q;
  };
  SUBCASE("fires: BatchNormalization; threshold is the BN formula") {
    Built b = graph(true, "", false);
    cv::Graph g = import(b.t);
    REQUIRE(fire(g, "sign_to_quantize", "sign").ok());
    REQUIRE(fire(g, "affine_into_quantize", "sign").ok());
    const cv::Node& q = node(g, "sign");
    CHECK(q.in(0) == g.find_value("x"));
    CHECK(q.i("folded_bn") == 1);
    check_close(const_input(g, q, 1), b.bn.scale());
    check_close(const_input(g, q, 2), b.bn.shift());
    CHECK_FALSE(matches(g, "affine_into_quantize", "sign"));
  }
  SUBCASE("fires: Add / Sub / Mul / Div by a per-channel constant") {
    struct Case { const char* op; bool first; std::vector<float> scale, shift; };
    const std::vector<float> ones(3, 1.0f), zeros(3, 0.0f);
    const std::vector<Case> cases = {
        {"Add", false, ones, bias},
        {"Add", true, ones, bias},
        {"Sub", false, ones, {-0.25f, 0.5f, -0.75f}},
        {"Sub", true, {-1, -1, -1}, bias},
        {"Mul", true, bias, zeros},
        {"Div", false, {4.0f, -2.0f, 1.0f / 0.75f}, zeros},
    };
    for (const Case& c : cases) {
      CAPTURE(c.op);
      CAPTURE(c.first);
      Built b = graph(false, c.op, c.first);
      Rewritten rw = rewrite(b.t);
      CHECK(rw.fired("affine_into_quantize") == 1);
      const cv::Node& q = quantize(rw);
      check_close(const_input(rw.g, q, 1), c.scale);
      check_close(const_input(rw.g, q, 2), c.shift);
      CHECK(find_node(rw.g, "affine") == cv::kNoId);
    }
  }
  SUBCASE("fires: BatchNormalization then a bias Add (ReActNet): shift = BN shift + bias") {
    Built b = graph(true, "Add", false);
    Rewritten rw = rewrite(b.t);
    CHECK(rw.fired("affine_into_quantize") == 2);
    const cv::Node& q = quantize(rw);
    std::vector<float> shift = b.bn.shift();
    for (size_t c = 0; c < 3; ++c) shift[c] += bias[c];
    check_close(const_input(rw.g, q, 1), b.bn.scale());
    check_close(const_input(rw.g, q, 2), shift);
    // And the bits are those of Sign(BN(x) + bias).
    check_end_to_end(b.t, RefTensor{{1, C, 2, 2}, r.normal(size_t(C * 4))}, "y");
  }
  SUBCASE("does not fire: Mul by an activation, or c / x") {
    OnnxTestGraph t;
    t.input("x", {1, C, 2, 2});
    t.input("z", {1, C, 2, 2});
    t.node("Mul", {"x", "z"}, {"a"}, "affine");
    t.node("Sign", {"a"}, {"y"}, "sign");
    t.output("y");
    cv::Graph g = import(t);
    REQUIRE(fire(g, "sign_to_quantize", "sign").ok());
    CHECK_FALSE(matches(g, "affine_into_quantize", "sign"));
    Built b = graph(false, "Div", true);
    cv::Graph g2 = import(b.t);
    REQUIRE(fire(g2, "sign_to_quantize", "sign").ok());
    CHECK_FALSE(matches(g2, "affine_into_quantize", "sign"));
  }
  SUBCASE("does not fire: a constant that is not per-channel (varies along H)") {
    OnnxTestGraph t;
    t.input("x", {1, C, 2, 2});
    t.initializer("c", {1, 1, 2, 1}, {0.5f, -0.5f});
    t.node("Add", {"x", "c"}, {"a"}, "affine");
    t.node("Sign", {"a"}, {"y"}, "sign");
    t.output("y");
    cv::Graph g = import(t);
    REQUIRE(fire(g, "sign_to_quantize", "sign").ok());
    CHECK_FALSE(matches(g, "affine_into_quantize", "sign"));
  }
}

TEST_CASE("rules: binary_flatten") {
  const int64_t C = 3, O = 4;
  Rng r(11);
  OnnxTestGraph t;
  t.input("x", {1, C, 2, 2});
  const BnParams bn = add_bn(t, r, "bn", "x", "xb", C);
  t.node("Sign", {"xb"}, {"s"}, "sign");
  t.node("Flatten", {"s"}, {"f"}, "flatten");
  t.initializer("fc.w", {O, C * 4}, r.signs(size_t(O * C * 4)));
  auto& fc = t.node("Gemm", {"f", "fc.w"}, {"y"}, "fc");
  OnnxTestGraph::attr(fc, "transB", int64_t(1));
  t.output("y");
  SUBCASE("fires: the Flatten moves before the Quantize, thresholds repeated per feature") {
    cv::Graph g = import(t);
    REQUIRE(fire(g, "sign_to_quantize", "sign").ok());
    REQUIRE(fire(g, "affine_into_quantize", "sign").ok());
    REQUIRE(fire(g, "binary_flatten", "flatten").ok());
    const cv::Node& f = node(g, "flatten");
    CHECK(f.op == "Flatten");
    CHECK(f.in(0) == g.find_value("x"));
    const cv::Node& q = sole_reader(g, f.out());
    CHECK(q.op == cv::ops::kQuantize);
    const std::vector<float> scale = const_input(g, q, 1), shift = const_input(g, q, 2);
    REQUIRE(scale.size() == size_t(C * 4));
    for (int64_t c = 0; c < C; ++c)
      for (int64_t p = 0; p < 4; ++p) {
        CHECK(scale[size_t(c * 4 + p)] == doctest::Approx(bn.scale()[size_t(c)]));
        CHECK(shift[size_t(c * 4 + p)] == doctest::Approx(bn.shift()[size_t(c)]));
      }
    const cv::Node& d = sole_reader(g, q.out());
    CHECK(d.op == cv::ops::kDequantize);
    CHECK(d.out() == g.find_value("f"));
    CHECK(node(g, "fc").in(0) == g.find_value("f"));
  }
  SUBCASE("end to end: binary FC on the flattened bits agrees with the reference") {
    Rewritten rw = rewrite(t);
    CHECK(rw.fired("binary_flatten") == 1);
    CHECK(node(rw.g, "fc").op == cv::ops::kBinaryFullyConnected);
    check_end_to_end(t, RefTensor{{1, C, 2, 2}, r.normal(size_t(C * 4))}, "y");
  }
  SUBCASE("does not fire: Flatten of a float value, or a flatten that does not keep N") {
    OnnxTestGraph f;
    f.input("x", {1, C, 2, 2});
    f.node("Flatten", {"x"}, {"y"}, "flatten");
    f.output("y");
    cv::Graph g = import(f);
    CHECK_FALSE(matches(g, "binary_flatten", "flatten"));
    OnnxTestGraph a;
    a.input("x", {1, C, 2, 2});
    a.node("Sign", {"x"}, {"s"}, "sign");
    auto& fl = a.node("Flatten", {"s"}, {"y"}, "flatten");
    OnnxTestGraph::attr(fl, "axis", int64_t(2));
    a.output("y");
    cv::Graph g2 = import(a);
    REQUIRE(fire(g2, "sign_to_quantize", "sign").ok());
    CHECK_FALSE(matches(g2, "binary_flatten", "flatten"));
  }
}

// =========================================================================================================
// binary_layers.cc

namespace {

// x[1, 2, 5, 5] -> Sign -> [Pad(value)] -> Conv(w, bias?, own pads) -> y.
OnnxTestGraph binary_conv_graph(const std::vector<float>& w, const std::vector<float>& bias, int64_t own_pad,
                                bool pad_node, float pad_value, int64_t stride = 1) {
  OnnxTestGraph t;
  t.input("x", {1, 2, 5, 5});
  t.node("Sign", {"x"}, {"s"}, "sign");
  std::string in = "s";
  if (pad_node) {
    add_pad(t, "pad", "s", "sp", pad_value);
    in = "sp";
  }
  t.initializer("w", {3, 2, 3, 3}, w);
  std::vector<std::string> inputs = {in, "w"};
  if (!bias.empty()) {
    t.initializer("bias", {3}, bias);
    inputs.push_back("bias");
  }
  add_conv(t, "conv", inputs, "y", 3, stride, own_pad);
  t.output("y");
  return t;
}

}  // namespace

TEST_CASE("rules: binary_conv") {
  Rng r(12);
  const std::vector<float> signs = r.signs(54);
  const std::vector<float> mags = {0.5f, 0.125f, 2.0f};
  std::vector<float> scaled = signs;
  for (size_t i = 0; i < scaled.size(); ++i) scaled[i] *= mags[i / 18];
  const RefTensor x{{1, 2, 5, 5}, r.normal(50)};
  auto binary_conv = [](Rewritten& rw) -> const cv::Node& {
    const cv::Node& c = node(rw.g, "conv");
    REQUIRE(c.op == cv::ops::kBinaryConv2D);
    CHECK(rw.g.value(c.in(0)).dtype == cv::DType::kBits);
    CHECK(rw.g.producer(c.in(0))->name == "sign");
    return c;
  };
  SUBCASE("fires: ±1 weights, the conv's own zero pads") {
    OnnxTestGraph t = binary_conv_graph(signs, {}, 1, false, 0, 2);
    Rewritten rw = rewrite(t);
    CHECK(rw.fired("binary_conv") == 1);
    const cv::Node& c = binary_conv(rw);
    CHECK(const_input(rw.g, c, 1) == signs);
    CHECK(const_input(rw.g, c, 2) == std::vector<float>(3, 1.0f));
    CHECK(const_input(rw.g, c, 3) == std::vector<float>(3, 0.0f));
    CHECK(c.ints("pads") == std::vector<int64_t>{1, 1, 1, 1});
    CHECK(c.ints("strides") == std::vector<int64_t>{2, 2});
    CHECK(c.s("pad_mode") == "zero");
    check_end_to_end(t, x, "y");
  }
  SUBCASE("fires: ±s weights with a bias -> signs, multiplier s, bias") {
    const std::vector<float> bias = {0.1f, -0.2f, 0.3f};
    OnnxTestGraph t = binary_conv_graph(scaled, bias, 1, false, 0);
    Rewritten rw = rewrite(t);
    const cv::Node& c = binary_conv(rw);
    CHECK(const_input(rw.g, c, 1) == signs);
    check_close(const_input(rw.g, c, 2), mags);
    check_close(const_input(rw.g, c, 3), bias);
    check_end_to_end(t, x, "y");
  }
  SUBCASE("fires: Pad +1 / -1 / 0 in front -> pad_mode one / minus_one / zero") {
    struct Case { float value; int64_t own; const char* mode; std::vector<int64_t> pads; };
    for (const Case& k : {Case{1.0f, 0, "one", {1, 1, 1, 1}}, Case{-1.0f, 0, "minus_one", {1, 1, 1, 1}},
                          Case{0.0f, 0, "zero", {1, 1, 1, 1}}, Case{0.0f, 1, "zero", {2, 2, 2, 2}}}) {
      CAPTURE(k.value);
      CAPTURE(k.own);
      OnnxTestGraph t = binary_conv_graph(scaled, {}, k.own, true, k.value);
      Rewritten rw = rewrite(t);
      const cv::Node& c = binary_conv(rw);
      CHECK(c.s("pad_mode") == k.mode);
      CHECK(c.ints("pads") == k.pads);
      CHECK(find_node(rw.g, "pad") == cv::kNoId);
      check_end_to_end(t, x, "y");
    }
  }
  SUBCASE("error: a ±1 Pad and the conv's own pads (mixed padding), naming the conv") {
    for (float v : {1.0f, -1.0f}) {
      Rewritten rw = rewrite(binary_conv_graph(signs, {}, 1, true, v), {}, false);
      REQUIRE_FALSE(rw.status.ok());
      CHECK(contains(rw.status.message(), "node 'conv' (Conv)"));
      CHECK(contains(rw.status.message(), "mixed padding"));
    }
  }
  SUBCASE("does not fire: float weights (or a weight of 0); the conversion says 'not binary' naming the conv") {
    std::vector<float> zero = signs;
    zero[5] = 0.0f;
    std::vector<float> mixed = signs;
    mixed[20] *= 1.5f;  // channel 1 is not ±s
    for (const std::vector<float>& w : {r.normal(54), zero, mixed}) {
      OnnxTestGraph t = binary_conv_graph(w, {}, 1, false, 0);
      cv::Graph g = import(t);
      REQUIRE(fire(g, "sign_to_quantize", "sign").ok());
      CHECK_FALSE(matches(g, "binary_conv", "conv"));
      Converted c = convert(t);
      REQUIRE_FALSE(c.status.ok());
      CHECK(contains(c.status.message(), "node 'conv' (Conv)"));
      CHECK(contains(c.status.message(), "not binary"));
    }
  }
  SUBCASE("does not fire: a float input") {
    OnnxTestGraph t;
    t.input("x", {1, 2, 5, 5});
    t.initializer("w", {3, 2, 3, 3}, signs);
    add_conv(t, "conv", {"x", "w"}, "y", 3, 1, 1);
    t.output("y");
    cv::Graph g = import(t);
    CHECK_FALSE(matches(g, "binary_conv", "conv"));
  }
}

TEST_CASE("rules: binary_fully_connected") {
  const int64_t K = 6, O = 3;
  Rng r(13);
  const std::vector<float> signs = r.signs(size_t(O * K));  // [O][K]
  const std::vector<float> mags = {0.5f, 1.0f, 0.25f};
  // x[2, K] -> Sign -> Gemm(transB, alpha, beta, bias) / MatMul -> y
  auto gemm = [&](const std::vector<float>& w_ok, float alpha, float beta, bool with_bias) {
    OnnxTestGraph t;
    t.input("x", {2, K});
    t.node("Sign", {"x"}, {"s"}, "sign");
    t.initializer("w", {O, K}, w_ok);
    std::vector<std::string> in = {"s", "w"};
    if (with_bias) {
      t.initializer("b", {O}, {0.5f, -1.0f, 0.25f});
      in.push_back("b");
    }
    auto& n = t.node("Gemm", in, {"y"}, "fc");
    OnnxTestGraph::attr(n, "transB", int64_t(1));
    if (alpha != 1.0f) OnnxTestGraph::attr(n, "alpha", alpha);
    if (beta != 1.0f) OnnxTestGraph::attr(n, "beta", beta);
    t.output("y");
    return t;
  };
  std::vector<float> scaled = signs;
  for (size_t i = 0; i < scaled.size(); ++i) scaled[i] *= mags[i / size_t(K)];
  SUBCASE("fires: Gemm transB with ±s weights, alpha and beta") {
    Rewritten rw = rewrite(gemm(scaled, 2.0f, 3.0f, true));
    CHECK(rw.fired("binary_fully_connected") == 1);
    const cv::Node& f = node(rw.g, "fc");
    REQUIRE(f.op == cv::ops::kBinaryFullyConnected);
    CHECK(rw.g.value(f.in(0)).dtype == cv::DType::kBits);
    CHECK(const_input(rw.g, f, 1) == signs);
    check_close(const_input(rw.g, f, 2), {1.0f, 2.0f, 0.5f});  // alpha * s
    check_close(const_input(rw.g, f, 3), {1.5f, -3.0f, 0.75f});  // beta * bias
    check_end_to_end(gemm(scaled, 1.0f, 1.0f, true), RefTensor{{2, K}, r.normal(size_t(2 * K))}, "y");
  }
  SUBCASE("fires: MatMul with [K, O] weights (transposed into [O, K] signs)") {
    OnnxTestGraph t;
    t.input("x", {2, K});
    t.node("Sign", {"x"}, {"s"}, "sign");
    std::vector<float> w_ko(size_t(K * O));
    for (int64_t o = 0; o < O; ++o)
      for (int64_t k = 0; k < K; ++k) w_ko[size_t(k * O + o)] = scaled[size_t(o * K + k)];
    t.initializer("w", {K, O}, w_ko);
    t.node("MatMul", {"s", "w"}, {"y"}, "fc");
    t.output("y");
    Rewritten rw = rewrite(t);
    const cv::Node& f = node(rw.g, "fc");
    REQUIRE(f.op == cv::ops::kBinaryFullyConnected);
    CHECK(rw.g.constant(f.in(1))->shape == std::vector<int64_t>{O, K});
    CHECK(const_input(rw.g, f, 1) == signs);
    check_close(const_input(rw.g, f, 2), mags);
    check_close(const_input(rw.g, f, 3), {0, 0, 0});
  }
  SUBCASE("does not fire: float weights; the conversion warns, and fails with strict") {
    OnnxTestGraph t = gemm(r.normal(size_t(O * K)), 1.0f, 1.0f, true);
    cv::Graph g = import(t);
    REQUIRE(fire(g, "sign_to_quantize", "sign").ok());
    CHECK_FALSE(matches(g, "binary_fully_connected", "fc"));
    Converted c = convert(t);
    REQUIRE_MESSAGE(c.status.ok(), c.status.message());
    CHECK(contains(c.result.summary, "warning:"));
    CHECK(contains(c.result.summary, "node 'fc' (Gemm)"));
    CHECK(c.result.warnings.size() == 1);
    cv::ConvertOptions strict;
    strict.strict = true;
    Converted s = convert(t, strict);
    REQUIRE_FALSE(s.status.ok());
    CHECK(contains(s.status.message(), "node 'fc' (Gemm)"));
  }
}

TEST_CASE("rules: binary_max_pool") {
  auto graph = [](int64_t size, bool ceil, std::vector<int64_t> dilations = {}) {
    OnnxTestGraph t;
    t.input("x", {1, 2, size, size});
    t.node("Sign", {"x"}, {"s"}, "sign");
    auto& p = add_pool(t, "MaxPool", "pool", "s", "y", 3, 2);
    attr_ints(p, "pads", {1, 1, 1, 1});
    if (ceil) OnnxTestGraph::attr(p, "ceil_mode", int64_t(1));
    if (!dilations.empty()) attr_ints(p, "dilations", dilations);
    t.output("y");
    return t;
  };
  SUBCASE("fires: MaxPool of bits -> BinaryMaxPool2D + Dequantize") {
    OnnxTestGraph t = graph(6, false);
    Rewritten rw = rewrite(t);
    CHECK(rw.fired("binary_max_pool") == 1);
    const cv::Node& p = node(rw.g, "pool");
    REQUIRE(p.op == cv::ops::kBinaryMaxPool2D);
    CHECK(rw.g.value(p.in(0)).dtype == cv::DType::kBits);
    CHECK(rw.g.value(p.out()).dtype == cv::DType::kBits);
    CHECK(p.ints("kernel_shape") == std::vector<int64_t>{3, 3});
    CHECK(p.ints("strides") == std::vector<int64_t>{2, 2});
    CHECK(p.ints("pads") == std::vector<int64_t>{1, 1, 1, 1});
    CHECK(sole_reader(rw.g, p.out()).op == cv::ops::kDequantize);
    Rng r(14);
    check_end_to_end(t, RefTensor{{1, 2, 6, 6}, r.normal(72)}, "y");
  }
  SUBCASE("does not fire: a float input, ceil_mode that adds windows, dilations") {
    OnnxTestGraph f;
    f.input("x", {1, 2, 6, 6});
    add_pool(f, "MaxPool", "pool", "x", "y", 3, 2);
    f.output("y");
    cv::Graph g = import(f);
    CHECK_FALSE(matches(g, "binary_max_pool", "pool"));
    for (const OnnxTestGraph& t : {graph(6, true), graph(7, false, {2, 2})}) {
      cv::Graph g2 = import(t);
      REQUIRE(fire(g2, "sign_to_quantize", "sign").ok());
      CHECK_FALSE(matches(g2, "binary_max_pool", "pool"));
    }
  }
}

TEST_CASE("rules: requantize") {
  SUBCASE("fires: Sign(Sign(x)) -> one Quantize") {
    OnnxTestGraph t;
    t.input("x", {1, 2, 3, 3});
    t.node("Sign", {"x"}, {"s1"}, "sign1");
    t.node("Sign", {"s1"}, {"y"}, "sign2");
    t.output("y");
    Rewritten rw = rewrite(t);
    CHECK(rw.fired("requantize") == 1);
    CHECK(rw.count(cv::ops::kQuantize) == 1);
    const cv::Node& q = node(rw.g, "sign1");
    const cv::Node& d = sole_reader(rw.g, q.out());
    CHECK(d.op == cv::ops::kDequantize);
    CHECK(d.out() == rw.g.find_value("y"));
  }
  SUBCASE("does not fire: a Quantize with a threshold (Sign(BN(Sign(x))))") {
    Rng r(15);
    OnnxTestGraph t;
    t.input("x", {1, 2, 3, 3});
    t.node("Sign", {"x"}, {"s1"}, "sign1");
    add_bn(t, r, "bn", "s1", "b", 2);
    t.node("Sign", {"b"}, {"y"}, "sign2");
    t.output("y");
    cv::Graph g = import(t);
    REQUIRE(fire(g, "sign_to_quantize", "sign1").ok());
    REQUIRE(fire(g, "sign_to_quantize", "sign2").ok());
    CHECK_FALSE(matches(g, "requantize", "sign2"));  // reads the BN
    REQUIRE(fire(g, "affine_into_quantize", "sign2").ok());
    CHECK_FALSE(matches(g, "requantize", "sign2"));  // reads the Dequantize, but has scale / shift
    CHECK_FALSE(matches(g, "requantize", "sign1"));  // reads the graph input
  }
}

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
    b.t.node("Sign", {"x"}, {"s"}, "sign");
    b.t.initializer("w", {O, 2, 3, 3}, w);
    add_conv(b.t, "conv", {"s", "w"}, "c0", 3, 1, 1);
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
      CHECK(c.f("clamp_min") == b.lo);
      CHECK(c.f("clamp_max") == b.hi);
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
    CHECK(c.f("clamp_min") == 0.0f);
    check_close(const_input(rw.g, c, 2), mags);
    check_end_to_end(b.t, x, "y");
  }
  SUBCASE("does not fire: c - y, c / y, or a Mul by an activation") {
    for (const std::string op : {"Sub", "Div", "Mul"}) {
      CAPTURE(op);
      OnnxTestGraph t;
      t.input("x", {1, 2, 4, 4});
      t.input("z", {1, O, 4, 4});
      t.node("Sign", {"x"}, {"s"}, "sign");
      t.initializer("w", {O, 2, 3, 3}, w);
      add_conv(t, "conv", {"s", "w"}, "c0", 3, 1, 1);
      t.initializer("k", {1, O, 1, 1}, divisor);
      t.node(op, op == "Mul" ? std::vector<std::string>{"c0", "z"} : std::vector<std::string>{"k", "c0"}, {"y"}, "after");
      t.output("y");
      cv::Graph g = import(t);
      REQUIRE(fire(g, "sign_to_quantize", "sign").ok());
      REQUIRE(fire(g, "binary_conv", "conv").ok());
      CHECK_FALSE(matches(g, "fold_into_output_transform", "conv"));
    }
  }
}

TEST_CASE("rules: bitpacked_output") {
  Rng r(17);
  // x -> Sign -> conv1 (binary) -> BN -> Sign -> conv2 (binary) -> y [; Sign output also -> Relu -> z]
  auto graph = [&](bool float_reader, BnParams* bn) {
    OnnxTestGraph t;
    t.input("x", {1, 2, 4, 4});
    t.node("Sign", {"x"}, {"s1"}, "sign1");
    t.initializer("w1", {3, 2, 3, 3}, r.signs(54));
    add_conv(t, "conv1", {"s1", "w1"}, "c1", 3, 1, 1);
    *bn = add_bn(t, r, "bn", "c1", "b1", 3);
    t.node("Sign", {"b1"}, {"s2"}, "sign2");
    t.initializer("w2", {2, 3, 3, 3}, r.signs(54));
    add_conv(t, "conv2", {"s2", "w2"}, "y", 3, 1, 1);
    t.output("y");
    if (float_reader) {
      t.node("Relu", {"s2"}, {"z"}, "relu");
      t.output("z");
    }
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
    const cv::Node& q = node(rw.g, "sign2");
    CHECK(q.op == cv::ops::kQuantize);
    CHECK(q.in(0) == c1.out());
    CHECK(matches(rw.g, "bitpacked_output", "sign2") == false);
  }
  SUBCASE("does not fire: the bits are a graph output") {
    OnnxTestGraph t;
    t.input("x", {1, 2, 4, 4});
    t.node("Sign", {"x"}, {"s1"}, "sign1");
    t.initializer("w1", {3, 2, 3, 3}, r.signs(54));
    add_conv(t, "conv1", {"s1", "w1"}, "c1", 3, 1, 1);
    add_bn(t, r, "bn", "c1", "b1", 3);
    t.node("Sign", {"b1"}, {"y"}, "sign2");
    t.output("y");
    Rewritten rw = rewrite(t);
    CHECK(rw.fired("bitpacked_output") == 0);
    CHECK(node(rw.g, "sign2").op == cv::ops::kQuantize);
  }
}

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
    if (fc_op == "Gemm") {
      t.initializer("w", {O, K}, w_ok);
      auto& n = t.node("Gemm", {"f", "w"}, {"y"}, "fc");
      OnnxTestGraph::attr(n, "transB", int64_t(1));
    } else {
      std::vector<float> w_ko(size_t(K * O));
      for (int64_t o = 0; o < O; ++o)
        for (int64_t k = 0; k < K; ++k) w_ko[size_t(k * O + o)] = w_ok[size_t(o * K + k)];
      t.initializer("w", {K, O}, w_ko);
      t.node("MatMul", {"f", "w"}, {"y"}, "fc");
    }
    t.output("y");
    if (extra_reader) {
      t.node("Relu", {"f"}, {"z"}, "relu");
      t.output("z");
    }
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
    OnnxTestGraph t;
    t.input("x", {1, C, H, W});
    const BnParams bn = add_bn(t, r, "bn", "x", "xb", C);
    t.node("Sign", {"xb"}, {"s"}, "sign");
    t.node("Flatten", {"s"}, {"f"}, "flatten");
    const std::vector<float> ws = r.signs(size_t(O * K));
    t.initializer("w", {O, K}, ws);
    auto& n = t.node("Gemm", {"f", "w"}, {"y"}, "fc");
    OnnxTestGraph::attr(n, "transB", int64_t(1));
    t.output("y");
    cv::Graph g = import(t);
    REQUIRE(fire(g, "sign_to_quantize", "sign").ok());
    REQUIRE(fire(g, "affine_into_quantize", "sign").ok());
    REQUIRE(fire(g, "binary_flatten", "flatten").ok());
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
    cv::Graph g = import(graph("Gemm", true));
    CHECK_FALSE(matches(g, "flatten_feature_order", "flatten"));
    OnnxTestGraph t;
    t.input("x", {1, C, 1, 1});
    t.node("Flatten", {"x"}, {"f"}, "flatten");
    t.initializer("w", {O, C}, r.normal(size_t(O * C)));
    auto& n = t.node("Gemm", {"f", "w"}, {"y"}, "fc");
    OnnxTestGraph::attr(n, "transB", int64_t(1));
    t.output("y");
    cv::Graph g2 = import(t);
    CHECK_FALSE(matches(g2, "flatten_feature_order", "flatten"));
    OnnxTestGraph o = graph("Gemm", false);
    o.output("f");
    cv::Graph g3 = import(o);
    CHECK_FALSE(matches(g3, "flatten_feature_order", "flatten"));
  }
}

// Regression: in the driver's order the BatchNormalization in front of the Sign folds into the Quantize
// first (binary_flatten waits for affine_into_quantize), then the Flatten moves with per-feature thresholds.
TEST_CASE("rules: binary_flatten keeps the BatchNormalization threshold in the driver's order") {
  const int64_t C = 2;
  Rng r(19);
  OnnxTestGraph t;
  t.input("x", {1, C, 2, 2});
  const BnParams bn = add_bn(t, r, "bn", "x", "xb", C);
  t.node("Sign", {"xb"}, {"s"}, "sign");
  t.node("Flatten", {"s"}, {"f"}, "flatten");
  t.initializer("w", {3, C * 4}, r.signs(size_t(3 * C * 4)));
  auto& n = t.node("Gemm", {"f", "w"}, {"y"}, "fc");
  OnnxTestGraph::attr(n, "transB", int64_t(1));
  t.output("y");
  Rewritten rw = rewrite(t);
  CHECK(rw.count("BatchNormalization") == 0);
  const cv::Node& f = node(rw.g, "flatten");
  CHECK(f.in(0) == rw.g.find_value("x"));
  const cv::Node& q = sole_reader(rw.g, f.out());
  REQUIRE(q.in(1) != cv::kNoId);
  const std::vector<float> scale = const_input(rw.g, q, 1);
  for (int64_t c = 0; c < C; ++c)
    for (int64_t p = 0; p < 4; ++p) CHECK(scale[size_t(p * C + c)] == doctest::Approx(bn.scale()[size_t(c)]));
}

// =========================================================================================================
// The driver (rewrite.cc)

TEST_CASE("rules: rewrite_to_fixed_point reaches a fixed point on a small binary ResNet") {
  const int64_t C = 8;
  Rng r(20);
  OnnxTestGraph t;
  t.input("x", {1, 3, 8, 8});
  t.initializer("stem.w", {C, 3, 3, 3}, r.normal(size_t(C * 27), 0.3f));
  add_conv(t, "stem", {"x", "stem.w"}, "c0", 3, 1, 1);
  add_bn(t, r, "bn0", "c0", "b0", C);
  // Block 1: BN -> Sign -> binary conv (zero pad) x alpha -> BN, + residual.
  add_bn(t, r, "a.bn_in", "b0", "a.pre", C);
  t.node("Sign", {"a.pre"}, {"a.s"}, "a.sign");
  t.initializer("a.w", {C, C, 3, 3}, r.signs(size_t(C * C * 9)));
  add_conv(t, "a.conv", {"a.s", "a.w"}, "a.c", 3, 1, 1);
  t.initializer("a.alpha", {1, C, 1, 1}, r.uniform(size_t(C), 0.05f, 0.2f));
  t.node("Mul", {"a.c", "a.alpha"}, {"a.m"}, "a.mul");
  add_bn(t, r, "a.bn", "a.m", "a.bnout", C);
  t.node("Add", {"a.bnout", "b0"}, {"r1"}, "a.add");
  // Block 2: Sign -> Pad(+1) -> stride-2 binary conv -> BN -> Sign -> binary MaxPool -> 1x1 binary conv.
  t.node("Sign", {"r1"}, {"b.s"}, "b.sign");
  add_pad(t, "b.pad", "b.s", "b.p", 1.0f);
  t.initializer("b.w", {C, C, 3, 3}, r.signs(size_t(C * C * 9)));
  add_conv(t, "b.conv", {"b.p", "b.w"}, "b.c", 3, 2, 0);
  add_bn(t, r, "b.bn", "b.c", "b.bnout", C);
  t.node("Sign", {"b.bnout"}, {"b.s2"}, "b.sign2");
  auto& mp = add_pool(t, "MaxPool", "b.maxpool", "b.s2", "b.mp", 3, 1);
  attr_ints(mp, "pads", {1, 1, 1, 1});
  t.initializer("b.w2", {C, C, 1, 1}, r.signs(size_t(C * C)));
  add_conv(t, "b.conv2", {"b.mp", "b.w2"}, "b.c2", 1, 1, 0);
  add_bn(t, r, "b.bn2", "b.c2", "b.out", C);
  // Head.
  t.node("GlobalAveragePool", {"b.out"}, {"gap"}, "gap");
  t.node("Flatten", {"gap"}, {"flat"}, "flatten");
  t.initializer("fc.w", {10, C}, r.normal(size_t(10 * C), 0.3f));
  auto& fc = t.node("Gemm", {"flat", "fc.w"}, {"logits"}, "fc");
  OnnxTestGraph::attr(fc, "transB", int64_t(1));
  t.output("logits");

  Rewritten rw = rewrite(t);
  CHECK(rw.count(cv::ops::kBinaryConv2D) == 3);
  CHECK(rw.count(cv::ops::kBinaryMaxPool2D) == 1);
  CHECK(rw.count("Sign") == 0);
  CHECK(rw.count("Mul") == 0);
  CHECK(rw.fired("bitpacked_output") >= 1);
  bool changed = true;
  cv::RewriteLog again;
  Status s = cv::rewrite_once(&rw.g, {}, &again, &changed);
  REQUIRE_MESSAGE(s.ok(), s.message());
  CHECK_FALSE(changed);
  CHECK(again.fired.empty());
  check_end_to_end(t, RefTensor{{1, 3, 8, 8}, r.normal(192)}, "logits", {}, 1e-3);
}

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
    CHECK(c.i("weight_bits") == 1);
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
    CHECK(c.i("weight_bits") == 2);
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

// =========================================================================================================
// binary_fusion.cc (issue 12)

namespace {

// x [1, 4, 5, 5] -> Sign -> conv (±1, 3x3 pad 1) -> [Relu: the conv's own clamp] -> Add(., x) (or Add(x, .))
// -> y [-> Relu -> y2]; with `second_reader` the conv output also feeds Relu -> z.
OnnxTestGraph residual_graph(Rng& r, bool second_reader, bool own_clamp, bool swap, bool relu_after = false) {
  OnnxTestGraph t;
  t.input("x", {1, 4, 5, 5});
  t.node("Sign", {"x"}, {"s"}, "sign");
  t.initializer("w", {4, 4, 3, 3}, r.signs(144));
  add_conv(t, "conv", {"s", "w"}, "c", 3, 1, 1);
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
  if (second_reader) {
    t.node("Relu", {"c"}, {"z"}, "other_reader");
    t.output("z");
  }
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
        CHECK(conv.f("clamp_min") == (relu_after ? 0.0f : -INFINITY));
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
    CHECK(node(rw.g, "conv").f("clamp_min") == 0.0f);
    CHECK(rw.count("Add") == 1);
    check_end_to_end(t, RefTensor{{1, 4, 5, 5}, r.normal(100)}, "y");
  }
  SUBCASE("does not fire: Add of a conv output and a per-channel constant (that is a bias: folded instead)") {
    OnnxTestGraph t;
    t.input("x", {1, 4, 5, 5});
    t.node("Sign", {"x"}, {"s"}, "sign");
    t.initializer("w", {4, 4, 3, 3}, r.signs(144));
    add_conv(t, "conv", {"s", "w"}, "c", 3, 1, 1);
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
  t.node("Sign", {"x"}, {"s1"}, "sign1");
  t.initializer("w1", {5, 5, 3, 3}, r.signs(225));
  add_conv(t, "conv1", {"s1", "w1"}, "c1", 3, 1, 1);
  t.node("Add", {"c1", "x"}, {"y1"}, "add1");
  t.node("Sign", {"y1"}, {"s2"}, "sign2");
  t.initializer("w2", {5, 5, 3, 3}, r.signs(225));
  add_conv(t, "conv2", {"s2", "w2"}, "c2", 3, 1, 1);
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
    const cv::Node& q = node(rw.g, "sign2");
    CHECK(q.op == cv::ops::kQuantize);
    CHECK(q.s("written_by") == "conv1");
    CHECK(q.in(0) == node(rw.g, "conv1").out());
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
    CHECK_FALSE(node(rw.g, "sign1").has("written_by"));
    OnnxTestGraph f;
    f.input("x", {1, 2, 4, 4});
    f.node("Relu", {"x"}, {"rx"}, "relu");
    f.node("Sign", {"rx"}, {"s"}, "sign");
    f.initializer("w", {2, 2, 3, 3}, r.signs(36));
    add_conv(f, "conv", {"s", "w"}, "y", 3, 1, 1);
    f.output("y");
    Rewritten rf = rewrite(f);
    CHECK(rf.fired("quantize_into_binary_conv") == 0);
  }
  SUBCASE("does not fire: bitpacked_output takes a Quantize whose every reader is binary") {
    OnnxTestGraph t;
    t.input("x", {1, 2, 4, 4});
    t.node("Sign", {"x"}, {"s1"}, "sign1");
    t.initializer("w1", {3, 2, 3, 3}, r.signs(54));
    add_conv(t, "conv1", {"s1", "w1"}, "c1", 3, 1, 1);
    add_bn(t, r, "bn", "c1", "b1", 3);  // a bias, so the conv output cannot be exactly 0 (binary Sign)
    t.node("Sign", {"b1"}, {"s2"}, "sign2");
    t.initializer("w2", {2, 3, 3, 3}, r.signs(54));
    add_conv(t, "conv2", {"s2", "w2"}, "y", 3, 1, 1);
    t.output("y");
    Rewritten rw = rewrite(t);
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
    t.node("Sign", {s_in}, {"s"}, "sign");
    t.initializer("w", {4, 3, 3, 3}, r.signs(108));
    add_conv(t, "conv", {"s", "w"}, "y", 3, 1, 1);
    t.output("y");
    if (second_reader) {
      t.node("Relu", {"p"}, {"z"}, "relu");
      t.output("z");
    }
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
