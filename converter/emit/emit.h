// Emission: a plain walk over the rewritten IR in topological order, one ModelBuilder call (or a few) per
// node. Every node left must be an onebit op or a full-precision ONNX op the runtime has; anything else is
// an error naming the node. Layout: ONNX NCHW feature maps become NHWC ([N, C, H, W] -> [N, H, W, C]);
// [N, C] stays [N, C], and a [N, C, 1, 1] map is [N, C] or [N, 1, 1, C] as the consumer needs. A flatten of a
// spatial map must carry `nhwc_order` (rules/layout.cc permuted its readers' weights).
// Float reference: binary layers become Dequantize -> float Conv / FC with the ±1 weights (zero pads are
// the conv's own, ±1 pads an explicit Pad) -> ChannelAffine(multiplier, bias) -> Clamp; bits outputs a
// plain Quantize of that; binary max pools float max pools of ±1 values.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "onebit/builder/model_builder.h"
#include "onebit/status.h"

namespace onebit::converter {

struct EmitOptions {
  bool float_reference = false;
};

struct EmitReport {
  std::map<std::string, std::string> emitted;  // node name -> what it became ("binary BinaryConv2D", ...)
  int64_t binary_macs = 0;
  int64_t float_macs = 0;
  int binary_convs = 0, binary_fcs = 0;
  std::map<std::string, int> kbit_layers;  // "W1A2", "W2A4", "W1 ternary", ... -> binary layers of that kind
  int quantize_levels = 0;                 // k-bit / ternary activation quantizers
  int bwn_layers = 0;                      // float layers with 1-bit weights + scale (BWN)
  int64_t bwn_float_bytes = 0, bwn_packed_bytes = 0;  // their weights as float32 / as stored
};

Status emit_model(const Graph& g, const EmitOptions& options, ModelBuilder* builder, EmitReport* report);

/// An ONNX NCHW (or [N, C]) shape in onebit's NHWC order.
std::vector<int> nhwc(const std::vector<int64_t>& onnx_shape);

}  // namespace onebit::converter
