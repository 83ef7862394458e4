// Shape and dtype inference over the IR, run after every round of rewrites. For each live node whose input
// shapes are known it computes output shapes per the ONNX definition (or onebit_ops.h) and checks them
// against the shapes ONNX's own inference or the file stated (Value::onnx_shape): a disagreement in a known
// dim is an error naming the node and both shapes, never a silently different model. Ops it cannot infer
// (or whose shape-giving inputs are not constant yet) leave their outputs unknown; constant folding and
// later rounds resolve them, and the emitter reports any that stay unknown.
#pragma once

#include "ir/graph.h"
#include "onebit/core/shape_math.h"
#include "onebit/status.h"

namespace onebit::converter {

Status infer_shapes(Graph* g);
/// The same for just these nodes, in the order given (producers first): after a rewrite, the nodes it added.
Status infer_shapes_of(Graph* g, const std::vector<NodeId>& nodes);

/// The dims [*begin, *end) of a rank-`rank` input that Shape's start/end attributes select (opset 15:
/// negative values count from the end, both clamped to [0, rank]; an empty range when end <= start).
void shape_op_range(const Node& shape_node, int64_t rank, int64_t* begin, int64_t* end);

/// One axis of a Slice (ONNX opset 13), for an axis of `dim` entries and file-given start, end and step
/// (step != 0; any int64, the extremes included): negative start / end count from the end, then clamp to
/// [0, dim] (step > 0) or start to [0, dim - 1] and end to [-1, dim - 1] (step < 0). *first is the first
/// index read, *count how many (0 .. dim). No arithmetic can overflow.
void slice_axis(int64_t dim, int64_t start, int64_t end, int64_t step, int64_t* first, int64_t* count);

/// NumPy broadcasting of two shapes: core::broadcast_shapes (core/include/onebit/core/shape_math.h), for
/// int64 dims (so braced lists convert).
inline bool broadcast_shapes(const std::vector<int64_t>& a, const std::vector<int64_t>& b, std::vector<int64_t>* out) {
  return core::broadcast_shapes(a, b, out);
}

}  // namespace onebit::converter
