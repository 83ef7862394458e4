// constant_fold: any node whose inputs are all constant is evaluated (converter/eval, as ONNX defines the
// op) and its outputs become constants; Shape and Size of a value whose shape is known fold too. So weights
// binarized inside the graph (Abs -> ReduceMean -> Mul(Sign(W)), STE Sub/Add on Clip(W), Log/Round/Pow
// power-of-two scales, ...) reach the binary-conv rule as one constant tensor, and Shape -> Gather ->
// Concat -> Reshape / Expand chains become constant shapes.
//
// Within a budget (RewriteOptions::max_fold_bytes, onebit-convert --max-fold-bytes): the folded constants
// still read may hold at most that many bytes at once (those nothing reads any more are freed), and all folds
// together may cost kFoldWorkPerByte element operations per byte of it. Both are checked before a node is
// evaluated, from its output shapes, so a file asking for gigabytes of constants or hours of arithmetic gets an
// error naming the node and the budget, never an allocation failure or a hang.
#include <cstdio>
#include <limits>

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

// "256 MiB", "1.5 GiB", "112 KiB", "1000 bytes".
std::string bytes_text(int64_t b) {
  char text[32];
  if (b >= (int64_t(1) << 30)) std::snprintf(text, sizeof text, "%.3g GiB", double(b) / double(int64_t(1) << 30));
  else if (b >= (int64_t(1) << 20)) std::snprintf(text, sizeof text, "%.3g MiB", double(b) / double(int64_t(1) << 20));
  else if (b >= (int64_t(1) << 10)) std::snprintf(text, sizeof text, "%.3g KiB", double(b) / double(int64_t(1) << 10));
  else std::snprintf(text, sizeof text, "%lld bytes", static_cast<long long>(b));
  return text;
}

// The fold budget, checked before `n` is evaluated: its outputs (their shapes inferred first, so nothing is
// allocated yet) must fit beside the folded constants still read, and its work within what is left.
// Folded constants nothing reads any more are freed first.
Status check_budget(Graph& g, const Node& n, const std::vector<const Tensor*>& ins, const RewriteOptions& o,
                    RewriteLog::FoldLedger* ledger, int64_t* out_bytes, int64_t* work) {
  std::vector<std::vector<int64_t>> shapes;
  *out_bytes = 0;
  for (ValueId v : n.outputs) {
    if (v == kNoId) continue;
    const Value& val = g.value(v);
    if (!val.shape_known)  // every op the evaluator folds has a shape function (tests/converter/op_table_test.cc)
      return Status::Error(n.describe() + ": internal: output '" + val.name + "' has no shape before folding");
    shapes.push_back(val.shape);
    const int64_t elements = shape_elements(val.shape);  // <= 2^31 - 1 (shape inference checked it)
    if (elements < 0) return Status::Error(n.describe() + ": internal: output '" + val.name + "' has no element count");
    *out_bytes += elements * (val.dtype == DType::kFloat ? 4 : 8);  // a few outputs of <= 2^34 bytes: no overflow
  }
  auto& alive = ledger->alive;
  for (size_t k = 0; k < alive.size();) {
    if (g.release_constant(alive[k].first) > 0 || !g.value(alive[k].first).is_constant()) {
      ledger->bytes_alive -= alive[k].second;
      alive[k] = alive.back();
      alive.pop_back();
    } else {
      ++k;
    }
  }
  const int64_t max_bytes = o.max_fold_bytes;
  if (*out_bytes > max_bytes - ledger->bytes_alive)
    return Status::Error(n.describe() + ": constant folding would hold " + bytes_text(ledger->bytes_alive + *out_bytes) +
                         " of folded constants at once (this node's outputs: " + bytes_text(*out_bytes) +
                         "), more than the fold budget of " + bytes_text(max_bytes) + "; --max-fold-bytes raises it");
  *work = evaluation_work(n, ins, shapes);
  const int64_t max_work = max_bytes > std::numeric_limits<int64_t>::max() / kFoldWorkPerByte
                               ? std::numeric_limits<int64_t>::max()
                               : max_bytes * kFoldWorkPerByte;
  if (*work > max_work - ledger->work_done)
    return Status::Error(n.describe() + ": constant folding would cost " + std::to_string(*work) +
                         " more element operations after " + std::to_string(ledger->work_done) + "; the fold budget allows " +
                         std::to_string(max_work) + " in all (" + std::to_string(kFoldWorkPerByte) +
                         " per byte of --max-fold-bytes, which raises it)");
  return Status::Ok();
}

Status fold(Graph& g, NodeId id, const RewriteOptions& o, RewriteLog* log) {
  // Output shapes (and dtypes) first: nodes whose shape-giving inputs were folded this round get them now.
  ONEBIT_RETURN_IF_ERROR(infer_shapes_of(&g, {id}));
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
    int64_t out_bytes, work;
    ONEBIT_RETURN_IF_ERROR(check_budget(g, n, ins, o, &log->fold, &out_bytes, &work));
    ONEBIT_RETURN_IF_ERROR(evaluate_node(n, ins, &outs));
    if (outs.size() != n.outputs.size())
      return Status::Error(n.describe() + ": internal: the evaluator gave " + std::to_string(outs.size()) + " outputs");
    log->fold.work_done += work;
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
  for (size_t k = 0; k < outputs.size(); ++k) {
    if (outputs[k] == kNoId) continue;
    const int64_t bytes = outs[k].bytes();
    g.set_constant(outputs[k], std::move(outs[k]));
    log->fold.alive.emplace_back(outputs[k], bytes);
    log->fold.bytes_alive += bytes;
  }
  log->folded.push_back(name + " (" + op + ")");
  log->note(name, "evaluated at conversion time");
  return Status::Ok();
}

}  // namespace

void add_fold_rules(RuleList* rules) {
  add_rule(rules, "constant_fold", "constant subexpressions evaluated", {}, foldable, fold);
}

}  // namespace onebit::converter
