// Constant evaluation of ONNX nodes at conversion time: constant folding calls evaluate_node on a node
// whose inputs are all constant and replaces the node's outputs by the tensors it returns.
//
// The evaluator trusts nothing about its inputs beyond what the schema guarantees about attributes:
// ranks, axes, indices, shapes, dtypes and element counts are checked, and a violation is an error naming
// the node, so a malformed model is reported rather than folded into garbage (or a crash).
//
// Arithmetic follows ONNX: numpy broadcasting, float32 for float tensors (reductions, dot products and
// softmax sums accumulate in double and round once, so results do not depend on summation order), int64
// with two's-complement wrap for integer tensors, bool as 0/1.
#pragma once

#include <string>
#include <vector>

#include "ir/graph.h"
#include "ir/tensor.h"
#include "onebit/status.h"

namespace onebit::converter {

/// True when `op`'s op-table entry (ops/) can be evaluated.
bool can_evaluate(const std::string& op);

/// Evaluates ONNX node `n` whose inputs are all constant. inputs[k] is nullptr for an omitted optional
/// input. Fills one Tensor per node output (outputs->size() == n.outputs.size()). Computes as ONNX defines
/// the op (numpy broadcasting, float32 arithmetic for float tensors, int64 for integer tensors, bool as
/// 0/1), and checks everything it reads: ranks, axes in range, index bounds, shape compatibility, element
/// counts (never allocate more than 2^28 elements for one output: error instead), input dtypes. Errors name the
/// node and what was expected: "node 'x' (ReduceMean): cannot evaluate at conversion time: axis 5 is out of
/// range for a rank-4 input".
Status evaluate_node(const Node& n, const std::vector<const Tensor*>& inputs, std::vector<Tensor>* outputs);

/// What evaluating `n` costs in element operations, before it runs: every element of its inputs and outputs
/// (`output_shapes`, as shape inference gives them), plus one multiply-add per output element and inner
/// index for MatMul / Gemm. Saturates at INT64_MAX. Constant folding charges it to its budget (rules/fold.cc).
int64_t evaluation_work(const Node& n, const std::vector<const Tensor*>& inputs,
                        const std::vector<std::vector<int64_t>>& output_shapes);

}  // namespace onebit::converter
