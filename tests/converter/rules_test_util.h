// Shared by the rewrite-rule tests (tests/converter/rules_*_test.cc, one file per rule family in
// converter/rules/), in the style of Larq Compute Engine's MLIR pattern tests: per rule one graph on which it
// fires (checked by value against an independent computation, not just by op names) and graphs on which it
// must not fire.
//
// Two ways to test a rule:
//  - sharp: import, infer shapes, then `matches(g, "rule", "node")` / `fire(g, "rule", "node")` run exactly
//    that rule on exactly that node (as the driver would: only if the node's op is one of its targets);
//  - whole driver: `rewrite(t)` runs rewrite_to_fixed_point and the test inspects the resulting graph and
//    the RewriteLog; `check_end_to_end` converts and runs the model against OnnxTestGraph::evaluate.
#pragma once

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

namespace rules_test {

namespace cv = onebit::converter;
using onebit::Status;
using onebit::testing::OnnxTestGraph;
using RefTensor = onebit::testing::Tensor;

inline constexpr int64_t kEnd = std::numeric_limits<int64_t>::max();

// ---------------------------------------------------------------------------------------------------------
// Building graphs.

using onebit::testing::Rng;

inline void attr_s(onnx::NodeProto& n, const std::string& name, const std::string& v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(v);
}

inline void attr_ints(onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& v) { OnnxTestGraph::attr(n, name, v); }

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

inline onnx::NodeProto& add_conv(OnnxTestGraph& t, const std::string& name, const std::vector<std::string>& inputs,
                          const std::string& out, int64_t k, int64_t stride, int64_t pad) {
  auto& n = t.node("Conv", inputs, {out}, name);
  attr_ints(n, "kernel_shape", {k, k});
  attr_ints(n, "strides", {stride, stride});
  attr_ints(n, "pads", {pad, pad, pad, pad});
  return n;
}

// Pad of H and W by 1 on every side with `value`.
inline void add_pad(OnnxTestGraph& t, const std::string& name, const std::string& in, const std::string& out, float value,
             std::vector<int64_t> pads = {0, 0, 1, 1, 0, 0, 1, 1}) {
  t.initializer_i64(name + ".pads", {8}, pads);
  t.initializer(name + ".value", {}, {value});
  t.node("Pad", {in, name + ".pads", name + ".value"}, {out}, name);
}

inline onnx::NodeProto& add_pool(OnnxTestGraph& t, const std::string& op, const std::string& name, const std::string& in,
                          const std::string& out, int64_t k, int64_t stride) {
  auto& n = t.node(op, {in}, {out}, name);
  attr_ints(n, "kernel_shape", {k, k});
  attr_ints(n, "strides", {stride, stride});
  return n;
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


}  // namespace rules_test
