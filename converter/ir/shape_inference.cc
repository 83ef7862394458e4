#include "ir/shape_inference.h"

#include <algorithm>

#include "ir/onebit_ops.h"
#include "ops/op_def.h"

namespace onebit::converter {

void shape_op_range(const Node& n, int64_t rank, int64_t* begin, int64_t* end) {
  int64_t b = n.i("start"), e = std::min<int64_t>(n.i("end"), rank);
  if (b < 0) b += rank;
  if (e < 0) e += rank;
  *begin = std::clamp<int64_t>(b, 0, rank);
  *end = std::clamp<int64_t>(e, *begin, rank);
}

void slice_axis(int64_t dim, int64_t start, int64_t end, int64_t step, int64_t* first, int64_t* count) {
  // start + dim cannot overflow: start < 0 <= dim.
  int64_t s = start < 0 ? start + dim : start;
  int64_t e = end < 0 ? end + dim : end;
  *first = 0;
  *count = 0;
  // |step| in uint64: exact even for INT64_MIN. The distances below are at most dim.
  const uint64_t magnitude = step < 0 ? 0 - uint64_t(step) : uint64_t(step);
  if (step > 0) {
    s = std::clamp<int64_t>(s, 0, dim);
    e = std::clamp<int64_t>(e, 0, dim);
    if (e > s) *count = int64_t(1 + uint64_t(e - s - 1) / magnitude);
  } else if (dim > 0) {
    s = std::clamp<int64_t>(s, 0, dim - 1);
    e = std::clamp<int64_t>(e, -1, dim - 1);
    if (s > e) *count = int64_t(1 + uint64_t(s - e - 1) / magnitude);
  }
  if (*count > 0) *first = s;
}

namespace {

// Infers the outputs of one node whose input shapes are known (no-op otherwise).
// The op's shape function (ops/) computes them; ops without one leave their outputs unknown.
Status infer_node(Graph& g, NodeId id) {
  const Node& n = g.node(id);
  if (n.dead) return Status::Ok();
  bool inputs_known = true;
  for (ValueId v : n.inputs) inputs_known = inputs_known && (v == kNoId || g.value(v).shape_known);
  if (!inputs_known) return Status::Ok();
  const OpDef* def = find_op(n.op);
  if (def == nullptr || def->infer == nullptr) return Status::Ok();
  InferredShapes inferred;
  inferred.dtype = n.inputs.empty() || n.in(0) == kNoId ? DType::kFloat : g.value(n.in(0)).dtype;
  ONEBIT_RETURN_IF_ERROR(def->infer(g, n, &inferred));
  if (!inferred.known) return Status::Ok();
  const std::vector<std::vector<int64_t>>& shapes = inferred.shapes;
  const DType dtype = inferred.dtype;
  for (size_t k = 0; k < n.outputs.size() && k < shapes.size(); ++k) {
    if (n.outputs[k] == kNoId) continue;
    Value& v = g.value(n.outputs[k]);
    for (int64_t d : shapes[k])
      if (d < 0 || d > (int64_t(1) << 31) - 1)
        return Status::Error(n.describe() + ": output '" + v.name + "' would have shape " + shape_str(shapes[k]) +
                             "; dims must be 0 .. 2^31-1");
    const int64_t elements = shape_elements(shapes[k]);
    if (elements < 0 || elements > (int64_t(1) << 31) - 1)
      return Status::Error(n.describe() + ": output '" + v.name + "' would have shape " + shape_str(shapes[k]) +
                           ", more than 2^31 - 1 elements");
    if (v.onnx_shape_known) {
      bool agree = v.onnx_shape.size() == shapes[k].size();
      for (size_t d = 0; agree && d < shapes[k].size(); ++d)
        agree = v.onnx_shape[d] < 0 || v.onnx_shape[d] == shapes[k][d];
      if (!agree)
        return Status::Error(n.describe() + ": output '" + v.name + "' has shape " + shape_str(shapes[k]) +
                             " by onebit's inference but " + shape_str(v.onnx_shape) +
                             " by ONNX's; the converter will not guess which is right");
    }
    v.shape = shapes[k];
    v.shape_known = true;
    if (!v.is_constant() && k < inferred.typed_outputs) v.dtype = dtype;
    if (inferred.levels && !v.is_constant()) v.levels = *inferred.levels;
  }
  return Status::Ok();
}

}  // namespace

namespace ops {

Levels quantize_levels_of(const Node& n) {
  Levels l;
  l.kind = LevelKind::kUnipolar;  // the attribute's default; rules write only core::level_kind_key() values
  core::parse_level_kind(n.s("kind"), &l.kind);
  l.bits = int(n.i("bits"));
  l.zero_level = int(n.i("zero_level"));
  l.scale = n.has("level_scale") ? n.f("level_scale") : 1.0f;
  return l;
}

void set_quantize_levels(Node* n, const Levels& l) {
  n->attrs["kind"] = Attr::String(core::level_kind_key(l.kind));
  n->attrs["bits"] = Attr::Int(l.bits);
  n->attrs["zero_level"] = Attr::Int(l.zero_level);
  n->attrs["level_scale"] = Attr::Float(l.scale);
}

}  // namespace ops

Status infer_shapes(Graph* graph) {
  Graph& g = *graph;
  std::vector<NodeId> order;
  std::string cycle;
  if (!g.topo_order(&order, &cycle)) return Status::Error(cycle + ": the graph has a cycle");
  for (NodeId id : order) ONEBIT_RETURN_IF_ERROR(infer_node(g, id));
  return Status::Ok();
}

Status infer_shapes_of(Graph* graph, const std::vector<NodeId>& nodes) {
  for (NodeId id : nodes) ONEBIT_RETURN_IF_ERROR(infer_node(*graph, id));
  return Status::Ok();
}

}  // namespace onebit::converter
