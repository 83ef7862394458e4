#include "audit.h"

#include <set>

#include "evaluator/evaluate.h"
#include "ir/onebit_ops.h"
#include "rules/lowbit.h"
#include "rules/match.h"

namespace onebit::converter {
namespace {

// True if `v` is a binary (or, with *levels, a k-bit) activation seen through Pad and no-op reshapes.
bool reads_bits(const Graph& g, ValueId v, bool* levels = nullptr) {
  for (int depth = 0; depth < 16 && v != kNoId; ++depth) {
    const Node* p = g.producer(v);
    if (p == nullptr) return false;
    if (p->op == ops::kDequantize) {
      if (levels) *levels = g.value(p->in(0)).dtype == DType::kLevels;
      return true;
    }
    if (p->op != "Pad" && p->op != "Reshape" && p->op != "Flatten" && p->op != "Squeeze" && p->op != "Unsqueeze") return false;
    v = p->in(0);
  }
  return false;
}

std::string weight_problem(const Graph& g, const Node& n) {
  const ValueId w = n.in(1);
  const Tensor* t = g.constant(w);
  if (t == nullptr) return "its weights '" + g.value(w).name + "' are not a constant: " + why_not_constant(g, w);
  if (n.op != "Conv" && (g.value(n.in(0)).shape.size() != 2 || t->shape.size() != 2))
    return "it is not a [N, K] x [K, M] product (input " + shape_str(g.value(n.in(0)).shape) + ", weights " + shape_str(t->shape) + ")";
  if (n.op == "Gemm" && n.i("transA")) return "transA=1 is not supported";
  if (!t->is_float()) return std::string("its weights are ") + dtype_name(t->dtype) + ", not float";
  // The same test the binary rules apply, for its message.
  std::vector<float> rows = t->f, signs, magnitudes;
  int64_t out = t->shape.empty() ? 0 : t->shape[0], k = 0;
  if (n.op != "Conv") fc_weight_matrix(g, n, &rows, &out, &k);
  std::string why;
  if (!split_weight_levels(rows, out, 2, &signs, &magnitudes, &why)) return "its weights are not binary or 2-bit: " + why;
  if (n.in(2) != kNoId && g.constant(n.in(2)) == nullptr) return "its bias is not a constant: " + why_not_constant(g, n.in(2));
  return "its geometry or input is not supported by the binary rules";
}

}  // namespace

std::string why_not_constant(const Graph& g, ValueId v) {
  std::vector<ValueId> stack = {v};
  std::set<ValueId> seen;
  while (!stack.empty()) {
    const ValueId x = stack.back();
    stack.pop_back();
    if (x == kNoId || !seen.insert(x).second || g.value(x).is_constant()) continue;
    if (g.value(x).graph_input) return "it depends on graph input '" + g.value(x).name + "'";
    const Node* p = g.producer(x);
    if (p == nullptr) continue;
    bool inputs_constant = true;
    for (ValueId in : p->inputs) inputs_constant = inputs_constant && (in == kNoId || g.value(in).is_constant());
    if (inputs_constant)
      return p->describe() + " could not be evaluated at conversion time" +
             (can_evaluate(p->op) ? std::string() : " (onebit-convert cannot evaluate " + p->op + ")");
    for (ValueId in : p->inputs) stack.push_back(in);
  }
  return "its value depends on the input";
}

Status audit_binary_layers(const Graph& g, bool strict, std::vector<std::string>* warnings) {
  std::vector<NodeId> order;
  g.topo_order(&order);
  for (NodeId id : order) {
    const Node& n = g.node(id);
    if (n.op == "Round" || n.op == "QuantizeLinear" || n.op == "DequantizeLinear") {
      // Never approximated: a quantizer that is not a k-bit QuantizeLevels has no onebit operator.
      if (n.op == "QuantizeLinear") {
        bool dq = false;
        for (NodeId u : g.users(n.out())) dq = dq || g.node(u).op == "DequantizeLinear" || g.node(u).op == "Clip";
        if (dq) continue;  // reported at its DequantizeLinear
      }
      return Status::Error(n.describe() + ": a quantizer onebit-convert does not recognize as a k-bit activation: " +
                           why_not_quantizer(g, id) +
                           ". onebit has no float Round / QuantizeLinear operator, so it cannot stay float either "
                           "(recognized: clamp -> scale -> round -> rescale with 2..16 levels, see README 'Low-bit schemes')");
    }
    if (n.op != "Conv" && n.op != "Gemm" && n.op != "MatMul") continue;
    bool levels = false;
    if (!reads_bits(g, n.in(0), &levels)) continue;
    const std::string why = weight_problem(g, n);
    if (levels) {
      // A k-bit activation is exact as floats (level_scale * L): the layer stays float and says so.
      const std::string w = n.describe() + " reads a k-bit activation but stays float: " + why;
      if (strict) return Status::Error(w + " (--strict)");
      warnings->push_back(w);
      continue;
    }
    if (n.op == "Conv") return Status::Error(n.describe() + ": its input is a binary activation (Sign) but " + why);
    const std::string w = n.describe() + " reads a binary activation (Sign) but stays float: " + why;
    if (strict) return Status::Error(w + " (--strict)");
    warnings->push_back(w);
  }
  return Status::Ok();
}

}  // namespace onebit::converter
