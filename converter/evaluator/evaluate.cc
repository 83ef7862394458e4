#include "evaluator/evaluate.h"

#include <limits>

#include "evaluator/eval_util.h"
#include "ir/checked_int.h"
#include "ops/op_def.h"

namespace onebit::converter {
namespace {

using namespace eval;

// What every op relies on before it runs: arity as the schema declares it, required inputs present,
// every input well-formed (data matching its shape, bools 0/1, no onebit-only dtype).
Status check_inputs(const Node& n, const Arity& s, const Inputs& in, size_t outputs) {
  if (in.size() != n.inputs.size())
    return fail(n, "given " + std::to_string(in.size()) + " input tensors for " +
                       std::to_string(n.inputs.size()) + " inputs");
  if (int64_t(in.size()) < s.min_inputs || int64_t(in.size()) > s.max_inputs)
    return fail(n, "has " + std::to_string(in.size()) + " inputs, expected " + std::to_string(s.min_inputs) +
                       (s.max_inputs == s.min_inputs ? std::string()
                                                     : " to " + std::to_string(s.max_inputs)));
  if (int64_t(outputs) < s.min_outputs || int64_t(outputs) > s.max_outputs)
    return fail(n, "has " + std::to_string(outputs) + " outputs, expected " + std::to_string(s.min_outputs) +
                       (s.max_outputs == s.min_outputs ? std::string()
                                                       : " to " + std::to_string(s.max_outputs)));
  const bool variadic = s.max_inputs == kManyInputs;
  for (size_t k = 0; k < in.size(); ++k) {
    const Tensor* t = in[k];
    if (!t) {
      if (variadic || int64_t(k) < s.min_inputs) return fail(n, input_name(k) + " is required but omitted");
      continue;
    }
    if (t->dtype == DType::kBits || t->dtype == DType::kLevels) return fail(n, input_name(k) + " is a binary (bits) value, not an ONNX tensor");
    if (!t->consistent())
      return fail(n, input_name(k) + " holds " + std::to_string(t->is_float() ? t->f.size() : t->i.size()) +
                         " elements, its shape " + shape_str(t->shape) + " implies " +
                         std::to_string(t->elements()));
    if (t->dtype == DType::kBool)
      for (int64_t v : t->i)
        if (v != 0 && v != 1) return fail(n, input_name(k) + " is bool but holds " + std::to_string(v));
  }
  return Status::Ok();
}

}  // namespace

bool can_evaluate(const std::string& op) {
  const OpDef* d = find_op(op);
  return d != nullptr && d->eval != nullptr;
}

Status evaluate_node(const Node& n, const std::vector<const Tensor*>& inputs, std::vector<Tensor>* outputs) {
  outputs->assign(n.outputs.size(), Tensor());
  const OpDef* d = find_op(n.op);
  if (d == nullptr || d->eval == nullptr) return fail(n, "the evaluator does not implement " + n.op);
  ONEBIT_RETURN_IF_ERROR(check_inputs(n, d->arity, inputs, n.outputs.size()));
  ONEBIT_RETURN_IF_ERROR(d->eval(n, inputs, outputs));
  for (size_t k = 0; k < outputs->size(); ++k)
    if (n.outputs[k] != kNoId && !(*outputs)[k].consistent())  // an evaluator bug, not a model problem; never hand it on
      return fail(n, "internal error: output " + std::to_string(k) + " is inconsistent with its shape");
  return Status::Ok();
}

int64_t evaluation_work(const Node& n, const std::vector<const Tensor*>& inputs,
                        const std::vector<std::vector<int64_t>>& output_shapes) {
  CheckedInt work = 0;
  for (const Tensor* t : inputs)
    if (t != nullptr) work += t->elements();
  int64_t out_elements = 0;
  for (const auto& s : output_shapes) {
    const int64_t e = shape_elements(s);
    if (e < 0) return std::numeric_limits<int64_t>::max();
    out_elements += e;  // each at most 2^62, and there are few
  }
  work += out_elements;
  // The inner dimension K of A: MatMul [.., M, K] (or [K]); Gemm [M, K] or, transposed, [K, M].
  const Tensor* a = inputs.empty() ? nullptr : inputs[0];
  if (a != nullptr && !a->shape.empty() && (n.op == "MatMul" || n.op == "Gemm")) {
    const bool ta = n.op == "Gemm" && n.i("transA") != 0 && a->shape.size() == 2;
    work += CheckedInt(out_elements) * (ta ? a->shape[0] : a->shape.back());
  }
  // TopK orders each column along its axis: about log2(size) comparisons per element read.
  if (a != nullptr && !a->shape.empty() && n.op == "TopK") {
    int64_t levels = 1;
    for (int64_t d = 1; d < a->elements(); d *= 2) ++levels;
    work += CheckedInt(a->elements()) * levels;
  }
  return work.ok() ? work.value() : std::numeric_limits<int64_t>::max();
}

}  // namespace onebit::converter
