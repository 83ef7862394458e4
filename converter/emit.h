// Emission: turns the graph plus the passes' Plan into ModelBuilder calls, demand-driven from the graph
// outputs (a node is emitted only if some output needs its value, so folded nodes simply never are).
// Layout: ONNX NCHW feature maps become NHWC ([N, C, H, W] -> [N, H, W, C]); weights stay OIHW here (the
// builder repacks); [N, C] stays [N, C] and a [N, C, 1, 1] map (global pooling) is [N, C] or [N, 1, 1, C]
// as the consumer needs. A Flatten / Reshape of a spatial map only feeds a Gemm / MatMul, whose weight
// columns are then permuted from C·H·W to H·W·C order; any other consumer is rejected.
// Float reference: binary convs become Dequantize -> float Conv with the ±1 weights (zero pads are the
// conv's own, ±1 pads an explicit Pad) -> ChannelAffine(multiplier, bias) -> Clamp; bitpacked outputs a
// plain Quantize of that; binary max pools float max pools of ±1 values.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "graph.h"
#include "onebit/builder.h"
#include "onebit/status.h"
#include "plan.h"

namespace onebit::converter {

struct EmitOptions {
  bool float_reference = false;
};

struct EmitReport {
  std::map<std::string, std::string> emitted;  // node name -> what it became ("binary BinaryConv2D", ...)
  int64_t binary_macs = 0;
  int64_t float_macs = 0;
};

Status emit_model(const Graph& g, const Plan& plan, const EmitOptions& options, ModelBuilder* builder,
                  EmitReport* report);

}  // namespace onebit::converter
