// QuantizeLinear / DequantizeLinear: the quantization toolkits' export form (PyTorch fake quant, torch.ao QAT,
// Brevitas QCDQ), as ONNX (opset 13) defines it: q = saturate(round_half_even(x / s) + zp) into the zero
// point's type (uint8, also when zp is omitted, or int8), an optional Clip of q to integer bounds of that type,
// then y = (q - zp) * s. Scales and zero points per tensor (scalars) or, with `axis`, per slice.
//  qdq_to_levels: an activation (a float feature map) through Q -> [Clip] -> DQ, per tensor, whose range holds
//    2 .. 16 levels including 0 -> onebit.QuantizeLevels (Unipolar, zero level zp - qmin, level scale s). The
//    range is the type's, narrowed by the integer Clip between Q and DQ and by any float clamps in front of
//    the Q (Clip, Relu, Max / Min with a scalar constant: torch 1.13 exports a 2-bit fake quant only as
//    clamp(x, 0, 3 s) -> 8-bit Q -> DQ). A clamp [lo, hi] before the Q narrows q to
//    [round(lo / s) + zp, round(hi / s) + zp]: round (and float division by s > 0) is monotone, and a
//    monotone f has f(clamp(t, a, b)) = clamp(f(t), f(a), f(b)), so the quantizer may read x itself. When the
//    range does not fill 2^bits levels a float Clip of x to it stays in front (as for the Round quantizers).
//    Exact, ties included, when zp - qmin is even or the range leaves a spare level; an odd zp - qmin on a full
//    2^bits range (e.g. uint8 zp 1 clamped to 0..3) rounds exact ties x / s = k + 1/2 the other way.
//  qdq_weights: Q -> [Clip] -> DQ on a constant (weights on their float initializer, after any folded Max /
//    Min clamp) is evaluated as ONNX defines it, per tensor or per channel (`axis`), any bit width: the conv
//    then sees its weights as the levels * s they are (rules/offset_weights.cc and rules/binary_layers.cc
//    split them into the runtime's weight planes).
//  qdq_int8_scales (late): an activation Q -> [Clip] -> DQ per tensor with more than 16 levels (8-bit) that a
//    float Conv / Gemm / MatMul reads, or whose input such a layer alone computes, is removed, its scale and
//    zero point (uint8 moved to int8: q - 128) becoming that layer's int8 input / output scales, which
//    --int8-float-layers then uses instead of calibrating (a layer with both). Without it the layers compute
//    in float and the pair's rounding is dropped: a warning says so. A pair next to no float layer stays an
//    error (it cannot run).
#include <cmath>

#include "ir/onebit_ops.h"
#include "rules/lowbit.h"
#include "rules/match.h"
#include "rules/rule_util.h"

namespace onebit::converter {
namespace {

// A rule's match and the plan its apply works from, both from one analysis function.
template <typename Plan>
using Analysis = bool (*)(const Graph&, NodeId, Plan*, std::string*);
template <typename Plan, Analysis<Plan> analyze>
bool analyzes(const Graph& g, NodeId id, const RewriteOptions&) {
  Plan p;
  std::string why;
  return analyze(g, id, &p, &why);
}
template <typename Plan, Analysis<Plan> analyze>
Plan plan_of(const Graph& g, NodeId id) {
  Plan p;
  std::string why;
  analyze(g, id, &p, &why);
  return p;
}

// The integer range of a Q -> [Clip] -> DQ: the zero point's type (ONNX opset 13: uint8 or int8), narrowed by
// the Clip. *zp_signed says the type. False with *why on a zero point or Clip ONNX does not allow.
bool quantized_range(const Graph& g, const Node& ql, const Node* clip, bool* zp_signed, int64_t* qmin, int64_t* qmax,
                     std::string* why) {
  const Tensor* zt = ql.in(2) == kNoId ? nullptr : g.constant(ql.in(2));
  if (ql.in(2) != kNoId && zt == nullptr) return *why = "its zero point is not a constant", false;
  if (zt != nullptr && (zt->dtype != DType::kInt64 || (zt->onnx_type != 0 && zt->onnx_type != 2 && zt->onnx_type != 3)))
    return *why = "its zero point is not uint8 or int8 (ONNX element type " + std::to_string(zt->onnx_type) + ")", false;
  const bool is_signed = zt != nullptr && zt->onnx_type == 3;  // INT8; uint8 otherwise (ONNX's default)
  *zp_signed = is_signed;
  *qmin = is_signed ? -128 : 0;
  *qmax = is_signed ? 127 : 255;
  if (clip == nullptr) return true;
  // The Clip works on the quantized integers: ONNX requires bounds of their type, and min <= max.
  int64_t bound[2] = {*qmin, *qmax};
  for (size_t k = 1; k < 3; ++k) {
    const Tensor* b = clip->in(k) == kNoId ? nullptr : g.constant(clip->in(k));
    if (clip->in(k) != kNoId && (b == nullptr || b->elements() != 1))
      return *why = clip->describe() + " between them has non-constant bounds", false;
    if (b == nullptr) continue;
    if (b->dtype != DType::kInt64 || (b->onnx_type != 0 && b->onnx_type != (is_signed ? 3 : 2)))
      return *why = clip->describe() + " between them has a " + (k == 1 ? "min" : "max") + " of type " +
                    (b->dtype != DType::kInt64 ? dtype_name(b->dtype) : "ONNX " + std::to_string(b->onnx_type)) +
                    " on a " + (is_signed ? "int8" : "uint8") + " tensor; ONNX requires bounds of the input's type", false;
    bound[k - 1] = b->i[0];
  }
  if (bound[0] > bound[1])
    return *why = clip->describe() + " between them has min " + std::to_string(bound[0]) + " > max " +
                  std::to_string(bound[1]) + ": ONNX defines every output as max then, a constant, not a quantizer", false;
  *qmin = std::max(*qmin, bound[0]);
  *qmax = std::min(*qmax, bound[1]);
  return true;
}

// The QuantizeLinear (and the integer Clip between) feeding DequantizeLinear `dq`, or nullptr.
const Node* quantize_of(const Graph& g, const Node& dq, const Node** clip) {
  ValueId q = dq.in(0);
  *clip = producer_of(g, q, "Clip");
  if (*clip != nullptr) q = (*clip)->in(0);
  return producer_of(g, q, "QuantizeLinear");
}

// ---- activations

struct QdqPlan {
  ValueId x = kNoId, y = kNoId;
  double s = 1, zp = 0;
  int64_t qmin = 0, qmax = 0;
  std::vector<NodeId> nodes;
};

// One float clamp step in front of the QuantizeLinear: Clip, Relu, Max / Min with a scalar constant.
bool clamp_step(const Graph& g, const Node& p, ValueId* x, float* lo, float* hi) {
  *lo = -INFINITY;
  *hi = INFINITY;
  if (p.op == "Relu") return *x = p.in(0), *lo = 0, true;
  if (p.op == "Clip") return *x = p.in(0), clip_bounds(g, p, lo, hi);
  if ((p.op != "Max" && p.op != "Min") || p.inputs.size() != 2) return false;
  for (size_t k = 0; k < 2; ++k) {
    double c;
    if (g.value(p.in(1 - k)).is_constant() || !scalar_const(g, p.in(k), &c)) continue;
    *x = p.in(1 - k);
    (p.op == "Max" ? *lo : *hi) = float(c);
    return true;
  }
  return false;
}

// Walks back from the QuantizeLinear's input through float clamps of the same shape; returns the clamped input
// and the intersection [*lo, *hi] (in float, as ONNX compares).
ValueId clamps_before(const Graph& g, ValueId v, float* lo, float* hi, std::vector<NodeId>* nodes) {
  *lo = -INFINITY;
  *hi = INFINITY;
  return walk_producers(g, v, 8, [&](const Node& p, ValueId out, ValueId* x) {
    float a, b;
    if (!clamp_step(g, p, x, &a, &b) || g.value(*x).is_constant() || g.value(*x).dtype != DType::kFloat) return false;
    const auto* xs = known_shape(g, *x);
    if (xs == nullptr || *xs != *known_shape(g, out)) return false;
    *lo = std::max(*lo, a);
    *hi = std::min(*hi, b);
    if (g.users(out).size() == 1 && !g.value(out).graph_output) nodes->push_back(g.value(out).producer);
    return true;
  });
}

// q = round_half_even(fl(b / s)) + zp for a float bound b, as a double (±inf stays infinite).
double quantized_bound(float b, double s, double zp) { return double(std::nearbyint(b / float(s))) + zp; }

bool qdq_analyze(const Graph& g, NodeId id, QdqPlan* p, std::string* why) {
  const Node& dq = g.node(id);
  const Node* clip = nullptr;
  const Node* ql = quantize_of(g, dq, &clip);
  if (ql == nullptr) return false;
  double s1, s2, z1 = 0, z2 = 0;
  if (!scalar_const(g, ql->in(1), &s1) || !scalar_const(g, dq.in(1), &s2) || s1 != s2 || !(s1 > 0))
    return *why = "scales are not one equal positive constant (per tensor)", false;
  if ((ql->in(2) != kNoId && !scalar_const(g, ql->in(2), &z1)) || (dq.in(2) != kNoId && !scalar_const(g, dq.in(2), &z2)) || z1 != z2)
    return *why = "zero points are not one equal constant (per tensor)", false;
  bool is_signed;
  if (!quantized_range(g, *ql, clip, &is_signed, &p->qmin, &p->qmax, why)) return false;
  if (clip != nullptr) p->nodes.push_back(g.value(clip->out()).producer);
  const auto* xs = known_shape(g, ql->in(0));
  if (xs == nullptr || (xs->size() != 4 && xs->size() != 2) || g.value(ql->in(0)).is_constant())
    return *why = "its input is not a float feature map", false;
  float lo, hi;
  p->x = clamps_before(g, ql->in(0), &lo, &hi, &p->nodes);
  // Both bounds end within the type's range (-128 .. 255) after the clamps: no overflow below.
  p->qmin = int64_t(std::max(double(p->qmin), std::min(double(p->qmax), quantized_bound(lo, s1, z1))));
  p->qmax = int64_t(std::min(double(p->qmax), std::max(double(p->qmin), quantized_bound(hi, s1, z1))));
  const int64_t levels = p->qmax - p->qmin + 1;
  if (levels < 2 || levels > 16)
    return *why = "the quantized range " + std::to_string(p->qmin) + ".." + std::to_string(p->qmax) +
                  " has " + std::to_string(levels) + " levels; onebit's k-bit tensors hold 2 .. 16 (a Clip, Relu or " +
                  "Max / Min in front of the QuantizeLinear, or a Clip after it, narrows it)", false;
  if (z1 < double(p->qmin) || z1 > double(p->qmax)) return *why = "the zero point lies outside the range", false;
  p->y = dq.out();
  p->s = s1;
  p->zp = z1;
  p->nodes.push_back(g.value(ql->out()).producer);
  return true;
}

Status qdq_apply(Graph& g, NodeId id, const RewriteOptions&, RewriteLog* log) {
  const QdqPlan p = plan_of<QdqPlan, qdq_analyze>(g, id);
  const std::string name = g.node(id).name;
  for (NodeId n : p.nodes) log->note(g.node(n).name, "folded into k-bit QuantizeLevels '" + name + "'");
  const int64_t levels = p.qmax - p.qmin + 1;
  Levels l;
  l.kind = LevelKind::kUnipolar;
  while ((1 << l.bits) < levels) ++l.bits;
  // The runtime rounds t = x / s + offset half to even; ONNX rounds x / s, then adds zp - qmin. The two agree
  // at ties (x / s = k + 1/2) only for an even offset: when the range leaves a spare level, shift the indices
  // up by one to make it even (the range Clip below keeps index 0 unused).
  int64_t offset = int64_t(p.zp) - p.qmin;
  if (offset % 2 != 0 && levels < (int64_t(1) << l.bits)) ++offset;
  l.zero_level = int(offset);
  l.scale = float(p.s);
  ValueId x = p.x;
  if (levels < (int64_t(1) << l.bits)) {
    x = g.add_value(g.value(p.x).name + "/range");
    g.add_node("Clip", name + "/range",
               {p.x, g.add_constant(name + "/range_lo", Tensor::scalar(float((double(p.qmin) - p.zp) * p.s))),
                g.add_constant(name + "/range_hi", Tensor::scalar(float((double(p.qmax) - p.zp) * p.s)))},
               {x});
  }
  const int64_t ch = (*known_shape(g, p.x))[1];
  // q = saturate(round(x / s) + zp): index q - qmin (+ 1) = round(x / s + offset).
  make_levels(g, name, x, p.y, std::vector<float>(size_t(ch), float(1.0 / p.s)), std::vector<float>(size_t(ch), float(offset)), l);
  g.kill(id);
  return Status::Ok();
}

// ---- constants (weights)

// Per-slice parameter k of `t` (a scalar, or a 1-D tensor of `slices` entries along the axis).
bool slice_params(const Tensor* t, int64_t slices, std::vector<double>* out, double absent) {
  if (t == nullptr) return out->assign(size_t(slices), absent), true;
  if (t->elements() != 1 && (t->shape.size() != 1 || t->shape[0] != slices)) return false;
  out->resize(size_t(slices));
  for (int64_t k = 0; k < slices; ++k) (*out)[size_t(k)] = double(t->as_float(t->elements() == 1 ? 0 : k));
  return true;
}

struct ConstQdq {
  const Tensor* x = nullptr;
  int64_t axis = 0, slices = 1, inner = 1;  // element e belongs to slice (e / inner) % slices
  std::vector<double> s_q, zp_q, s_dq, zp_dq;
  int64_t qmin = 0, qmax = 0;
  std::vector<NodeId> nodes;
};

bool const_qdq_analyze(const Graph& g, NodeId id, ConstQdq* c, std::string* why) {
  const Node& dq = g.node(id);
  const Node* clip = nullptr;
  const Node* ql = quantize_of(g, dq, &clip);
  if (ql == nullptr || (c->x = g.constant(ql->in(0))) == nullptr || !c->x->is_float()) return false;
  const int64_t rank = int64_t(c->x->shape.size());
  int64_t axis[2] = {ql->i("axis"), dq.i("axis")};
  for (int64_t& a : axis) a = a < 0 ? a + rank : a;
  const Tensor* p[4] = {g.constant(ql->in(1)), ql->in(2) == kNoId ? nullptr : g.constant(ql->in(2)),
                        g.constant(dq.in(1)), dq.in(2) == kNoId ? nullptr : g.constant(dq.in(2))};
  const bool per_axis = p[0] != nullptr && p[0]->elements() != 1;
  if (per_axis && (axis[0] != axis[1] || axis[0] < 0 || axis[0] >= rank))
    return *why = "its per-axis scales have axis " + std::to_string(ql->i("axis")) + " / " + std::to_string(dq.i("axis")) +
                  " on a rank-" + std::to_string(rank) + " constant", false;
  c->axis = per_axis ? axis[0] : 0;
  c->slices = per_axis ? c->x->shape[size_t(c->axis)] : 1;
  c->inner = 1;
  if (per_axis)
    for (int64_t d = c->axis + 1; d < rank; ++d) c->inner *= c->x->shape[size_t(d)];
  if (p[0] == nullptr || p[2] == nullptr || (ql->in(2) != kNoId && p[1] == nullptr) || (dq.in(2) != kNoId && p[3] == nullptr) ||
      !slice_params(p[0], c->slices, &c->s_q, 1) || !slice_params(p[1], c->slices, &c->zp_q, 0) ||
      !slice_params(p[2], c->slices, &c->s_dq, 1) || !slice_params(p[3], c->slices, &c->zp_dq, 0))
    return *why = "its scales / zero points are not constants of one value or one per slice of the axis", false;
  for (int64_t k = 0; k < c->slices; ++k)
    if (!(c->s_q[size_t(k)] > 0) || !std::isfinite(c->s_q[size_t(k)]) || !std::isfinite(c->s_dq[size_t(k)]))
      return *why = "a scale is not a finite positive number", false;
  bool is_signed;
  if (!quantized_range(g, *ql, clip, &is_signed, &c->qmin, &c->qmax, why)) return false;
  c->nodes.push_back(g.value(ql->out()).producer);
  if (clip != nullptr) c->nodes.push_back(g.value(clip->out()).producer);
  return true;
}

Status const_qdq_apply(Graph& g, NodeId id, const RewriteOptions&, RewriteLog* log) {
  const ConstQdq c = plan_of<ConstQdq, const_qdq_analyze>(g, id);
  const std::vector<float>& x = c.x->f;
  std::vector<float> y(x.size());
  for (size_t e = 0; e < x.size(); ++e) {
    const size_t k = size_t((int64_t(e) / c.inner) % c.slices);
    // ONNX: round half to even of the float32 quotient, plus the zero point, saturated (NaN saturates to qmin
    // here; ONNX leaves it undefined). Then dequantize in float32: (q - zp) * s.
    const double t = double(std::nearbyint(x[e] / float(c.s_q[k]))) + c.zp_q[k];
    const double q = std::isnan(t) ? double(c.qmin) : std::min(double(c.qmax), std::max(double(c.qmin), t));
    y[e] = float(q - c.zp_dq[k]) * float(c.s_dq[k]);
  }
  const std::string name = g.node(id).name;
  for (NodeId n : c.nodes) log->note(g.node(n).name, "evaluated with '" + name + "' (quantized constant)");
  log->note(name, "evaluated at conversion time (quantized constant)");
  Tensor t = Tensor::floats(c.x->shape, std::move(y));
  const ValueId out = g.node(id).out();
  const int64_t bytes = t.bytes();
  g.kill(id);
  g.set_constant(out, std::move(t));
  log->fold.alive.emplace_back(out, bytes);
  log->fold.bytes_alive += bytes;
  return Status::Ok();
}

// ---- 8-bit activations around the layers that stay float

// A float Conv / Gemm / MatMul with constant float weights (the layers --int8-float-layers runs in int8).
bool float_layer(const Graph& g, NodeId id) {
  if (id == kNoId || g.node(id).dead) return false;
  const Node& n = g.node(id);
  const Tensor* w = g.constant(n.in(1));
  return (n.op == "Conv" || n.op == "Gemm" || n.op == "MatMul") && w != nullptr && w->is_float() && !n.i("binary_weights");
}

struct Int8Qdq {
  ValueId x = kNoId, y = kNoId;
  float s = 1;
  int zp = 0;                    // in int8 terms (uint8 - 128)
  NodeId quantize = kNoId;
  std::vector<NodeId> readers;   // float layers reading y: input scales
  NodeId producer = kNoId;       // the float layer computing x, if any: output scales
};

// A per-tensor activation Q -> [Clip] -> DQ of more than 16 levels (not a k-bit activation) next to a float
// layer (reading it, or computing its input).
bool int8_analyze(const Graph& g, NodeId id, Int8Qdq* p, std::string* why) {
  const Node& dq = g.node(id);
  const Node* clip = nullptr;
  const Node* ql = quantize_of(g, dq, &clip);
  double s1, s2, z1 = 0, z2 = 0;
  if (ql == nullptr || g.value(ql->in(0)).is_constant() || !scalar_const(g, ql->in(1), &s1) || !scalar_const(g, dq.in(1), &s2) ||
      s1 != s2 || !(s1 > 0) || (ql->in(2) != kNoId && !scalar_const(g, ql->in(2), &z1)) ||
      (dq.in(2) != kNoId && !scalar_const(g, dq.in(2), &z2)) || z1 != z2)
    return false;
  bool is_signed;
  int64_t qmin, qmax;
  if (!quantized_range(g, *ql, clip, &is_signed, &qmin, &qmax, why) || qmax - qmin + 1 <= 16) return false;
  p->x = ql->in(0);
  p->y = dq.out();
  p->s = float(s1);
  p->zp = int(z1) - (is_signed ? 0 : 128);
  p->quantize = g.value(ql->out()).producer;
  for (NodeId u : g.users(p->y))
    if (float_layer(g, u) && g.node(u).in(0) == p->y) p->readers.push_back(u);
  const NodeId prod = producer_id(g, p->x);
  if (float_layer(g, prod) && g.users(p->x).size() == 1) p->producer = prod;
  return !p->readers.empty() || p->producer != kNoId;
}

void set_int8_scales(Node& n, const char* side, float s, int zp) {
  n.attrs[std::string("int8_") + side + "_scale"] = Attr::Float(s);
  n.attrs[std::string("int8_") + side + "_zero_point"] = Attr::Int(zp);
  if (n.has("int8_input_scale") && n.has("int8_output_scale")) n.attrs["int8"] = Attr::Int(1);
}

Status int8_apply(Graph& g, NodeId id, const RewriteOptions&, RewriteLog* log) {
  const Int8Qdq p = plan_of<Int8Qdq, int8_analyze>(g, id);
  const std::string name = g.node(id).name;
  for (NodeId r : p.readers) set_int8_scales(g.node(r), "input", p.s, p.zp);
  if (p.producer != kNoId) set_int8_scales(g.node(p.producer), "output", p.s, p.zp);
  log->note(g.node(p.quantize).name, "read as int8 scales with '" + name + "'");
  log->note(name, "read as the int8 activation scale " + std::to_string(p.s) + " (zero point " + std::to_string(p.zp) +
                      ") of the float layers next to it");
  log->warnings.push_back(g.node(id).describe() + ": an 8-bit fake quantization next to float layers; they compute in float " +
                          "(its rounding dropped) unless --int8-float-layers runs them in int8 on its scale");
  bypass(g, id, p.x);
  return Status::Ok();
}

}  // namespace

std::string why_not_qdq(const Graph& g, NodeId n) {
  QdqPlan q;
  std::string why;
  if (!qdq_analyze(g, n, &q, &why)) return why.empty() ? "its input is not a QuantizeLinear (optionally through a Clip)" : why;
  return "";
}

void add_qdq_rules(RuleList* rules) {
  add_rule(rules, "qdq_weights", "QuantizeLinear -> DequantizeLinear on a constant evaluated (weights)",
           {"DequantizeLinear"}, analyzes<ConstQdq, const_qdq_analyze>, const_qdq_apply);
  add_rule(rules, "qdq_int8_scales", "8-bit QuantizeLinear -> DequantizeLinear next to float layers -> their int8 scales",
           {"DequantizeLinear"}, analyzes<Int8Qdq, int8_analyze>, int8_apply, /*late=*/true);
  add_rule(rules, "qdq_to_levels", "QuantizeLinear -> DequantizeLinear (<= 16 levels) -> k-bit QuantizeLevels",
           {"DequantizeLinear"}, analyzes<QdqPlan, qdq_analyze>, qdq_apply);
}

}  // namespace onebit::converter
