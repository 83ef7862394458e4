// Float ops on activations that onebit has no operator for, rewritten as the float ops it has (what XNOR-Net's
// activation scale K = AvgPool(mean_c |x|) exports, issue 21):
//  abs_as_prelu: Abs(x) -> PRelu(x, -1 per channel). Exact: x < 0 gives x * -1, else x.
//  channel_mean_as_conv: ReduceMean(x [N, C, H, W], axes {1}, keepdims 1) -> Conv(x, 1/C [1, C, 1, 1]), a
//    1x1 float conv to one channel. Sums the C products x_c * (1/C) where ONNX divides the sum by C: equal
//    within float rounding (the order of a float conv's sum is the kernel's anyway).
// Both fire only on activations (a constant input folds first) of known shape.
#include "rules/match.h"
#include "rules/rule_util.h"

namespace onebit::converter {
namespace {

// A float activation (not constant) of known rank-2 or rank-4 shape.
const std::vector<int64_t>* float_activation(const Graph& g, ValueId v) {
  if (v == kNoId || g.value(v).is_constant() || g.value(v).dtype != DType::kFloat) return nullptr;
  const std::vector<int64_t>* s = known_shape(g, v);
  return s != nullptr && (s->size() == 4 || s->size() == 2) && (*s)[1] > 0 ? s : nullptr;
}

// Replaces single-output node `id` by `op` on `inputs`, named after it, writing a new value its users read.
void replace_node(Graph& g, NodeId id, const std::string& op, const std::vector<ValueId>& inputs) {
  const std::string name = g.node(id).name;
  const ValueId out = g.add_value(g.value(g.node(id).out()).name + "/" + op);
  g.add_node(op, name, inputs, {out});
  bypass(g, id, out);
}

bool abs_match(const Graph& g, NodeId id, const RewriteOptions&) {
  return float_activation(g, g.node(id).in(0)) != nullptr;
}

Status abs_apply(Graph& g, NodeId id, const RewriteOptions&, RewriteLog* log) {
  const Node& n = g.node(id);
  const std::vector<int64_t>& s = *known_shape(g, n.in(0));
  const std::vector<int64_t> slope_shape = s.size() == 4 ? std::vector<int64_t>{s[1], 1, 1} : std::vector<int64_t>{s[1]};
  const ValueId slope = g.add_constant(n.name + "/slope", Tensor::floats(slope_shape, std::vector<float>(size_t(s[1]), -1.0f)));
  log->note(n.name, "rewritten as PRelu(x, -1)");
  replace_node(g, id, "PRelu", {n.in(0), slope});
  return Status::Ok();
}

bool channel_mean_match(const Graph& g, NodeId id, const RewriteOptions&) {
  const Node& n = g.node(id);
  const std::vector<int64_t>* s = float_activation(g, n.in(0));
  if (s == nullptr || s->size() != 4 || n.i("keepdims") != 1 || n.in(1) == kNoId) return false;
  const Tensor* axes = g.constant(n.in(1));
  return axes != nullptr && axes->elements() == 1 && (axes->as_int(0) == 1 || axes->as_int(0) == -3);
}

Status channel_mean_apply(Graph& g, NodeId id, const RewriteOptions&, RewriteLog* log) {
  const Node& n = g.node(id);
  const int64_t c = (*known_shape(g, n.in(0)))[1];
  const ValueId w = g.add_constant(n.name + "/mean_weights",
                                   Tensor::floats({1, c, 1, 1}, std::vector<float>(size_t(c), 1.0f / float(c))));
  log->note(n.name, "rewritten as a 1x1 float Conv to one channel (weights 1/C)");
  replace_node(g, id, "Conv", {n.in(0), w});
  return Status::Ok();
}

}  // namespace

void add_float_lowering_rules(RuleList* rules) {
  add_rule(rules, "abs_as_prelu", "Abs on an activation as PRelu(x, -1)", {"Abs"}, abs_match, abs_apply);
  add_rule(rules, "channel_mean_as_conv", "mean over channels as a 1x1 float conv", {"ReduceMean"},
           channel_mean_match, channel_mean_apply);
}

}  // namespace onebit::converter
