#include "evaluator/evaluate.h"

#include <limits>
#include <map>

#include "evaluator/eval_util.h"
#include "onnx/op_schema.h"

namespace onebit::converter {
namespace {

using namespace eval;

const std::map<std::string, EvalFn>& table() {
  static const std::map<std::string, EvalFn> t = {
      {"Abs", eval_unary}, {"Neg", eval_unary}, {"Sign", eval_unary}, {"Sqrt", eval_unary},
      {"Exp", eval_unary}, {"Log", eval_unary}, {"Round", eval_unary}, {"Floor", eval_unary},
      {"Ceil", eval_unary}, {"Reciprocal", eval_unary}, {"Tanh", eval_unary}, {"Sigmoid", eval_unary},
      {"HardSigmoid", eval_unary}, {"Erf", eval_unary}, {"Relu", eval_unary}, {"LeakyRelu", eval_unary},
      {"PRelu", eval_prelu}, {"Clip", eval_clip},
      {"Add", eval_binary}, {"Sub", eval_binary}, {"Mul", eval_binary}, {"Div", eval_binary},
      {"Mod", eval_binary}, {"Pow", eval_binary},
      {"Min", eval_variadic}, {"Max", eval_variadic}, {"Sum", eval_variadic}, {"Mean", eval_variadic},
      {"Where", eval_where},
      {"Equal", eval_compare}, {"Less", eval_compare}, {"LessOrEqual", eval_compare},
      {"Greater", eval_compare}, {"GreaterOrEqual", eval_compare},
      {"And", eval_logical}, {"Or", eval_logical}, {"Xor", eval_logical}, {"Not", eval_logical},
      {"ReduceMean", eval_reduce}, {"ReduceSum", eval_reduce}, {"ReduceMax", eval_reduce},
      {"ReduceMin", eval_reduce}, {"ReduceProd", eval_reduce}, {"ReduceL1", eval_reduce},
      {"ReduceL2", eval_reduce}, {"ReduceSumSquare", eval_reduce},
      {"Softmax", eval_softmax}, {"LogSoftmax", eval_softmax}, {"BatchNormalization", eval_batchnorm},
      {"MatMul", eval_matmul}, {"Gemm", eval_gemm},
      {"Shape", eval_shape}, {"Size", eval_size}, {"Reshape", eval_reshape}, {"Squeeze", eval_squeeze},
      {"Unsqueeze", eval_unsqueeze}, {"Flatten", eval_flatten}, {"Transpose", eval_transpose},
      {"Expand", eval_expand}, {"Tile", eval_tile}, {"ConstantOfShape", eval_constant_of_shape},
      {"Range", eval_range},
      {"Gather", eval_gather}, {"Slice", eval_slice}, {"Concat", eval_concat}, {"Split", eval_split},
      {"Cast", eval_cast}, {"CastLike", eval_cast}, {"Identity", eval_identity}, {"Dropout", eval_dropout},
  };
  return t;
}

// What every op relies on before it runs: arity as the schema declares it, required inputs present,
// every input well-formed (data matching its shape, bools 0/1, no onebit-only dtype).
Status check_inputs(const Node& n, const OpSchema& s, const Inputs& in, size_t outputs) {
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
  const bool variadic = s.max_inputs == std::numeric_limits<int>::max();
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

bool can_evaluate(const std::string& op) { return table().count(op) != 0; }

Status evaluate_node(const Node& n, const std::vector<const Tensor*>& inputs, std::vector<Tensor>* outputs) {
  outputs->assign(n.outputs.size(), Tensor());
  auto it = table().find(n.op);
  const OpSchema* s = find_schema(n.op);
  if (it == table().end() || !s) return fail(n, "the evaluator does not implement " + n.op);
  if (Status st = check_inputs(n, *s, inputs, n.outputs.size()); !st.ok()) return st;
  Status st = it->second(n, inputs, outputs);
  if (!st.ok()) return st;
  for (size_t k = 0; k < outputs->size(); ++k)
    if (n.outputs[k] != kNoId && !(*outputs)[k].consistent())  // an evaluator bug, not a model problem; never hand it on
      return fail(n, "internal error: output " + std::to_string(k) + " is inconsistent with its shape");
  return Status::Ok();
}

}  // namespace onebit::converter
