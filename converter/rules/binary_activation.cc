// Binary activations.
//  sign_of_clip: Sign(Clip(x, lo, hi)) with lo < 0 < hi -> Sign(x) (a Hardtanh before the Sign keeps signs
//    and zeros).
//  sign_to_quantize: Sign(x) on a float activation -> Dequantize(Quantize(x)): the Sign's value is now a
//    bits value that binary layers read directly, its float ±1 form made only if something float needs it.
//    When x may hold exact zeros (rules/zero_analysis.h) the Sign is ternary ({-1, 0, +1}, sign(0) = 0 as ONNX
//    and PyTorch define it): by default (--sign-zero=ternary) it becomes an exact ternary
//    Dequantize(QuantizeLevels(x)) (level_scale 1) that binary layers read as a ternary input;
//    --sign-zero=plus-one says training used sign(0) = +1 (binary Quantize); --sign-zero=error refuses it
//    with the sign(0) explanation.
//  affine_into_quantize: Quantize / QuantizeLevels(a * x + b) -> the same of x with the affine folded into its per-channel
//    scale/shift, for BatchNormalization, and Add / Sub / Mul / Div by a per-channel constant (ReActNet's
//    learnable bias before its sign, with or without a BatchNormalization before it).
//  binary_flatten: Flatten / Reshape [N, C, H, W] -> [N, C*H*W] of a binary value -> the same reshape of the
//    float input, quantized after it (per-channel scale/shift repeated per feature), so a binary fully
//    connected layer can read it.
#include <cmath>

#include "ir/onebit_ops.h"
#include "rules/match.h"
#include "rules/rule_util.h"
#include "rules/zero_analysis.h"

namespace onebit::converter {
namespace {

bool activation(const Graph& g, ValueId v) {
  const auto* s = known_shape(g, v);
  return v != kNoId && !g.value(v).is_constant() && g.value(v).dtype == DType::kFloat && s != nullptr &&
         (s->size() == 4 || s->size() == 2);
}

bool clip_match(const Graph& g, NodeId id, const RewriteOptions&) {
  const Node* clip = producer_of(g, g.node(id).in(0), "Clip");
  float lo, hi;
  return clip != nullptr && clip_bounds(g, *clip, &lo, &hi) && lo < 0 && hi > 0;
}

Status clip_apply(Graph& g, NodeId id, const RewriteOptions&, RewriteLog* log) {
  const Node* clip = g.producer(g.node(id).in(0));
  log->note(clip->name, "folded into Sign '" + g.node(id).name + "' (a clamp with min < 0 < max keeps signs)");
  g.set_input(id, 0, clip->in(0));
  return Status::Ok();
}

bool sign_match(const Graph& g, NodeId id, const RewriteOptions&) { return activation(g, g.node(id).in(0)); }

Status sign_apply(Graph& g, NodeId id, const RewriteOptions& o, RewriteLog* log) {
  const Node& sign = g.node(id);
  std::string origin;
  const bool zeros = o.sign_zero != SignZero::kPlusOne && may_hold_zeros(g, sign.in(0), &origin, &log->zero_facts);
  if (zeros && o.sign_zero == SignZero::kError)
    return Status::Error(
        sign.describe() + ": its input can hold exact zeros (they come from " + origin +
        "). ONNX and PyTorch define sign(0) = 0, so the trained network computed with {-1, 0, +1} values here, and "
        "binarizing 0 to +1 would make a different model (seen: 12-44% agreement). --sign-zero=error refuses it; "
        "the default (--sign-zero=ternary) converts it exactly as a ternary activation. If your training used "
        "sign(0) = +1 (e.g. torch.where(x >= 0, 1, -1)), convert with --sign-zero=plus-one");
  const std::string name = sign.name;
  const ValueId x = sign.in(0), out = sign.out();
  g.kill(id);
  if (zeros) {
    Levels l;
    l.kind = LevelKind::kTernary;
    l.bits = 2;
    const ValueId q = g.add_value(g.value(out).name + "/levels", DType::kLevels);
    const NodeId qn = g.add_node(ops::kQuantizeLevels, name, {x}, {q});
    ops::set_quantize_levels(&g.node(qn), l);
    g.node(qn).attrs["zeros_from"] = Attr::String(origin);
    g.value(q).levels = l;
    g.add_node(ops::kDequantize, name + "/dequantize", {q}, {out});
    log->note(name, "ternary QuantizeLevels (sign(0) = 0: its input can be 0, from " + origin + ")");
    return Status::Ok();
  }
  const ValueId bits = g.add_value(g.value(out).name + "/bits", DType::kBits);
  g.add_node(ops::kQuantize, name, {x}, {bits});
  g.add_node(ops::kDequantize, name + "/dequantize", {bits}, {out});
  return Status::Ok();
}

// y = a * x + b per channel for the producer of a Quantize's input; false if it is not such an affine.
bool affine_of(const Graph& g, const Node& p, int64_t channels, size_t rank, ValueId* x, std::vector<float>* a,
               std::vector<float>* b) {
  a->assign(size_t(channels), 1.0f);
  b->assign(size_t(channels), 0.0f);
  if (p.op == "BatchNormalization") {
    if (!batch_norm_affine(g, p, a, b) || int64_t(a->size()) != channels) return false;
    *x = p.in(0);
    return !g.value(*x).is_constant();
  }
  if (p.op != "Add" && p.op != "Sub" && p.op != "Mul" && p.op != "Div") return false;
  for (int k = 0; k < 2; ++k) {
    std::vector<float> c;
    const ValueId other = p.in(size_t(1 - k));
    if (g.value(other).is_constant() || !per_channel(g, p.in(size_t(k)), channels, rank, &c)) continue;
    const auto* os = known_shape(g, other);
    if (os == nullptr || *os != *known_shape(g, p.out())) continue;
    if (p.op == "Add") *b = c;
    else if (p.op == "Sub" && k == 1) for (size_t i = 0; i < c.size(); ++i) (*b)[i] = -c[i];
    else if (p.op == "Sub") { *b = c; a->assign(c.size(), -1.0f); }
    else if (p.op == "Mul") *a = c;
    else if (k == 1) for (size_t i = 0; i < c.size(); ++i) (*a)[i] = 1.0f / c[i];
    else continue;  // c / x is not affine
    *x = other;
    return true;
  }
  return false;
}

bool affine_match(const Graph& g, NodeId id, const RewriteOptions&) {
  const Node& q = g.node(id);
  const Node* p = g.producer(q.in(0));
  const auto* s = known_shape(g, q.in(0));
  if (p == nullptr || s == nullptr || s->size() < 2) return false;
  ValueId x;
  std::vector<float> a, b;
  return affine_of(g, *p, (*s)[1], s->size(), &x, &a, &b);
}

Status affine_apply(Graph& g, NodeId id, const RewriteOptions&, RewriteLog* log) {
  const Node& q = g.node(id);
  const Node& p = *g.producer(q.in(0));
  const auto& shape = *known_shape(g, q.in(0));
  ValueId x = kNoId;
  std::vector<float> a, b;
  affine_of(g, p, shape[1], shape.size(), &x, &a, &b);
  std::vector<float> s(a.size(), 1.0f), t(a.size(), 0.0f);
  if (q.in(1) != kNoId) s = g.constant(q.in(1))->f;
  if (q.in(2) != kNoId) t = g.constant(q.in(2))->f;
  // s * (a x + b) + t = (s a) x + (s b + t)
  for (size_t c = 0; c < s.size(); ++c) {
    t[c] = s[c] * b[c] + t[c];
    s[c] = s[c] * a[c];
  }
  log->note(p.name, "folded into the threshold of Quantize '" + q.name + "'");
  const std::string base = q.name;
  g.set_input(id, 0, x);
  g.set_input(id, 1, vector_constant(g, base + "/scale", s));
  g.set_input(id, 2, vector_constant(g, base + "/shift", t));
  if (p.op == "BatchNormalization") g.node(id).attrs["folded_bn"] = Attr::Int(1);
  return Status::Ok();
}

// Flatten-like [N, C, H, W] -> [N, C*H*W] (or [N, C] -> [N, C]).
bool flattens(const Graph& g, const Node& r) {
  const auto* in = known_shape(g, r.in(0));
  const auto* out = known_shape(g, r.out());
  if (in == nullptr || out == nullptr || out->size() != 2 || (in->size() != 4 && in->size() != 2)) return false;
  if (r.op == "Flatten" && r.i("axis") != 1) return false;
  return (*out)[0] == (*in)[0];
}

bool flatten_match(const Graph& g, NodeId id, const RewriteOptions&) {
  const Node& r = g.node(id);
  const Node* deq = producer_of(g, r.in(0), ops::kDequantize);
  if (deq == nullptr || (producer_of(g, deq->in(0), ops::kQuantize) == nullptr &&
                         producer_of(g, deq->in(0), ops::kQuantizeLevels) == nullptr) ||
      !flattens(g, r) || known_shape(g, r.in(0))->size() != 4)
    return false;
  // A BatchNormalization / bias in front of the Quantize folds first (per channel), then the Flatten moves.
  return !affine_match(g, g.value(deq->in(0)).producer, RewriteOptions());
}

Status flatten_apply(Graph& g, NodeId id, const RewriteOptions&, RewriteLog*) {
  const Node& r = g.node(id);
  const Node& q = *g.producer(g.producer(r.in(0))->in(0));
  const auto& in = *known_shape(g, r.in(0));
  const int64_t c = in[1], hw = in[2] * in[3];
  const std::string qname = q.name, rname = r.name, rop = r.op, qop = q.op;
  const auto qattrs = q.attrs;
  const DType qdtype = g.value(q.out()).dtype;
  const Levels qlevels = g.value(q.out()).levels;
  const ValueId x = q.in(0), out = r.out();
  const bool nhwc = r.i("nhwc_order") != 0;
  std::vector<ValueId> qin = {kNoId};
  for (size_t k = 1; k < 3; ++k) {
    if (q.in(k) == kNoId) continue;
    const std::vector<float>& v = g.constant(q.in(k))->f;
    std::vector<float> e(size_t(c * hw));
    // Feature order of the flattened values: ONNX's (c, h, w), or (h, w, c) once flatten_feature_order
    // has marked the Flatten and permuted its readers.
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t p = 0; p < hw; ++p) e[size_t(nhwc ? p * c + ch : ch * hw + p)] = v[size_t(ch)];
    qin.resize(k + 1, kNoId);
    qin[k] = vector_constant(g, qname + (k == 1 ? "/scale" : "/shift") + "_flat", e);
  }
  std::vector<ValueId> rin = r.inputs;
  const auto attrs = r.attrs;
  g.kill(id);
  const ValueId flat = g.add_value(g.value(x).name + "/flat");
  rin[0] = x;
  const NodeId nr = g.add_node(rop, rname, rin, {flat});
  g.node(nr).attrs = attrs;
  qin[0] = flat;
  const ValueId bits = g.add_value(g.value(out).name + "/bits", qdtype);
  g.value(bits).levels = qlevels;
  const NodeId nq = g.add_node(qop, qname + "/flat", qin, {bits});
  g.node(nq).attrs = qattrs;
  g.add_node(ops::kDequantize, qname + "/flat/dequantize", {bits}, {out});
  return Status::Ok();
}

}  // namespace

void add_activation_rules(RuleList* rules) {
  add_rule(rules, "sign_of_clip", "sign-preserving Clip before Sign removed", {"Sign"}, clip_match, clip_apply);
  add_rule(rules, "sign_to_quantize", "Sign -> binary Quantize", {"Sign"}, sign_match, sign_apply);
  add_rule(rules, "affine_into_quantize", "BatchNormalization / bias / scale folded into Quantize thresholds",
           {ops::kQuantize, ops::kQuantizeLevels}, affine_match, affine_apply);
  add_rule(rules, "binary_flatten", "Flatten of a binary value moved before its Quantize", {"Flatten", "Reshape"},
           flatten_match, flatten_apply);
}

}  // namespace onebit::converter
