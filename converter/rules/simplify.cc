// Simplifications that make research code look like the layers it means:
//  remove_identity: Identity and inference-mode Dropout pass their input through.
//  unit_factor: x*1, 1*x, x/1, x+0, 0+x, x-0 -> x (when the constant does not broadcast x to a larger
//    shape); what `x.div(1).sign().mul(1)`-style scaling with unit scales exports.
//  straight_through_residue: Add(Sub(A, B), B) and Add(B, Sub(A, B)) -> A: the forward value of the
//    straight-through estimator `a.detach() - b.detach() + b` (`detach` exports as nothing, so both B are
//    one value). Equal to A up to float rounding, which is what PyTorch computes too.
//  shrink_broadcast_constant: a constant operand of Add/Sub/Mul/Div whose values do not vary along an
//    axis on which the other operand already has the full size is reduced to size 1 there, e.g. a folded
//    Expand(bias[1, C, 1, 1], Shape(x)) becomes the per-channel bias again.
#include "ir/shape_inference.h"
#include "rules/match.h"
#include "rules/rule_util.h"

namespace onebit::converter {
namespace {

bool identity_match(const Graph& g, NodeId id, const RewriteOptions&) {
  const Node& n = g.node(id);
  if (n.in(0) == kNoId) return false;
  if (n.op != "Dropout") return true;
  // Only inference-mode Dropout is an identity: its mask must be unused and training_mode absent or false.
  const ValueId mask = n.out(1);
  if (mask != kNoId && (!g.users(mask).empty() || g.value(mask).graph_output)) return false;
  if (n.in(2) == kNoId) return true;
  const Tensor* training = g.constant(n.in(2));
  return training != nullptr && training->elements() == 1 && training->as_int(0) == 0;
}

Status identity_apply(Graph& g, NodeId id, const RewriteOptions&, RewriteLog* log) {
  log->note(g.node(id).name, "removed (identity)");
  bypass(g, id, g.node(id).in(0));
  return Status::Ok();
}

// The operand index of `n` that is the unit constant, or -1.
int unit_operand(const Graph& g, const Node& n) {
  const float unit = (n.op == "Mul" || n.op == "Div") ? 1.0f : 0.0f;
  const bool commutative = n.op == "Mul" || n.op == "Add";
  for (int k = 1; k >= (commutative ? 0 : 1); --k) {
    const ValueId c = n.in(size_t(k)), x = n.in(size_t(1 - k));
    if (!all_equal(g, c, unit) || g.value(x).is_constant() || g.value(x).dtype != DType::kFloat) continue;
    const auto* xs = known_shape(g, x);
    const auto* cs = known_shape(g, c);
    std::vector<int64_t> out;
    if (xs && cs && broadcast_shapes(*xs, *cs, &out) && out == *xs) return k;
  }
  return -1;
}

bool unit_match(const Graph& g, NodeId id, const RewriteOptions&) { return unit_operand(g, g.node(id)) >= 0; }

Status unit_apply(Graph& g, NodeId id, const RewriteOptions&, RewriteLog* log) {
  const Node& n = g.node(id);
  const int k = unit_operand(g, n);
  log->note(n.name, "removed (multiplies by 1 / adds 0)");
  bypass(g, id, n.in(size_t(1 - k)));
  return Status::Ok();
}

// For Add(P, Q): the A of a Sub(A, B) operand whose B is the other operand, or kNoId.
ValueId residue_source(const Graph& g, const Node& add) {
  for (int k = 0; k < 2; ++k) {
    const Node* sub = producer_of(g, add.in(size_t(k)), "Sub");
    const ValueId other = add.in(size_t(1 - k));
    if (sub == nullptr || sub->in(1) != other) continue;
    const ValueId a = sub->in(0);
    const auto* as = known_shape(g, a);
    const auto* os = known_shape(g, add.out());
    if (as && os && *as == *os && g.value(a).dtype == g.value(add.out()).dtype) return a;
  }
  return kNoId;
}

bool residue_match(const Graph& g, NodeId id, const RewriteOptions&) { return residue_source(g, g.node(id)) != kNoId; }

Status residue_apply(Graph& g, NodeId id, const RewriteOptions&, RewriteLog* log) {
  const ValueId a = residue_source(g, g.node(id));
  log->note(g.node(id).name, "removed (straight-through residue: Add(Sub(A, B), B) = A)");
  bypass(g, id, a);
  return Status::Ok();
}

// Shrunk copy of constant operand `k` of `n`, or false when nothing can shrink.
bool shrunk_constant(const Graph& g, const Node& n, int k, Tensor* out) {
  const Tensor* c = g.constant(n.in(size_t(k)));
  const ValueId x = n.in(size_t(1 - k));
  if (c == nullptr || x == kNoId) return false;
  const auto* xs = known_shape(g, x);
  if (!c->is_float() || g.value(x).is_constant() || xs == nullptr || c->shape.size() != xs->size()) return false;
  Tensor cur = *c;
  bool any = false;
  for (size_t d = 0; d < cur.shape.size(); ++d) {
    const int64_t len = cur.shape[d];
    if (len <= 1 || (*xs)[d] != len) continue;
    int64_t inner = 1;
    for (size_t e = d + 1; e < cur.shape.size(); ++e) inner *= cur.shape[e];
    const int64_t outer = cur.elements() / (inner * len);
    bool constant = true;
    for (int64_t o = 0; constant && o < outer; ++o)
      for (int64_t j = 1; constant && j < len; ++j)
        for (int64_t i = 0; constant && i < inner; ++i)
          constant = cur.f[size_t((o * len + j) * inner + i)] == cur.f[size_t(o * len * inner + i)];
    if (!constant) continue;
    std::vector<float> data;
    data.reserve(size_t(outer * inner));
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) data.push_back(cur.f[size_t(o * len * inner + i)]);
    std::vector<int64_t> shape = cur.shape;
    shape[d] = 1;
    cur = Tensor::floats(shape, std::move(data));
    any = true;
  }
  if (any) *out = std::move(cur);
  return any;
}

bool shrink_match(const Graph& g, NodeId id, const RewriteOptions&) {
  const Node& n = g.node(id);
  Tensor t;
  return shrunk_constant(g, n, 0, &t) || shrunk_constant(g, n, 1, &t);
}

Status shrink_apply(Graph& g, NodeId id, const RewriteOptions&, RewriteLog*) {
  for (int k = 0; k < 2; ++k) {
    Tensor t;
    if (!shrunk_constant(g, g.node(id), k, &t)) continue;
    const std::string name = g.value(g.node(id).in(size_t(k))).name + "/shrunk";
    g.set_input(id, size_t(k), g.add_constant(name, std::move(t)));
  }
  return Status::Ok();
}

}  // namespace

void add_simplify_rules(RuleList* rules) {
  add_rule(rules, "remove_identity", "Identity/Dropout removed", {"Identity", "Dropout"}, identity_match, identity_apply);
  add_rule(rules, "unit_factor", "unit factors (x*1, x/1, x+0) removed", {"Mul", "Div", "Add", "Sub"}, unit_match, unit_apply);
  add_rule(rules, "straight_through_residue", "straight-through residue removed", {"Add"}, residue_match, residue_apply);
  add_rule(rules, "shrink_broadcast_constant", "broadcast constants reduced to per-channel", {"Add", "Sub", "Mul", "Div"},
           shrink_match, shrink_apply);
}

}  // namespace onebit::converter
