// Fusions into full-precision Conv / Gemm / MatMul (the layers that stay float: stem, 1x1 shortcuts, head).
//  float_conv_batch_norm: Conv -> BatchNormalization (the Conv's sole user, per-channel constants) folds into
//    the Conv's weights and bias: w'[o] = scale[o] * w[o], b'[o] = scale[o] * b[o] + shift[o]. PyTorch's eval
//    export usually folds it already; an export with do_constant_folding=False or training-mode BN does not.
//  float_layer_clamp: Relu / Clip(lo, hi) that is the sole user of a float Conv / Gemm / MatMul output becomes
//    the layer's output clamp (attributes clamp_min / clamp_max, which XNNPACK applies for free; a Relu in
//    front of a MaxPool is such a user too, the pool then reads the clamped output). Clamps intersect.
// Both are late rules: they run once the binary recognitions reached their fixed point, so a Conv that may
// still become binary (±1 weights after a Sign) is never touched, and the zero analysis that chose ternary
// or binary Signs saw the Relu as it was.
#include <algorithm>
#include <cmath>

#include "ir/onebit_ops.h"
#include "rules/match.h"
#include "rules/rule_util.h"

namespace onebit::converter {
namespace {

bool float_layer(const Graph& g, const Node& n) {
  if (n.op != "Conv" && n.op != "Gemm" && n.op != "MatMul") return false;
  if (n.i("binary_weights") || g.value(n.out()).dtype != DType::kFloat) return false;
  const Tensor* w = g.constant(n.in(1));
  return w != nullptr && w->is_float();
}

bool clamped(const Node& n) {
  return (n.has("clamp_min") && n.f("clamp_min") > -INFINITY) || (n.has("clamp_max") && n.f("clamp_max") < INFINITY);
}

const Node* sole_user_node(const Graph& g, const Node& n) {
  if (g.value(n.out()).graph_output) return nullptr;
  const NodeId u = g.sole_user(n.out());
  return u == kNoId ? nullptr : &g.node(u);
}

bool bn_match(const Graph& g, NodeId id, const RewriteOptions&) {
  const Node& n = g.node(id);
  if (n.op != "Conv" || !float_layer(g, n) || clamped(n)) return false;
  const Node* u = sole_user_node(g, n);
  if (u == nullptr || u->op != "BatchNormalization" || u->in(0) != n.out()) return false;
  if (n.in(2) != kNoId && !g.value(n.in(2)).is_constant()) return false;
  std::vector<float> a, b;
  return batch_norm_affine(g, *u, &a, &b) && int64_t(a.size()) == g.constant(n.in(1))->shape[0];
}

Status bn_apply(Graph& g, NodeId id, const RewriteOptions&, RewriteLog* log) {
  const Node& n = g.node(id);
  const NodeId uid = g.sole_user(n.out());
  std::vector<float> a, b;
  batch_norm_affine(g, g.node(uid), &a, &b);
  const Tensor* w = g.constant(n.in(1));
  const size_t out_c = a.size(), per = size_t(w->elements()) / out_c;
  std::vector<float> wf = w->to_floats(), bias(out_c, 0.0f);
  if (n.in(2) != kNoId) bias = g.constant(n.in(2))->to_floats();
  for (size_t o = 0; o < out_c; ++o) {
    for (size_t i = 0; i < per; ++i) wf[o * per + i] *= a[o];
    bias[o] = bias[o] * a[o] + b[o];
  }
  const std::string name = n.name;
  const std::vector<int64_t> shape = w->shape;
  const ValueId wv = g.add_constant(name + "/weights_bn", Tensor::floats(shape, std::move(wf)));
  const ValueId bv = vector_constant(g, name + "/bias_bn", std::move(bias));
  g.set_input(id, 1, wv);
  g.set_input(id, 2, bv);
  log->note(g.node(uid).name, "folded into float Conv '" + name + "' (weights and bias)");
  const ValueId bn_out = g.node(uid).out();
  g.kill(uid);
  g.replace_uses(bn_out, g.node(id).out());
  return Status::Ok();
}

bool clamp_match(const Graph& g, NodeId id, const RewriteOptions&) {
  const Node& n = g.node(id);
  if (!float_layer(g, n)) return false;
  const Node* u = sole_user_node(g, n);
  if (u == nullptr || u->in(0) != n.out()) return false;
  float lo, hi;
  return u->op == "Relu" || (u->op == "Clip" && clip_bounds(g, *u, &lo, &hi) && lo < hi);
}

Status clamp_apply(Graph& g, NodeId id, const RewriteOptions&, RewriteLog* log) {
  const NodeId uid = g.sole_user(g.node(id).out());
  const Node& u = g.node(uid);
  float lo = 0, hi = INFINITY;
  if (u.op == "Clip") clip_bounds(g, u, &lo, &hi);
  Node& n = g.node(id);
  const float old_lo = n.has("clamp_min") ? n.f("clamp_min") : -INFINITY;
  const float old_hi = n.has("clamp_max") ? n.f("clamp_max") : INFINITY;
  n.attrs["clamp_min"] = Attr::Float(std::max(old_lo, lo));
  n.attrs["clamp_max"] = Attr::Float(std::min(old_hi, hi));
  log->note(u.name, "folded into the output clamp of float " + n.op + " '" + n.name + "'");
  const ValueId u_out = u.out();
  g.kill(uid);
  g.replace_uses(u_out, g.node(id).out());
  return Status::Ok();
}

}  // namespace

void add_float_fusion_rules(RuleList* rules) {
  add_rule(rules, "float_conv_batch_norm", "BatchNormalization folded into float Conv weights", {"Conv"}, bn_match,
           bn_apply, /*late=*/true);
  add_rule(rules, "float_layer_clamp", "Relu / Clip folded into float Conv / FullyConnected clamps",
           {"Conv", "Gemm", "MatMul"}, clamp_match, clamp_apply, /*late=*/true);
}

}  // namespace onebit::converter
