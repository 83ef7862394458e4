// Binary layers: a layer whose input is a binary value (Dequantize of bits, possibly through a Pad) and
// whose weights are constant ±1, or ±s per output channel (XNOR-Net's alpha, or a BatchNormalization the
// exporter folded into the conv), reads the bits directly:
//  binary_conv: Conv -> onebit.BinaryConv2D (signs, multiplier = s, bias = the conv bias). The conv's own
//    pads are PyTorch's zero padding of the binarized input (exact border correction); a Pad of value +1 /
//    -1 in front of an unpadded conv gives the one / minus-one modes; a Pad of 0 adds to the zero pads.
//  binary_fully_connected: Gemm (transA = 0) or MatMul of [N, K] bits with a constant ±s matrix.
//  binary_max_pool: MaxPool of bits -> BinaryMaxPool2D (max of ±1 = AND of the "is -1" bits).
//  requantize: Quantize(Dequantize(b)) without scale/shift -> b (Sign of a Sign).
// k-bit inputs (Dequantize of onebit.QuantizeLevels levels): the same rules make k-bit binary layers
// (D = sum of L_x * L_w over the window, zero padding exact since 0 is a level; ±1 pads are an error), with
// the input's level_scale folded into the multiplier. Weights may be ±s or the 2-bit odd levels {-3,-1,1,3}·s
// (split_weight_levels, rules/lowbit.h); weight_bits says which.
// A conv on a binary input whose weights are not binary is reported by the audit after the rewrites
// (converter/audit.h), not here: constants may still be folding while rules run.
#include <cmath>

#include "ir/onebit_ops.h"
#include "ir/spatial.h"
#include "rules/lowbit.h"
#include "rules/match.h"
#include "rules/rule_util.h"

namespace onebit::converter {
namespace {

struct BinaryInput {
  ValueId bits = kNoId;
  const Node* pad = nullptr;
  core::PadMode mode = core::PadMode::kZero;
  int64_t extra[4] = {0, 0, 0, 0};  // top, left, bottom, right from the Pad
  std::string error;
};

// The bits a conv input stands for, through an optional constant Pad of H and W.
bool binary_input(const Graph& g, ValueId x, BinaryInput* b) {
  const Node* pad = producer_of(g, x, "Pad");
  if (pad != nullptr) x = pad->in(0);
  const Node* deq = producer_of(g, x, ops::kDequantize);
  if (deq == nullptr || !ops::packed(g.value(deq->in(0)).dtype)) return false;
  b->bits = deq->in(0);
  if (pad == nullptr) return true;
  b->pad = pad;
  const Tensor* pads = g.constant(pad->in(1));
  const Tensor* value = pad->in(2) == kNoId ? nullptr : g.constant(pad->in(2));
  const std::string where = pad->describe() + " of a binary activation";
  if (pads == nullptr || (pad->in(2) != kNoId && value == nullptr) || pad->in(3) != kNoId) {
    b->error = where + ": pads, value and axes must be constants (axes absent)";
  } else if (pad->s("mode") != "constant") {
    b->error = where + " with mode '" + pad->s("mode") + "'; only constant padding is supported";
  } else if (pads->elements() != 8 || pads->as_int(0) || pads->as_int(1) || pads->as_int(4) || pads->as_int(5)) {
    b->error = where + " pads other axes than H and W";
  } else {
    const float v = value ? value->as_float(0) : 0.0f;
    if (v == 0.0f) b->mode = core::PadMode::kZero;
    else if (v == 1.0f) b->mode = core::PadMode::kOne;
    else if (v == -1.0f) b->mode = core::PadMode::kMinusOne;
    else b->error = where + " with value " + std::to_string(v) + "; a binary conv can pad with 0, +1 or -1 only";
    if (v != 0.0f && g.value(b->bits).dtype == DType::kLevels)
      b->error = where + " with value " + std::to_string(v) + "; a k-bit input can only be zero padded";
    const int64_t e[4] = {pads->as_int(2), pads->as_int(3), pads->as_int(6), pads->as_int(7)};
    for (int k = 0; k < 4; ++k) {
      b->extra[k] = e[k];
      if (e[k] < 0) b->error = where + " crops (negative pads)";
    }
  }
  return true;
}

bool conv_match(const Graph& g, NodeId id, const RewriteOptions&) {
  const Node& n = g.node(id);
  BinaryInput b;
  const Tensor* w = g.constant(n.in(1));
  if (!binary_input(g, n.in(0), &b) || w == nullptr || w->shape.size() != 4 || !known_shape(g, n.in(0))) return false;
  if (n.in(2) != kNoId && g.constant(n.in(2)) == nullptr) return false;
  std::vector<float> s, m;
  std::string why;
  return split_weight_levels(w->f, w->shape[0], 2, &s, &m, &why) > 0;
}

// The input's level scale (1 for bits), folded into the multiplier of a layer reading it.
float input_level_scale(const Graph& g, ValueId packed) {
  return g.value(packed).dtype == DType::kLevels ? g.value(packed).levels.scale : 1.0f;
}

Status conv_apply(Graph& g, NodeId id, const RewriteOptions&, RewriteLog* log) {
  const Node& n = g.node(id);
  BinaryInput b;
  binary_input(g, n.in(0), &b);
  if (!b.error.empty()) return Status::Error(n.describe() + ": its input is " + b.error);
  const Tensor& w = *g.constant(n.in(1));
  std::vector<float> signs, mult;
  std::string why;
  const int weight_bits = split_weight_levels(w.f, w.shape[0], 2, &signs, &mult, &why);
  const float ls = input_level_scale(g, b.bits);
  for (float& m : mult) m *= ls;
  std::vector<float> bias(size_t(w.shape[0]), 0.0f);
  if (n.in(2) != kNoId) {
    const Tensor& t = *g.constant(n.in(2));
    if (t.elements() != w.shape[0]) return Status::Error(n.describe() + ": bias has " + std::to_string(t.elements()) + " values for " + std::to_string(w.shape[0]) + " output channels");
    bias = t.to_floats();
  }
  // Geometry on the input the conv sees (after the Pad), pads resolved once.
  Spatial sp;
  ONEBIT_RETURN_IF_ERROR(resolve_spatial(n, *known_shape(g, n.in(0)), {w.shape[2], w.shape[3]}, &sp));
  const bool own_pads = sp.pad_begin[0] || sp.pad_begin[1] || sp.pad_end[0] || sp.pad_end[1];
  if (b.mode != core::PadMode::kZero && own_pads)
    return Status::Error(n.describe() + ": its input is " + b.pad->describe() +
                         " with value ±1 and the conv also has its own (zero) pads: mixed padding cannot be expressed");
  // The builder's parameters, written once here: the emitter passes them on as they are.
  BinaryConv2DParams p;
  static_cast<Conv2DParams&>(p) = conv_2d(sp);
  p.pad_top += int(b.extra[0]);  // the Pad's, on top of the conv's own
  p.pad_left += int(b.extra[1]);
  p.pad_bottom += int(b.extra[2]);
  p.pad_right += int(b.extra[3]);
  p.groups = int(n.i("group"));
  p.pad_mode = b.mode;
  p.weight_bits = weight_bits;  // no clamp and float output until rules/output_transform.cc folds them in
  if (b.pad) log->note(b.pad->name, "folded into pad mode of binary conv '" + n.name + "'");
  const std::string name = n.name;
  const ValueId out = n.out(), bits = b.bits;
  g.kill(id);
  const ValueId wv = g.add_constant(name + "/signs", Tensor::floats(w.shape, signs));
  const NodeId c = g.add_node(ops::kBinaryConv2D, name, {bits, wv, vector_constant(g, name + "/multiplier", mult),
                                                          vector_constant(g, name + "/bias", bias)}, {out});
  g.node(c).params = p;
  return Status::Ok();
}

bool fc_match(const Graph& g, NodeId id, const RewriteOptions&) {
  const Node& n = g.node(id);
  const Node* deq = producer_of(g, n.in(0), ops::kDequantize);
  const auto* xs = known_shape(g, n.in(0));
  std::vector<float> w, s, m;
  int64_t out, k;
  std::string why;
  if (deq == nullptr || !ops::packed(g.value(deq->in(0)).dtype) || xs == nullptr || xs->size() != 2 ||
      !fc_weight_matrix(g, n, &w, &out, &k))
    return false;
  if (n.op == "Gemm" && n.in(2) != kNoId && g.constant(n.in(2)) == nullptr) return false;
  return split_weight_levels(w, out, 2, &s, &m, &why) > 0;
}

Status fc_apply(Graph& g, NodeId id, const RewriteOptions&, RewriteLog*) {
  const Node& n = g.node(id);
  std::vector<float> w, signs, mult;
  int64_t out_c, k;
  std::string why;
  fc_weight_matrix(g, n, &w, &out_c, &k);
  const int weight_bits = split_weight_levels(w, out_c, 2, &signs, &mult, &why);
  const float ls = input_level_scale(g, g.producer(n.in(0))->in(0));
  for (float& m : mult) m *= ls;
  std::vector<float> bias(size_t(out_c), 0.0f);
  if (n.op == "Gemm" && n.in(2) != kNoId) {
    std::vector<float> c;
    if (!per_channel(g, n.in(2), out_c, 2, &c))
      return Status::Error(n.describe() + ": bias C must be a constant of [out] or [1, out] values");
    for (int64_t o = 0; o < out_c; ++o) bias[size_t(o)] = n.f("beta") * c[size_t(o)];
  }
  const std::string name = n.name;
  const ValueId out = n.out(), bits = g.producer(n.in(0))->in(0);
  g.kill(id);
  const ValueId wv = g.add_constant(name + "/signs", Tensor::floats({out_c, k}, signs));
  const NodeId f = g.add_node(ops::kBinaryFullyConnected, name,
                              {bits, wv, vector_constant(g, name + "/multiplier", mult), vector_constant(g, name + "/bias", bias)}, {out});
  BinaryFullyConnectedParams p;
  p.weight_bits = weight_bits;  // no clamp and float output until rules/output_transform.cc folds them in
  g.node(f).params = p;
  return Status::Ok();
}

bool pool_match(const Graph& g, NodeId id, const RewriteOptions&) {
  const Node& n = g.node(id);
  const auto* xs = known_shape(g, n.in(0));
  const Node* deq = producer_of(g, n.in(0), ops::kDequantize);
  if (deq == nullptr || g.value(deq->in(0)).dtype != DType::kBits || xs == nullptr || xs->size() != 4) return false;
  if (n.outputs.size() > 1 && n.outputs[1] != kNoId) return false;
  Spatial sp;
  if (!resolve_spatial(n, *xs, n.ints("kernel_shape"), &sp).ok() || sp.ceil_differs || n.i("storage_order")) return false;
  return sp.dilations[0] == 1 && sp.dilations[1] == 1;
}

Status pool_apply(Graph& g, NodeId id, const RewriteOptions&, RewriteLog*) {
  const Node& n = g.node(id);
  Spatial sp;
  ONEBIT_RETURN_IF_ERROR(resolve_spatial(n, *known_shape(g, n.in(0)), n.ints("kernel_shape"), &sp));
  const std::string name = n.name;
  const ValueId out = n.out(), bits = g.producer(n.in(0))->in(0);
  g.kill(id);
  const ValueId pooled = g.add_value(g.value(out).name + "/bits", DType::kBits);
  const NodeId p = g.add_node(ops::kBinaryMaxPool2D, name, {bits}, {pooled});
  g.node(p).params = pool_2d(sp);
  g.add_node(ops::kDequantize, name + "/dequantize", {pooled}, {out});
  return Status::Ok();
}

bool requantize_match(const Graph& g, NodeId id, const RewriteOptions&) {
  const Node& q = g.node(id);
  const Node* deq = producer_of(g, q.in(0), ops::kDequantize);
  return q.in(1) == kNoId && q.in(2) == kNoId && deq != nullptr && g.value(deq->in(0)).dtype == DType::kBits;
}

Status requantize_apply(Graph& g, NodeId id, const RewriteOptions&, RewriteLog* log) {
  log->note(g.node(id).name, "removed (Sign of a binary value)");
  bypass(g, id, g.producer(g.node(id).in(0))->in(0));
  return Status::Ok();
}

}  // namespace

void add_binary_layer_rules(RuleList* rules) {
  add_rule(rules, "binary_conv", "Conv on bits with ±s weights -> BinaryConv2D", {"Conv"}, conv_match, conv_apply);
  add_rule(rules, "binary_fully_connected", "Gemm/MatMul on bits with ±s weights -> BinaryFullyConnected",
           {"Gemm", "MatMul"}, fc_match, fc_apply);
  add_rule(rules, "binary_max_pool", "MaxPool on bits -> BinaryMaxPool2D", {"MaxPool"}, pool_match, pool_apply);
  add_rule(rules, "requantize", "Sign of a binary value removed", {ops::kQuantize}, requantize_match, requantize_apply);
}

}  // namespace onebit::converter
