// k-bit activations: uniform quantizers as research code writes them -> onebit.QuantizeLevels.
//  min_relu_to_clip: Min(Relu(x), c) / Min(c, Relu(x)) with a scalar c > 0 -> Clip(x, 0, c) (PACT's clip
//    to a learned alpha, torch.minimum(relu(x), alpha), once alpha is a constant).
//  uniform_quantizer: a Round between scalar affine chains with a clamp on either side:
//      y = m * (clamp(round(k * x + c) + c1, jlo, jhi)) + d                  (LSQ, torch.ao-style manual fake quant)
//      y = m * (round(k * clip(x, lo, hi) + c) + c1) + d                     (DoReFa, PACT: clip -> *n/a -> round -> *a/n)
//    where the chains are Mul / Div / Add / Sub by scalar constants (Div(n) and Mul(1/n) alike), the clamp
//    range [jlo, jhi] of the integer j holds 2..16 integers, and the output levels are multiples of m with 0
//    among or next to them: L = j + d/m with d/m an integer. It becomes
//      QuantizeLevels(x, scale k, shift c + c1 - jlo) -> Unipolar, bits = ceil(log2(jhi - jlo + 1)),
//      zero_level = -(jlo + d/m), level_scale = m; then Dequantize where a float reader needs the value.
//    Equal to the float chain up to float rounding (ties of round excepted: the runtime rounds once, from x).
//    When the range does not fill the 2^bits levels (e.g. a symmetric LSQ range [-7, 7]), a float Clip of x to
//    the range stays in front, so the runtime's clamp to [0, 2^bits - 1] never reaches a level PyTorch cannot.
//    The straight-through residue x + (q - x).detach() (Add(x, Sub(q, x))) is removed by
//    straight_through_residue once q is the Dequantize. BatchNormalization / per-channel affines in front fold
//    into the scale / shift by affine_into_quantize (rules/binary_activation.cc).
//  qdq_to_levels: DequantizeLinear(Clip?(QuantizeLinear(x, s, zp)), s, zp) per tensor with <= 16 levels
//    (a uint8 / int8 range narrowed by the Clip, as torch's (0, 127) fake quant exports) -> Unipolar with
//    zero_level = zp - qmin, level_scale s.
#include "rules/lowbit.h"

#include <cmath>

#include "ir/checked_int.h"
#include "ir/onebit_ops.h"
#include "rules/match.h"
#include "rules/rule_util.h"

namespace onebit::converter {
namespace {

bool near_int(double v, double tol = 1e-3) { return std::fabs(v - std::round(v)) <= tol; }

// Scalar affine step of `p` on its non-constant operand `*v`: out = a * v + b. False if `p` is not one.
bool affine_step(const Graph& g, const Node& p, ValueId* v, double* a, double* b) {
  if (p.op != "Mul" && p.op != "Div" && p.op != "Add" && p.op != "Sub") return false;
  for (int k = 0; k < 2; ++k) {
    double c;
    const ValueId other = p.in(size_t(1 - k));
    if (other == kNoId || g.value(other).is_constant() || !scalar_const(g, p.in(size_t(k)), &c)) continue;
    const auto* os = known_shape(g, other);
    const auto* ps = known_shape(g, p.out());
    if (os == nullptr || ps == nullptr || *os != *ps || g.value(other).dtype != DType::kFloat) return false;
    *v = other;
    if (p.op == "Mul") { *a = c; *b = 0; }
    else if (p.op == "Add") { *a = 1; *b = c; }
    else if (p.op == "Div" && k == 1) { if (c == 0) return false; *a = 1 / c; *b = 0; }
    else if (p.op == "Sub" && k == 1) { *a = 1; *b = -c; }
    else if (p.op == "Sub") { *a = -1; *b = c; }
    else return false;  // c / v
    return true;
  }
  return false;
}

// Walks back from `u` through scalar affines whose outputs have one reader: u = k * v + c.
ValueId walk_back(const Graph& g, ValueId u, double* k, double* c, std::vector<NodeId>* nodes) {
  *k = 1;
  *c = 0;
  return walk_producers(g, u, 16, [&](const Node& p, ValueId out, ValueId* v) {
    double a, b;
    if (g.value(out).graph_output || g.users(out).size() != 1 || !affine_step(g, p, v, &a, &b)) return false;
    // total(out) = k * out + c = k * (a v + b) + c
    *c += *k * b;
    *k *= a;
    nodes->push_back(g.value(out).producer);
    return true;
  });
}

// Walks forward from `r` through sole-reader scalar affines: y = m * r + d; returns y.
ValueId walk_forward(const Graph& g, ValueId r, double* m, double* d, std::vector<NodeId>* nodes) {
  *m = 1;
  *d = 0;
  for (int depth = 0; depth < 16; ++depth) {
    const NodeId u = g.sole_user(r);
    if (u == kNoId) break;
    ValueId v;
    double a, b;
    if (!affine_step(g, g.node(u), &v, &a, &b) || v != r) break;
    // y = a * (m r + d) + b
    *m *= a;
    *d = a * *d + b;
    nodes->push_back(u);
    r = g.node(u).out();
  }
  return r;
}

}  // namespace

bool analyze_quantizer(const Graph& g, NodeId round_id, QuantizerPlan* plan, std::string* why) {
  const Node& round = g.node(round_id);
  *plan = QuantizerPlan();
  plan->round = round_id;
  const ValueId u = round.in(0);
  if (u == kNoId || g.value(u).is_constant()) return *why = "its input is a constant", false;
  const auto* us = known_shape(g, u);
  if (us == nullptr || (us->size() != 4 && us->size() != 2) || g.value(u).dtype != DType::kFloat)
    return *why = "its input is not a float feature map [N, C, H, W] or [N, C]", false;
  double k, c;
  ValueId v = walk_back(g, u, &k, &c, &plan->nodes);
  if (!(k > 0)) return *why = "it rounds a negative or zero multiple of its input", false;
  double jlo = -INFINITY, jhi = INFINITY;
  bool clamped = false;
  const Node* clip_a = producer_of(g, v, "Clip");
  ValueId x = v;
  if (clip_a != nullptr && g.users(v).size() >= 1) {
    float lo, hi;
    if (clip_bounds(g, *clip_a, &lo, &hi) && std::isfinite(lo) && std::isfinite(hi) && lo < hi) {
      const double a = k * lo + c, b = k * hi + c;
      if (!near_int(a) || !near_int(b)) {
        *why = "the clamp before it maps to [" + std::to_string(a) + ", " + std::to_string(b) + "], not integer bounds";
        return false;
      }
      jlo = std::round(a);
      jhi = std::round(b);
      clamped = true;
      x = clip_a->in(0);
      plan->nodes.push_back(g.value(v).producer);
    }
  }
  // After the Round: an integer shift (the zero point), a clamp to integers, then the dequantizing affine.
  double m1, d1;
  std::vector<NodeId> chain1;
  ValueId r = walk_forward(g, round.out(), &m1, &d1, &chain1);
  const NodeId cu = g.sole_user(r);
  const Node* clip_b = cu != kNoId && g.node(cu).op == "Clip" && g.node(cu).in(0) == r ? &g.node(cu) : nullptr;
  double m = m1, d = d1, c1 = 0;
  if (clip_b != nullptr) {
    float lo, hi;
    if (!clip_bounds(g, *clip_b, &lo, &hi)) return *why = "the clamp after it has non-constant bounds", false;
    if (m1 != 1 || !near_int(d1, 1e-6)) return *why = "it is scaled between the Round and the clamp", false;
    c1 = std::round(d1);
    const double blo = std::ceil(double(lo) - 1e-6), bhi = std::floor(double(hi) + 1e-6);
    jlo = std::max(jlo + c1, blo);
    jhi = std::min(jhi + c1, bhi);
    if (!clamped) jlo = blo, jhi = bhi;
    clamped = std::isfinite(jlo) && std::isfinite(jhi);
    plan->forward.insert(plan->forward.end(), chain1.begin(), chain1.end());
    plan->forward.push_back(cu);
    std::vector<NodeId> chain2;
    r = walk_forward(g, clip_b->out(), &m, &d, &chain2);
    plan->forward.insert(plan->forward.end(), chain2.begin(), chain2.end());
  } else {
    plan->forward.insert(plan->forward.end(), chain1.begin(), chain1.end());
  }
  plan->nodes.insert(plan->nodes.end(), plan->forward.begin(), plan->forward.end());
  plan->forward.insert(plan->forward.begin(), round_id);
  if (!clamped) return *why = "nothing clamps it to a finite range of levels", false;
  const double levels = jhi - jlo + 1;
  if (levels < 2) return *why = "its clamp leaves fewer than 2 levels", false;
  if (levels > 16) {
    int64_t count;  // the bounds may be anything a float holds (Clip(-1e30, 1e30)): print, never cast, beyond int64
    const std::string text = float_to_int64(levels, &count) ? std::to_string(count) : "more than 2^63";
    return *why = "its clamp leaves " + text + " levels; onebit's k-bit tensors hold at most 16 (4 bits)", false;
  }
  if (!(m > 0)) return *why = "its levels are scaled by " + std::to_string(m) + " (must be > 0)", false;
  const double zl = d / m;
  if (!near_int(zl)) return *why = "its levels m * j + d do not include 0 on the integer grid (d / m = " + std::to_string(zl) + ")", false;
  int bits = 1;
  while ((1 << bits) < int(levels)) ++bits;
  int zero_level;  // -(jlo + zl), where jlo may lie far outside int's range
  if (!float_to_int(-(jlo + std::round(zl)), &zero_level))
    return *why = "its levels do not reach 0 (the clamp's lower bound maps to " + std::to_string(jlo) + ")", false;
  if (zero_level < 0 || zero_level >= (1 << bits))
    return *why = "its levels do not reach 0 (zero level " + std::to_string(zero_level) + " outside the " + std::to_string(bits) + "-bit range)", false;
  plan->x = x;
  plan->y = r;
  plan->scale = float(k);
  plan->shift = float(c + c1 - jlo);
  plan->levels.kind = LevelKind::kUnipolar;
  plan->levels.bits = bits;
  plan->levels.zero_level = zero_level;
  plan->levels.scale = float(m);
  plan->count = int(levels);
  if (int(levels) < (1 << bits)) {
    plan->clip = true;
    plan->clip_lo = float((jlo - c1 - c) / k);
    plan->clip_hi = float((jhi - c1 - c) / k);
  }
  return true;
}

namespace {

bool quantizer_match(const Graph& g, NodeId id, const RewriteOptions&) {
  QuantizerPlan p;
  std::string why;
  return analyze_quantizer(g, id, &p, &why);
}

}  // namespace

void make_levels(Graph& g, const std::string& name, ValueId x, ValueId y, const std::vector<float>& scale,
                 const std::vector<float>& shift, const Levels& l) {
  const ValueId q = g.add_value(g.value(y).name + "/levels", DType::kLevels);
  const NodeId qn = g.add_node(ops::kQuantizeLevels, name, {x, vector_constant(g, name + "/scale", scale),
                                                            vector_constant(g, name + "/shift", shift)}, {q});
  ops::set_quantize_levels(&g.node(qn), l);
  g.value(q).levels = l;
  const ValueId deq = g.add_value(g.value(y).name + "/dequantized");
  g.add_node(ops::kDequantize, name + "/dequantize", {q}, {deq});
  g.replace_uses(y, deq);
}

namespace {

Status quantizer_apply(Graph& g, NodeId id, const RewriteOptions&, RewriteLog* log) {
  QuantizerPlan p;
  std::string why;
  analyze_quantizer(g, id, &p, &why);
  const std::string name = g.node(id).name;
  const int64_t ch = (*known_shape(g, p.x))[1];
  for (NodeId n : p.nodes) log->note(g.node(n).name, "folded into k-bit QuantizeLevels '" + name + "'");
  ValueId x = p.x;
  if (p.clip) {
    // The range does not fill 2^bits levels: clamp the float input to it first (exact: round commutes with it).
    x = g.add_value(g.value(p.x).name + "/range");
    g.add_node("Clip", name + "/range",
               {p.x, g.add_constant(name + "/range_lo", Tensor::scalar(p.clip_lo)), g.add_constant(name + "/range_hi", Tensor::scalar(p.clip_hi))},
               {x});
  }
  make_levels(g, name, x, p.y, std::vector<float>(size_t(ch), p.scale), std::vector<float>(size_t(ch), p.shift), p.levels);
  // The Round and its chain up to y compute nothing any more (y's readers read the Dequantize).
  for (auto it = p.forward.rbegin(); it != p.forward.rend(); ++it) g.kill(*it);
  return Status::Ok();
}

bool relu_clip_match(const Graph& g, NodeId id, const RewriteOptions&) {
  const Node& n = g.node(id);
  if (n.inputs.size() != 2) return false;
  for (int k = 0; k < 2; ++k) {
    double c;
    const Node* relu = producer_of(g, n.in(size_t(1 - k)), "Relu");
    const auto* rs = relu ? known_shape(g, relu->out()) : nullptr;
    const auto* os = known_shape(g, n.out());
    if (relu != nullptr && scalar_const(g, n.in(size_t(k)), &c) && c > 0 && rs && os && *rs == *os) return true;
  }
  return false;
}

Status relu_clip_apply(Graph& g, NodeId id, const RewriteOptions&, RewriteLog* log) {
  const Node& n = g.node(id);
  int k = 0;
  double c = 0;
  for (k = 0; k < 2; ++k)
    if (producer_of(g, n.in(size_t(1 - k)), "Relu") != nullptr && scalar_const(g, n.in(size_t(k)), &c) && c > 0) break;
  const Node* relu = g.producer(n.in(size_t(1 - k)));
  log->note(relu->name, "folded into Clip '" + n.name + "'");
  log->note(n.name, "Clip(x, 0, " + std::to_string(c) + ")");
  const std::string name = n.name;
  const ValueId x = relu->in(0), out = n.out();
  g.kill(id);
  g.add_node("Clip", name, {x, g.add_constant(name + "/min", Tensor::scalar(0.0f)), g.add_constant(name + "/max", Tensor::scalar(float(c)))},
             {out});
  return Status::Ok();
}

}  // namespace

std::string why_not_quantizer(const Graph& g, NodeId n) {
  QuantizerPlan p;
  std::string why;
  if (g.node(n).op == "Round") {
    if (analyze_quantizer(g, n, &p, &why)) return "it looks like a k-bit quantizer, but was not converted";
    return why;
  }
  if (g.node(n).op == "DequantizeLinear" && !(why = why_not_qdq(g, n)).empty()) return why;
  return "not recognized as a k-bit quantizer";
}

void add_lowbit_activation_rules(RuleList* rules) {
  add_rule(rules, "min_relu_to_clip", "Min(Relu(x), a) -> Clip(x, 0, a)", {"Min"},
           relu_clip_match, relu_clip_apply);
  add_rule(rules, "uniform_quantizer", "uniform quantizer (DoReFa / PACT / LSQ) -> k-bit QuantizeLevels", {"Round"},
           quantizer_match, quantizer_apply);
}

}  // namespace onebit::converter
