// Fusions into the output transform y = clamp(multiplier * dot + bias) of binary convs / FCs.
//  fold_into_output_transform: the sole user of a float output folds in, in this order of application
//    (each firing takes the next user): Mul / Div by a per-channel constant (alpha), Add / Sub of one,
//    BatchNormalization (y' = scale * y + shift, scale = gamma / sqrt(var + eps), shift = beta - mean *
//    scale), then Relu / Clip as the clamp (after a clamp nothing affine folds). The folded node's readers
//    (and a graph output it was) then read the layer's own output value.
//  bitpacked_output: Quantize(scale, shift) of a binary layer's float output, when every reader of the
//    bits is a binary layer, makes the layer write bits itself:
//      bit = (s * clamp(m * dot + b) + t < 0) = ((s m) dot + (s b + t) < 0)  when the clamp keeps signs
//    (min < 0 < max), so no float tensor is ever written. Only for layers with binary input and ±1 weights:
//    the format gives k-bit layers (levels in, or 2-bit weights) float outputs only.
#include <cmath>

#include "ir/onebit_ops.h"
#include "rules/match.h"
#include "rules/rule_util.h"

namespace onebit::converter {
namespace {

bool binary_layer(const Node& n) { return n.op == ops::kBinaryConv2D || n.op == ops::kBinaryFullyConnected; }


// The per-channel affine (a, b) or clamp (lo, hi) the user `u` of value `y` applies; false if none.
bool follower(const Graph& g, const Node& layer, const Node& u, std::vector<float>* a, std::vector<float>* b,
              float* lo, float* hi, bool* is_clamp) {
  const ValueId y = layer.out();
  const auto* ys = known_shape(g, y);
  if (ys == nullptr) return false;
  const int64_t c = (*ys)[1];
  a->assign(size_t(c), 1.0f);
  b->assign(size_t(c), 0.0f);
  *is_clamp = false;
  if (u.op == "Relu" || u.op == "Clip") {
    *is_clamp = true;
    *lo = 0;
    *hi = INFINITY;
    return u.op == "Relu" || clip_bounds(g, u, lo, hi);
  }
  // After a clamp nothing affine folds; nor after a residual (a * (mD + b + r) is not (a m) D + (a b) + r).
  if (ops::layer_clamped(layer) || layer.in(4) != kNoId) return false;
  if (u.op == "BatchNormalization")
    return u.in(0) == y && batch_norm_affine(g, u, a, b) && int64_t(a->size()) == c;
  if (u.op != "Mul" && u.op != "Div" && u.op != "Add" && u.op != "Sub") return false;
  const int k = u.in(0) == y ? 1 : 0;  // constant operand slot
  if (u.in(size_t(1 - k)) != y || u.in(size_t(k)) == y) return false;
  if ((u.op == "Div" || u.op == "Sub") && k == 0) return false;
  std::vector<float> v;
  if (!per_channel(g, u.in(size_t(k)), c, ys->size(), &v)) return false;
  const auto* us = known_shape(g, u.out());
  if (us == nullptr || *us != *ys) return false;
  for (size_t i = 0; i < v.size(); ++i) {
    if (u.op == "Mul") (*a)[i] = v[i];
    else if (u.op == "Div") (*a)[i] = 1.0f / v[i];
    else if (u.op == "Add") (*b)[i] = v[i];
    else (*b)[i] = -v[i];
  }
  return true;
}

bool fold_match(const Graph& g, NodeId id, const RewriteOptions&) {
  const Node& n = g.node(id);
  if (g.value(n.out()).dtype != DType::kFloat || writes_bits_too(n)) return false;
  const NodeId u = g.sole_user(n.out());
  if (u == kNoId) return false;
  std::vector<float> a, b;
  float lo, hi;
  bool is_clamp;
  return follower(g, n, g.node(u), &a, &b, &lo, &hi, &is_clamp);
}

void set_vector(Graph& g, NodeId id, size_t slot, const std::string& what, std::vector<float> v) {
  g.set_input(id, slot, vector_constant(g, g.node(id).name + "/" + what, std::move(v)));
}

Status fold_apply(Graph& g, NodeId id, const RewriteOptions&, RewriteLog* log) {
  const NodeId uid = g.sole_user(g.node(id).out());
  const Node& u = g.node(uid);
  std::vector<float> a, b;
  float lo = 0, hi = 0;
  bool is_clamp;
  follower(g, g.node(id), u, &a, &b, &lo, &hi, &is_clamp);
  const std::string kind = g.node(id).op == ops::kBinaryConv2D ? "conv" : "FC";
  log->note(u.name, "folded into output transform of binary " + kind + " '" + g.node(id).name + "'");
  const ValueId u_out = u.out();
  if (is_clamp) {
    Node& n = g.node(id);
    ops::set_layer_clamp(&n, std::max(ops::layer_clamp_min(n), lo), std::min(ops::layer_clamp_max(n), hi));
  } else {
    std::vector<float> m = g.constant(g.node(id).in(2))->f, c = g.constant(g.node(id).in(3))->f;
    for (size_t i = 0; i < m.size(); ++i) {
      m[i] *= a[i];
      c[i] = c[i] * a[i] + b[i];
    }
    set_vector(g, id, 2, "multiplier", m);
    set_vector(g, id, 3, "bias", c);
  }
  const ValueId out = g.node(id).out();
  g.kill(uid);
  g.replace_uses(u_out, out);
  return Status::Ok();
}

// Every live reader of bits `v` is a binary layer reading it as its input (unused Dequantizes ignored).
bool all_readers_binary(const Graph& g, ValueId v) {
  if (g.value(v).graph_output) return false;
  bool any = false;
  for (NodeId u : g.users(v)) {
    const Node& n = g.node(u);
    if (n.op == ops::kDequantize && g.users(n.out()).empty() && !g.value(n.out()).graph_output) continue;
    if ((binary_layer(n) || n.op == ops::kBinaryMaxPool2D) && n.in(0) == v) {
      any = true;
      continue;
    }
    return false;
  }
  return any;
}

bool bitpack_match(const Graph& g, NodeId id, const RewriteOptions&) {
  const Node& q = g.node(id);
  const Node* p = g.producer(q.in(0));
  if (p == nullptr || !binary_layer(*p) || g.value(p->out()).dtype != DType::kFloat || writes_bits_too(*p)) return false;
  // Bits out only from a binary layer proper: bits in, ±1 weights (k-bit layers write floats).
  if (g.value(p->in(0)).dtype != DType::kBits || ops::layer_weight_bits(*p) > 1) return false;
  if (p->in(4) != kNoId) return false;  // a residual is per pixel: no threshold can hold it
  if (g.sole_user(q.in(0)) != id || !all_readers_binary(g, q.out())) return false;
  const float lo = ops::layer_clamp_min(*p), hi = ops::layer_clamp_max(*p);
  return lo < 0 && hi > 0;
}

Status bitpack_apply(Graph& g, NodeId id, const RewriteOptions&, RewriteLog* log) {
  const Node& q = g.node(id);
  const NodeId pid = g.value(q.in(0)).producer;
  std::vector<float> m = g.constant(g.node(pid).in(2))->f, c = g.constant(g.node(pid).in(3))->f;
  std::vector<float> s(m.size(), 1.0f), t(m.size(), 0.0f);
  if (q.in(1) != kNoId) s = g.constant(q.in(1))->f;
  if (q.in(2) != kNoId) t = g.constant(q.in(2))->f;
  for (size_t i = 0; i < m.size(); ++i) {
    m[i] *= s[i];
    c[i] = c[i] * s[i] + t[i];
  }
  log->note(q.name, "bitpacked output of binary layer '" + g.node(pid).name + "'");
  const ValueId bits = q.out(), y = q.in(0);
  // Unused Dequantizes of the bits go with the Quantize.
  for (NodeId u : g.users(bits))
    if (g.node(u).op == ops::kDequantize) g.kill(u);
  g.kill(id);
  set_vector(g, pid, 2, "multiplier", m);
  set_vector(g, pid, 3, "bias", c);
  Node& p = g.node(pid);
  ops::set_layer_clamp(&p, -INFINITY, INFINITY);
  ops::set_layer_bitpacked_output(&p);  // its shape function keeps y bits
  g.value(y).dtype = DType::kBits;
  g.replace_uses(bits, y);
  return Status::Ok();
}

}  // namespace

void add_output_transform_rules(RuleList* rules) {
  add_rule(rules, "fold_into_output_transform", "alpha / bias / BatchNormalization / clamp folded into binary layers",
           {ops::kBinaryConv2D, ops::kBinaryFullyConnected}, fold_match, fold_apply);
  add_rule(rules, "bitpacked_output", "binary layers writing bits directly", {ops::kQuantize}, bitpack_match, bitpack_apply);
}

}  // namespace onebit::converter
