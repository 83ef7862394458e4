// onebit's binary layers (ir/onebit_ops.h): BinaryConv2D, BinaryFullyConnected and BinaryMaxPool2D, which
// rules put in place of binarized Conv / Gemm / MaxPool subgraphs. The conv and the pool hold their geometry
// as the builder's parameter structs (Node::params); the FC's clamp and weight bits are attributes.
#include <cmath>

#include "ir/onebit_ops.h"
#include "ops/family.h"

namespace onebit::converter {
namespace ops {

float layer_clamp_min(const Node& n) { return n.op == kBinaryConv2D ? n.conv_params().clamp_min : n.f("clamp_min"); }
float layer_clamp_max(const Node& n) { return n.op == kBinaryConv2D ? n.conv_params().clamp_max : n.f("clamp_max"); }

void set_layer_clamp(Node* n, float lo, float hi) {
  if (n->op == kBinaryConv2D) {
    n->conv_params().clamp_min = lo;
    n->conv_params().clamp_max = hi;
  } else {
    n->attrs["clamp_min"] = Attr::Float(lo);
    n->attrs["clamp_max"] = Attr::Float(hi);
  }
}

bool layer_clamped(const Node& n) { return layer_clamp_min(n) > -INFINITY || layer_clamp_max(n) < INFINITY; }

int layer_weight_bits(const Node& n) {
  const int64_t bits = n.op == kBinaryConv2D ? n.conv_params().weight_bits : n.i("weight_bits");
  return bits > 1 ? int(bits) : 1;
}

}  // namespace ops

namespace opdefs {
namespace {

// Float output unless a Quantize was folded into the layer (rules/output_transform.cc marks the value bits).
DType layer_output(const Graph& g, const Node& n) {
  return g.value(n.out()).dtype == DType::kBits ? DType::kBits : DType::kFloat;
}

// Outputs: y (float, or bits when its params say bitpacked_output) and, once rules/binary_fusion.cc gave it
// one, the bits of y (which keep their dtype).
Status infer_binary_conv(const Graph& g, const Node& n, InferredShapes* out) {
  const BinaryConv2DParams& p = n.conv_params();
  int64_t out_c = 0;
  ONEBIT_RETURN_IF_ERROR(conv_out_channels(g, n, p.groups, &out_c));
  const std::vector<int64_t>& x = g.value(n.in(0)).shape;
  const std::vector<int64_t>& w = g.value(n.in(1)).shape;
  if (x.size() != 4 || w[2] != p.kernel_h || w[3] != p.kernel_w)
    return shape_error(n, "input " + shape_str(x) + " and weights " + shape_str(w) + " do not match its 2-D kernel " +
                              std::to_string(p.kernel_h) + "x" + std::to_string(p.kernel_w));
  out->shapes.assign(n.outputs.size(), window_2d_shape(x, out_c, p, p.dilation_h, p.dilation_w));
  out->dtype = p.bitpacked_output ? DType::kBits : DType::kFloat;
  out->typed_outputs = 1;
  return Status::Ok();
}

Status infer_binary_pool(const Graph& g, const Node& n, InferredShapes* out) {
  const std::vector<int64_t>& x = g.value(n.in(0)).shape;
  ONEBIT_RETURN_IF_ERROR(window_input(n, x));
  if (x.size() != 4) return shape_error(n, "input " + shape_str(x) + " is not NCHW");
  out->shapes.assign(n.outputs.size(), window_2d_shape(x, x[1], n.pool_params(), 1, 1));
  return Status::Ok();
}

Status infer_binary_fc(const Graph& g, const Node& n, InferredShapes* out) {
  out->dtype = layer_output(g, n);
  out->shapes.assign(1, {g.value(n.in(0)).shape[0], g.value(n.in(1)).shape[0]});
  return Status::Ok();
}

ValueFacts layer_zeros(const Graph& g, const Node& n, const std::vector<ValueFacts>& in) {
  return linear_zero_facts(g, n, in, 3);  // inputs x, w, multiplier, bias
}

}  // namespace

std::vector<OpDef> binary_layer_ops() {
  // The FC's output transform; the conv's is in its params (Node::conv_params).
  const std::vector<AttrSpec> fc = {F("clamp_min", -INFINITY), F("clamp_max", INFINITY), I("weight_bits", 1)};
  // bits_from: the Quantize whose bits became the conv's second output (named in the summary).
  const std::vector<AttrSpec> conv = {S("bits_from", "")};
  return {
      // op                       arity         attributes  shape              evaluate zero facts   emit
      {ops::kBinaryConv2D,         {4, 7, 1, 2}, conv,       infer_binary_conv, nullptr, layer_zeros, emit_by<&Emitter::emit_binary_conv>, false},
      {ops::kBinaryFullyConnected, In(4),        fc,         infer_binary_fc,   nullptr, layer_zeros, emit_by<&Emitter::emit_binary_fc>, false},
      {ops::kBinaryMaxPool2D,      In(1),        {},         infer_binary_pool, nullptr, nullptr,     emit_by<&Emitter::emit_binary_pool>, false},
  };
}

}  // namespace opdefs
}  // namespace onebit::converter
