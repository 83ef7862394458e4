// onebit's binary layers (ir/onebit_ops.h): BinaryConv2D, BinaryFullyConnected and BinaryMaxPool2D, which
// rules put in place of binarized Conv / Gemm / MaxPool subgraphs. Their geometry is explicit 2-D.
#include <cmath>

#include "ir/onebit_ops.h"
#include "ops/family.h"

namespace onebit::converter::opdefs {
namespace {

// Float output unless a Quantize was folded into the layer (rules/output_transform.cc marks the value bits).
DType layer_output(const Graph& g, const Node& n) {
  return g.value(n.out()).dtype == DType::kBits ? DType::kBits : DType::kFloat;
}

// Outputs: y (float or bits) and, once rules/binary_fusion.cc gave it one, the bits of y (which keep their dtype).
Status infer_binary_conv(const Graph& g, const Node& n, InferredShapes* out) {
  ONEBIT_RETURN_IF_ERROR(infer_window(g, n, true, true, out));
  out->dtype = layer_output(g, n);
  out->typed_outputs = 1;
  return Status::Ok();
}

Status infer_binary_pool(const Graph& g, const Node& n, InferredShapes* out) {
  return infer_window(g, n, false, true, out);
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
  const std::vector<AttrSpec> transform = {F("clamp_min", -INFINITY), F("clamp_max", INFINITY), I("weight_bits", 1)};
  // bits_from: the Quantize whose bits became the conv's second output (named in the summary).
  std::vector<AttrSpec> conv = {Is("strides"), Is("dilations"), Is("pads"), I("group", 1), S("pad_mode", core::pad_mode_name(core::PadMode::kZero)),
                                S("bits_from", "")};
  conv.insert(conv.end(), transform.begin(), transform.end());
  return {
      // op                       arity         attributes  shape              evaluate zero facts   emit
      {ops::kBinaryConv2D,         {4, 7, 1, 2}, conv,       infer_binary_conv, nullptr, layer_zeros, emit_by<&Emitter::emit_binary_conv>, false},
      {ops::kBinaryFullyConnected, In(4),        transform,  infer_binary_fc,   nullptr, layer_zeros, emit_by<&Emitter::emit_binary_fc>, false},
      {ops::kBinaryMaxPool2D,      In(1),        {Is("kernel_shape"), Is("strides"), Is("pads")},
                                                             infer_binary_pool, nullptr, nullptr,     emit_by<&Emitter::emit_binary_pool>, false},
  };
}

}  // namespace onebit::converter::opdefs
