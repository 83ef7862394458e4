// flatten_feature_order: onebit keeps feature maps NHWC, so flattening [N, C, H, W] gives features in
// (h, w, c) order where ONNX has (c, h, w). A Flatten / Reshape to [N, C*H*W] whose readers are all fully
// connected layers with constant weights (Gemm, MatMul, BinaryFullyConnected; also through Quantize /
// Dequantize / Relu / Clip, which act per feature) is marked `nhwc_order` and those weights' input columns
// (and the Quantize per-feature vectors) are permuted from (c, h, w) to (h, w, c) instead of moving data.
// Any other flatten of a spatial map is reported by the emitter.
#include "ir/onebit_ops.h"
#include "rules/match.h"
#include "rules/rule_util.h"

namespace onebit::converter {
namespace {

struct Readers {
  std::vector<NodeId> fc;        // Gemm / MatMul / BinaryFullyConnected reading the flattened features
  std::vector<NodeId> quantize;  // Quantizes with per-feature vectors on the way
};

bool collect(const Graph& g, ValueId v, Readers* r, int depth = 0) {
  if (g.value(v).graph_output || depth > 8) return false;
  const std::vector<NodeId> users = g.users(v);
  if (users.empty()) return false;
  for (NodeId u : users) {
    const Node& n = g.node(u);
    if (n.op == ops::kDequantize && g.users(n.out()).empty() && !g.value(n.out()).graph_output) continue;
    if (n.in(0) != v) return false;
    for (size_t k = 1; k < n.inputs.size(); ++k)
      if (n.inputs[k] == v) return false;
    if (n.op == "Gemm" || n.op == "MatMul") {
      const Tensor* b = g.constant(n.in(1));
      if (b == nullptr || b->shape.size() != 2 || (n.op == "Gemm" && n.i("transA"))) return false;
      r->fc.push_back(u);
    } else if (n.op == ops::kBinaryFullyConnected) {
      r->fc.push_back(u);
    } else if (n.op == ops::kQuantize || n.op == ops::kQuantizeLevels || n.op == ops::kDequantize || n.op == "Relu" ||
               n.op == "Clip" || n.op == "Sign") {
      if (n.op == ops::kQuantize || n.op == ops::kQuantizeLevels) r->quantize.push_back(u);
      if (!collect(g, n.out(), r, depth + 1)) return false;
    } else {
      return false;
    }
  }
  return true;
}

bool spatial_flatten(const Graph& g, const Node& n) {
  const auto* in = known_shape(g, n.in(0));
  const auto* out = known_shape(g, n.out());
  if (n.i("nhwc_order") || in == nullptr || out == nullptr || in->size() != 4 || out->size() != 2) return false;
  return (*in)[2] * (*in)[3] > 1 && (*out)[0] == (*in)[0] && (n.op != "Flatten" || n.i("axis") == 1);
}

bool layout_match(const Graph& g, NodeId id, const RewriteOptions&) {
  Readers r;
  return spatial_flatten(g, g.node(id)) && collect(g, g.node(id).out(), &r);
}

// Column permutation: new index (hw * C + c) takes old index (c * HW + hw).
std::vector<float> permute_columns(const std::vector<float>& w, int64_t rows, int64_t c, int64_t hw, bool rows_are_k) {
  std::vector<float> out(w.size());
  const int64_t k = c * hw;
  for (int64_t ch = 0; ch < c; ++ch)
    for (int64_t p = 0; p < hw; ++p) {
      const int64_t from = ch * hw + p, to = p * c + ch;
      for (int64_t r = 0; r < rows; ++r) {
        if (rows_are_k) out[size_t(to * rows + r)] = w[size_t(from * rows + r)];
        else out[size_t(r * k + to)] = w[size_t(r * k + from)];
      }
    }
  return out;
}

Status layout_apply(Graph& g, NodeId id, const RewriteOptions&, RewriteLog* log) {
  Readers r;
  collect(g, g.node(id).out(), &r);
  const auto& in = *known_shape(g, g.node(id).in(0));
  const int64_t c = in[1], hw = in[2] * in[3];
  for (NodeId f : r.fc) {
    const Node& n = g.node(f);
    const Tensor& b = *g.constant(n.in(1));
    // Gemm transB / BinaryFullyConnected: [out, K]; Gemm / MatMul: [K, out].
    const bool k_first = !(n.op == ops::kBinaryFullyConnected || (n.op == "Gemm" && n.i("transB")));
    const int64_t rows = k_first ? b.shape[1] : b.shape[0];
    if ((k_first ? b.shape[0] : b.shape[1]) != c * hw)
      return Status::Error(n.describe() + ": weights " + shape_str(b.shape) + " do not take the " + std::to_string(c * hw) +
                           " flattened features of " + g.node(id).describe());
    Tensor t = Tensor::floats(b.shape, permute_columns(b.f, rows, c, hw, k_first));
    g.set_input(f, 1, g.add_constant(g.value(n.in(1)).name + "/nhwc", std::move(t)));
    log->note(g.node(id).name, "Reshape (NCHW feature order kept by permuting the weights of '" + n.name + "')");
  }
  for (NodeId q : r.quantize)
    for (size_t k = 1; k < 3; ++k) {
      const ValueId v = g.node(q).in(k);
      if (v == kNoId || g.constant(v)->elements() != c * hw) continue;
      Tensor t = Tensor::floats(g.constant(v)->shape, permute_columns(g.constant(v)->f, 1, c, hw, false));
      g.set_input(q, k, g.add_constant(g.value(v).name + "/nhwc", std::move(t)));
    }
  g.node(id).attrs["nhwc_order"] = Attr::Int(1);
  return Status::Ok();
}

}  // namespace

void add_layout_rules(RuleList* rules) {
  add_rule(rules, "flatten_feature_order", "Flatten into FC kept in NCHW feature order (weights permuted)",
           {"Flatten", "Reshape"}, layout_match, layout_apply);
}

}  // namespace onebit::converter
