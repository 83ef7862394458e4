// Shared by the rewrite-rule tests (tests/converter/rules_*_test.cc, one file per rule family in
// converter/rules/), in the style of Larq Compute Engine's MLIR pattern tests: per rule one graph on which it
// fires (checked by value against an independent computation, not just by op names) and graphs on which it
// must not fire.
//
// Two ways to test a rule:
//  - sharp: import, infer shapes, then `matches(g, "rule", "node")` / `fire(g, "rule", "node")` run exactly
//    that rule on exactly that node (as the driver would: only if the node's op is one of its targets);
//    `import_fired(t, steps)` imports and fires (rule, node) steps first, `matches(t, "rule", "node", steps)`
//    asks the same of a fresh import;
//  - whole driver: `rewrite(t)` runs rewrite_to_fixed_point and the test inspects the resulting graph and
//    the RewriteLog; `check_end_to_end` converts and runs the model against OnnxTestGraph::evaluate (the
//    converter's --verify reference);
//    `check_convert_fails` / `check_rewrite_fails` expect an error naming given parts (convert_graph_test
//    uses the former too).
// Graphs are built with graph_dsl.h's vocabulary.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "common/rng.h"
#include "common/run_model.h"
#include "convert.h"
#include "graph_dsl.h"
#include "ir/graph.h"
#include "ir/onebit_ops.h"
#include "ir/shape_inference.h"
#include "onebit/status.h"
#include "onnx/import.h"
#include "onnx_test_graph.h"
#include "rules/rule.h"

namespace rules_test {

namespace cv = onebit::converter;
using onebit::Status;
using namespace onebit::testing;  // OnnxTestGraph, Rng and the graph vocabulary of graph_dsl.h
using RefTensor = onebit::testing::Tensor;

inline constexpr int64_t kEnd = std::numeric_limits<int64_t>::max();

/// A scalar float initializer.
inline void scalar(OnnxTestGraph& t, const std::string& name, float v) { t.initializer(name, {}, {v}); }

// ---------------------------------------------------------------------------------------------------------
// Building graphs.

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

inline BnParams add_bn(OnnxTestGraph& t, Rng& r, const std::string& name, const std::string& in, const std::string& out, int64_t c) {
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

// x[1, C, H, W] -> BatchNormalization -> Sign -> Flatten (value f) -> Gemm fc (transB, ±1 weights w [O][C*H*W])
// -> y: binary_flatten's graph. The BN's parameters and the weights come from r in that order.
struct BnSignFlattenFc {
  OnnxTestGraph t;
  BnParams bn;
  std::vector<float> w;
};

inline BnSignFlattenFc bn_sign_flatten_fc(Rng& r, int64_t c, int64_t h, int64_t w, int64_t o) {
  BnSignFlattenFc n;
  n.t.input("x", {1, c, h, w});
  n.bn = add_bn(n.t, r, "bn", "x", "xb", c);
  add_chain(n.t, "xb", {{"Sign", "sign", "s"}, {"Flatten", "flatten", "f"}});
  n.w = r.signs(size_t(o * c * h * w));
  add_fc(n.t, "fc", "f", "y", o, c * h * w, n.w);
  n.t.output("y");
  return n;
}

// x[1, 2, 4, 4] -> Sign sign1 -> binary conv1 (3 channels) -> BatchNormalization bn (returned in *bn) -> Sign sign2
// -> binary conv2 (2 channels) -> y; without `conv2` the Sign's output is y. The weights and the BN's parameters
// come from r in graph order.
inline OnnxTestGraph binary_conv_bn_sign(Rng& r, bool conv2, BnParams* bn = nullptr) {
  OnnxTestGraph t;
  t.input("x", {1, 2, 4, 4});
  add_sign_conv(t, "x", "sign1", "conv1", "c1", {3, 2, 3, 3}, r.signs(54));
  const BnParams p = add_bn(t, r, "bn", "c1", "b1", 3);
  if (bn) *bn = p;
  if (conv2) add_sign_conv(t, "b1", "sign2", "conv2", "y", {2, 3, 3, 3}, r.signs(54));
  else t.node("Sign", {"b1"}, {"y"}, "sign2");
  t.output("y");
  return t;
}

// The 2-D geometry of a node's parameter struct (Node::params: the builder's Conv2DParams / Pool2DParams) as
// ONNX-style lists, to compare with what the source node said.
template <class Params>
std::vector<int64_t> kernel_of(const Params& p) { return {p.kernel_h, p.kernel_w}; }
template <class Params>
std::vector<int64_t> strides_of(const Params& p) { return {p.stride_h, p.stride_w}; }
template <class Params>
std::vector<int64_t> pads_of(const Params& p) { return {p.pad_top, p.pad_left, p.pad_bottom, p.pad_right}; }

// ---------------------------------------------------------------------------------------------------------
// Running rules.

inline cv::Graph import(const OnnxTestGraph& t) {
  cv::Graph g;
  cv::ImportReport report;
  Status s = cv::import_onnx(t.bytes(), "test", cv::ImportOptions{}, &g, &report);
  REQUIRE_MESSAGE(s.ok(), s.message());
  s = cv::infer_shapes(&g);
  REQUIRE_MESSAGE(s.ok(), s.message());
  return g;
}

// The live node called `name`, or kNoId.
inline cv::NodeId find_node(const cv::Graph& g, const std::string& name) {
  for (size_t k = 0; k < g.node_count(); ++k)
    if (!g.node(cv::NodeId(k)).dead && g.node(cv::NodeId(k)).name == name) return cv::NodeId(k);
  return cv::kNoId;
}

inline const cv::Node& node(const cv::Graph& g, const std::string& name) {
  const cv::NodeId id = find_node(g, name);
  REQUIRE_MESSAGE(id != cv::kNoId, "no live node '" << name << "'");
  return g.node(id);
}

inline const cv::Rule& rule(const std::string& name) {
  const cv::Rule* r = cv::find_rule(name);
  REQUIRE_MESSAGE(r != nullptr, "no rule '" << name << "'");
  return *r;
}

// Would the driver apply `rule_name` to node `node_name`? (Its op must be a target, then match.)
inline bool matches(cv::Graph& g, const std::string& rule_name, const std::string& node_name, const cv::RewriteOptions& o = {}) {
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
inline Status fire(cv::Graph& g, const std::string& rule_name, const std::string& node_name, const cv::RewriteOptions& o = {}) {
  REQUIRE_MESSAGE(matches(g, rule_name, node_name, o), rule_name << " does not match '" << node_name << "'");
  cv::RewriteLog log;
  Status s = rule(rule_name).apply(g, find_node(g, node_name), o, &log);
  if (s.ok()) s = cv::infer_shapes(&g);
  return s;
}

// (rule, node) pairs to fire in order.
using Steps = std::vector<std::pair<std::string, std::string>>;

// t imported, then each step fired (each must match and succeed).
inline cv::Graph import_fired(const OnnxTestGraph& t, const Steps& steps) {
  cv::Graph g = import(t);
  for (const auto& [rule_name, node_name] : steps) REQUIRE(fire(g, rule_name, node_name).ok());
  return g;
}

// `matches` on a fresh import of t, after `steps` fired.
inline bool matches(const OnnxTestGraph& t, const std::string& rule_name, const std::string& node_name,
                    const Steps& steps = {}) {
  cv::Graph g = import_fired(t, steps);
  return matches(g, rule_name, node_name);
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
inline Rewritten rewrite(const OnnxTestGraph& t, const cv::RewriteOptions& o = {}, bool expect_ok = true) {
  Rewritten r;
  r.g = import(t);
  r.status = cv::rewrite_to_fixed_point(&r.g, o, &r.log);
  if (expect_ok) REQUIRE_MESSAGE(r.status.ok(), r.status.message());
  return r;
}

// A seeded normal input of `shape` for the k-bit quantizer tests.
inline RefTensor lowbit_input(uint32_t seed, const std::vector<int64_t>& shape = {1, 2, 4, 4}) {
  Rng r(seed);
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return RefTensor{shape, r.normal(size_t(n), 1.0f)};
}

inline void check_levels(const cv::Levels& l, int bits, int zero_level, float scale) {
  CHECK(l.bits == bits);
  CHECK(l.zero_level == zero_level);
  CHECK(l.scale == scale);
}

// Constant input `slot` of `n` as floats.
inline std::vector<float> const_input(const cv::Graph& g, const cv::Node& n, size_t slot) {
  const cv::Tensor* c = g.constant(n.in(slot));
  REQUIRE_MESSAGE(c != nullptr, n.describe() << ": input " << slot << " is not a constant");
  return c->to_floats();
}

// The node reading value `v` (exactly one live reader).
inline const cv::Node& sole_reader(const cv::Graph& g, cv::ValueId v) {
  const std::vector<cv::NodeId> users = g.users(v);
  REQUIRE(users.size() == 1);
  return g.node(users[0]);
}

inline void check_close(const std::vector<float>& got, const std::vector<float>& want, double tol = 1e-5) {
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

inline Converted convert(const OnnxTestGraph& t, const cv::ConvertOptions& o = {}) {
  Converted c;
  c.status = cv::convert_onnx_bytes(t.bytes(), "test.onnx", o, &c.result);
  return c;
}

// Converts t, runs it on x and compares output `out` with the NCHW reference of the ONNX graph.
inline void check_end_to_end(const OnnxTestGraph& t, const RefTensor& x, const std::string& out, const cv::ConvertOptions& o = {},
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

inline bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// A status that must be an error whose message names each of `parts`.
inline void check_error(const Status& s, const std::vector<std::string>& parts) {
  REQUIRE_FALSE(s.ok());
  for (const std::string& part : parts) CHECK(contains(s.message(), part));
}

// Converting t fails, the message naming each of `parts`.
inline void check_convert_fails(const OnnxTestGraph& t, const std::vector<std::string>& parts,
                                const cv::ConvertOptions& o = {}) {
  check_error(convert(t, o).status, parts);
}

// rewrite_to_fixed_point fails on t with options o, the message naming each of `parts`.
inline void check_rewrite_fails(const OnnxTestGraph& t, const cv::RewriteOptions& o,
                                const std::vector<std::string>& parts) {
  check_error(rewrite(t, o, false).status, parts);
}

}  // namespace rules_test
