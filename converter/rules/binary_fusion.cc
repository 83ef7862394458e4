// Fusions that remove float passes around binary convolutions (issue 12; schema BinaryConv2DOptions
// "Fusions"). Late rules: they run once the other rules (Sign -> Quantize with its zero analysis, folding of
// alpha / BatchNorm into the output transform, bitpacked outputs) have reached a fixed point, so they see the
// final form of their neighbours and never pre-empt a rule that removes the float tensor altogether.
//  residual_into_binary_conv: Add(c, r), c the float output of a BinaryConv2D read by nothing else, with no
//    clamp of its own and no residual yet; r a float activation of c's shape -> the conv with input 4 = r:
//      y = clamp(fl(fl(fl(m * D) + b) + r))  (fl(c + r) = fl(r + c): the operand order does not matter).
//    A Relu / Clip after the Add then folds into the conv's clamp (fold_into_output_transform, which takes
//    only clamps once a conv has a residual: a scale or shift after it would not apply to r).
//  quantize_into_binary_conv: Quantize(y), y the float output of a BinaryConv2D (residual or not) -> the conv
//    also writes the Quantize's bits (FloatAndBitPacked), while y keeps its other readers (the residual stream
//    of Bi-Real / ReActNet blocks). The Quantize's bits become the conv's second output and its scale / shift
//    the conv's inputs 5 / 6 (ir/onebit_ops.h); the emitter writes both as one operator (emit.cc). Same y, same
//    comparison: bit-exact. Not for the float reference (RewriteOptions::float_reference), which keeps the
//    Quantize as its own operator. The same for a QuantizeLevels of y (issue 20: the next k-bit block's
//    activation quantizer), whose levels become the conv's second output (FloatAndLevels): the runtime runs
//    QuantizeLevels' own kernel on the same floats, so it is bit-exact too.
//  sign_before_max_pool: Quantize(MaxPool(x)) whose MaxPool has no other reader and whose per-channel scales
//    are all > 0 (no flips) -> BinaryMaxPool(Quantize(x)). With s > 0, bit(v) = (fl(s v) + t < 0) is
//    non-increasing in v (rounding is monotone), so bit(max_i x_i) = AND_i bit(x_i), the binary max pool of
//    the bits; padded taps are ignored by both pools. The rewrite leaves MaxPool(Dequantize(Quantize(x))) and a
//    plain Quantize of it, which binary_max_pool and requantize finish. Not for a ternary (QuantizeLevels)
//    Sign, nor a scale <= 0 (a flipped compare turns the max into a min).
#include <cmath>

#include "ir/onebit_ops.h"
#include "rules/match.h"
#include "rules/rule_util.h"

namespace onebit::converter {
namespace {

bool has_residual(const Node& conv) { return conv.in(4) != kNoId; }

// A float BinaryConv2D output that only `reader` reads, foldable as a residual sum; kNoId otherwise.
NodeId residual_conv(const Graph& g, ValueId c, NodeId reader) {
  const Node* p = producer_of(g, c, ops::kBinaryConv2D);
  if (p == nullptr || g.value(c).dtype != DType::kFloat || g.sole_user(c) != reader) return kNoId;
  if (ops::layer_clamped(*p) || has_residual(*p) || writes_bits_too(*p)) return kNoId;
  return g.value(c).producer;
}

// Slot (0 or 1) of the Add operand that is a foldable conv output, or -1.
int residual_slot(const Graph& g, NodeId add) {
  const Node& a = g.node(add);
  if (a.inputs.size() != 2) return -1;
  const auto* ys = known_shape(g, a.out());
  if (ys == nullptr || ys->size() != 4) return -1;
  for (int k = 0; k < 2; ++k) {
    const ValueId c = a.in(size_t(k)), r = a.in(size_t(1 - k));
    const auto *rs = known_shape(g, r), *cs = known_shape(g, c);
    if (residual_conv(g, c, add) == kNoId || r == c || g.value(r).is_constant()) continue;
    if (g.value(r).dtype != DType::kFloat || rs == nullptr || cs == nullptr || *rs != *ys || *cs != *ys) continue;
    return k;
  }
  return -1;
}

bool residual_match(const Graph& g, NodeId id, const RewriteOptions&) { return residual_slot(g, id) >= 0; }

Status residual_apply(Graph& g, NodeId id, const RewriteOptions&, RewriteLog* log) {
  const int k = residual_slot(g, id);
  const ValueId c = g.node(id).in(size_t(k)), r = g.node(id).in(size_t(1 - k)), sum = g.node(id).out();
  const NodeId conv = g.value(c).producer;
  log->note(g.node(id).name, "residual input of binary conv '" + g.node(conv).name + "'");
  g.kill(id);
  g.set_input(conv, 4, r);
  g.replace_uses(sum, c);
  return Status::Ok();
}

// The BinaryConv2D whose float output the Quantize / QuantizeLevels reads, if it can write the bits / levels too.
bool quantize_match(const Graph& g, NodeId id, const RewriteOptions& o) {
  const Node& q = g.node(id);
  const ValueId y = q.in(0);
  const Node* p = producer_of(g, y, ops::kBinaryConv2D);
  if (o.float_reference || p == nullptr || g.value(y).dtype != DType::kFloat) return false;
  if (writes_bits_too(*p)) return false;  // one bits output per conv
  const auto* s = known_shape(g, y);
  return s != nullptr && s->size() == 4;
}

Status quantize_apply(Graph& g, NodeId id, const RewriteOptions&, RewriteLog* log) {
  const Node& q = g.node(id);
  const NodeId conv = g.value(q.in(0)).producer;
  const bool levels = q.op == ops::kQuantizeLevels;
  log->note(q.name, std::string("second output (") + (levels ? "FloatAndLevels" : "FloatAndBitPacked") +
                        ") of binary conv '" + g.node(conv).name + "'");
  if (levels) g.value(q.out()).levels = ops::quantize_levels_of(q);  // the conv's output 1 keeps them
  const ValueId scale = q.in(1), shift = q.in(2), bits = q.out();
  const std::string source = q.name;
  g.kill(id);
  if (scale != kNoId) g.set_input(conv, 5, scale);
  if (shift != kNoId) g.set_input(conv, 6, shift);
  Node& c = g.node(conv);
  c.outputs.resize(1);
  c.outputs.push_back(bits);
  c.attrs["bits_from"] = Attr::String(source);  // the summary reports the Sign as written by the conv
  g.value(bits).producer = conv;
  return Status::Ok();
}

bool pool_sign_match(const Graph& g, NodeId id, const RewriteOptions&) {
  const Node& q = g.node(id);
  const Node* m = producer_of(g, q.in(0), "MaxPool");
  if (m == nullptr || g.sole_user(q.in(0)) != id || (m->outputs.size() > 1 && m->outputs[1] != kNoId)) return false;
  const ValueId x = m->in(0);
  const auto* xs = known_shape(g, x);
  if (xs == nullptr || xs->size() != 4 || g.value(x).dtype != DType::kFloat || g.value(x).is_constant()) return false;
  if (producer_of(g, x, ops::kDequantize) != nullptr) return false;  // a pool of ±1 values: binary_max_pool's
  if (q.in(1) == kNoId) return true;
  const Tensor* s = g.constant(q.in(1));
  if (s == nullptr) return false;
  for (float v : s->f)
    if (!(v > 0.0f)) return false;
  return true;
}

Status pool_sign_apply(Graph& g, NodeId id, const RewriteOptions&, RewriteLog* log) {
  const NodeId pool = g.value(g.node(id).in(0)).producer;
  const ValueId x = g.node(pool).in(0);
  const std::string name = g.node(id).name;
  log->note(name, "moved before MaxPool '" + g.node(pool).name + "' (sign is monotone: the pool becomes binary)");
  std::vector<ValueId> in = g.node(id).inputs;
  in[0] = x;
  const ValueId bits = g.add_value(g.value(x).name + "/bits", DType::kBits);
  const NodeId early = g.add_node(ops::kQuantize, name + "/before_pool", in, {bits});
  g.node(early).attrs = g.node(id).attrs;
  const ValueId pm1 = g.add_value(g.value(x).name + "/pm1");
  g.add_node(ops::kDequantize, name + "/before_pool/dequantize", {bits}, {pm1});
  g.set_input(pool, 0, pm1);
  // The old Quantize now reads the max of ±1 values: a plain sign of a binary value (requantize removes it).
  for (size_t k = 1; k < in.size(); ++k) g.set_input(id, k, kNoId);
  g.node(id).inputs.resize(1);
  g.node(id).attrs.erase("folded_bn");
  return Status::Ok();
}

}  // namespace

void add_binary_fusion_rules(RuleList* rules) {
  add_rule(rules, "residual_into_binary_conv", "residual Adds folded into binary convs", {"Add"}, residual_match,
           residual_apply, true);
  add_rule(rules, "quantize_into_binary_conv",
           "Quantizes / QuantizeLevels written by binary convs (FloatAndBitPacked / FloatAndLevels)",
           {ops::kQuantize, ops::kQuantizeLevels}, quantize_match, quantize_apply, true);
  add_rule(rules, "sign_before_max_pool", "Sign moved before MaxPool (binary max pool)", {ops::kQuantize},
           pool_sign_match, pool_sign_apply);
}

}  // namespace onebit::converter
