// constant_fold: any node whose inputs are all constant is evaluated (converter/eval, as ONNX defines the
// op) and its outputs become constants; Shape and Size of a value whose shape is known fold too. So weights
// binarized inside the graph (Abs -> ReduceMean -> Mul(Sign(W)), STE Sub/Add on Clip(W), Log/Round/Pow
// power-of-two scales, ...) reach the binary-conv rule as one constant tensor, and Shape -> Gather ->
// Concat -> Reshape / Expand chains become constant shapes.
#include "evaluator/evaluate.h"
#include "ir/shape_inference.h"
#include "rules/rule_util.h"

namespace onebit::converter {
namespace {

bool foldable(const Graph& g, NodeId id, const RewriteOptions&) {
  const Node& n = g.node(id);
  if (n.op == "Shape" || n.op == "Size") return n.in(0) != kNoId && g.value(n.in(0)).shape_known;
  if (!can_evaluate(n.op) || n.inputs.empty()) return false;
  for (ValueId v : n.inputs)
    if (v != kNoId && !g.value(v).is_constant()) return false;
  return true;
}

Status fold(Graph& g, NodeId id, const RewriteOptions&, RewriteLog* log) {
  const Node& n = g.node(id);
  std::vector<Tensor> outs;
  if (n.op == "Shape" || n.op == "Size") {
    const std::vector<int64_t>& shape = g.value(n.in(0)).shape;
    if (n.op == "Size") {
      outs.push_back(Tensor::ints({}, {shape_elements(shape)}));
    } else {
      int64_t b, e;
      shape_op_range(n, int64_t(shape.size()), &b, &e);
      outs.push_back(Tensor::ints({e - b}, std::vector<int64_t>(shape.begin() + b, shape.begin() + e)));
    }
  } else {
    std::vector<const Tensor*> ins;
    for (ValueId v : n.inputs) ins.push_back(g.constant(v));
    ONEBIT_RETURN_IF_ERROR(evaluate_node(n, ins, &outs));
    if (outs.size() != n.outputs.size())
      return Status::Error(n.describe() + ": internal: the evaluator gave " + std::to_string(outs.size()) + " outputs");
  }
  for (size_t k = 0; k < n.outputs.size(); ++k) {
    const ValueId v = n.outputs[k];
    if (v == kNoId) continue;
    const Value& val = g.value(v);
    if (val.onnx_shape_known) {
      bool agree = val.onnx_shape.size() == outs[k].shape.size();
      for (size_t d = 0; agree && d < outs[k].shape.size(); ++d)
        agree = val.onnx_shape[d] < 0 || val.onnx_shape[d] == outs[k].shape[d];
      if (!agree)
        return Status::Error(n.describe() + ": evaluated output '" + val.name + "' has shape " + shape_str(outs[k].shape) +
                             " but ONNX's shape inference says " + shape_str(val.onnx_shape));
    }
  }
  const std::string name = n.name, op = n.op;
  const std::vector<ValueId> outputs = n.outputs;
  g.kill(id);
  for (size_t k = 0; k < outputs.size(); ++k)
    if (outputs[k] != kNoId) g.set_constant(outputs[k], std::move(outs[k]));
  log->folded.push_back(name + " (" + op + ")");
  log->note(name, "evaluated at conversion time");
  return Status::Ok();
}

}  // namespace

void add_fold_rules(RuleList* rules) {
  add_rule(rules, "constant_fold", "constant subexpressions evaluated", {}, foldable, fold);
}

}  // namespace onebit::converter
