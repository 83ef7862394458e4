// onebit's binary layers (ir/onebit_ops.h): BinaryConv2D, BinaryFullyConnected and BinaryMaxPool2D, which
// rules put in place of binarized Conv / Gemm / MaxPool subgraphs. Each holds its parameters as the builder's
// parameter struct (Node::params), so geometry, clamp and weight bits are written once.
#include <cmath>

#include "ir/onebit_ops.h"
#include "ops/family.h"

namespace onebit::converter {
namespace ops {

float layer_clamp_min(const Node& n) {
  return n.op == kBinaryConv2D ? n.conv_params().clamp_min : n.fc_params().clamp_min;
}
float layer_clamp_max(const Node& n) {
  return n.op == kBinaryConv2D ? n.conv_params().clamp_max : n.fc_params().clamp_max;
}

void set_layer_clamp(Node* n, float lo, float hi) {
  float& min = n->op == kBinaryConv2D ? n->conv_params().clamp_min : n->fc_params().clamp_min;
  float& max = n->op == kBinaryConv2D ? n->conv_params().clamp_max : n->fc_params().clamp_max;
  min = lo;
  max = hi;
}

bool layer_clamped(const Node& n) { return layer_clamp_min(n) > -INFINITY || layer_clamp_max(n) < INFINITY; }

int layer_weight_bits(const Node& n) {
  const int bits = n.op == kBinaryConv2D ? n.conv_params().weight_bits : n.fc_params().weight_bits;
  return bits > 1 ? bits : 1;
}

void set_layer_bitpacked_output(Node* n) {
  if (n->op == kBinaryConv2D) n->conv_params().bitpacked_output = true;
  else n->fc_params().bitpacked_output = true;
}

}  // namespace ops

namespace opdefs {
namespace {

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

// Float output unless rules/output_transform.cc folded a Quantize into the layer (bitpacked_output).
Status infer_binary_fc(const Graph& g, const Node& n, InferredShapes* out) {
  out->dtype = n.fc_params().bitpacked_output ? DType::kBits : DType::kFloat;
  out->shapes.assign(1, {g.value(n.in(0)).shape[0], g.value(n.in(1)).shape[0]});
  return Status::Ok();
}

ValueFacts binary_layer_zeros(const Graph& g, const Node& n, const std::vector<ValueFacts>& in) {
  return linear_zero_facts(g, n, in, 3);  // inputs x, w, multiplier, bias
}

}  // namespace

std::vector<OpDef> binary_layer_ops() {
  // bits_from: the Quantize whose bits became the conv's second output (named in the summary).
  const std::vector<AttrSpec> conv = {S("bits_from", "")};
  return {
      // op                       arity         attributes  shape              evaluate zero facts   emit
      {ops::kBinaryConv2D,         {4, 7, 1, 2}, conv,       infer_binary_conv, nullptr, binary_layer_zeros, emit_by<&Emitter::emit_binary_conv>, false},
      {ops::kBinaryFullyConnected, In(4),        {},         infer_binary_fc,   nullptr, binary_layer_zeros, emit_by<&Emitter::emit_binary_fc>, false},
      {ops::kBinaryMaxPool2D,      In(1),        {},         infer_binary_pool, nullptr, nullptr,     emit_by<&Emitter::emit_binary_pool>, false},
  };
}

}  // namespace opdefs
}  // namespace onebit::converter
