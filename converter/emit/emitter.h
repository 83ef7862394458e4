// Internal: the walk behind emit_model (emit.cc: values, layout, binary ops; emit_float.cc: float ops).
// Each node is emitted by its op-table entry (converter/ops/): most entries name one of the emit_* members
// below, small ones write their own with the public helpers.
#pragma once

#include <vector>

#include "emit/emit.h"

namespace onebit::converter {

struct BinaryLayerInputs;

class Emitter {
 public:
  Emitter(const Graph& g, const EmitOptions& o, ModelBuilder* b, EmitReport* r) : g_(g), options_(o), b_(*b), report_(*r) {}
  Status run();

  // Emission of one node (the op table's EmitFn calls these).
  // Binary (emit.cc).
  Status emit_quantize(const Node& n);
  Status emit_dequantize(const Node& n);
  Status emit_binary_conv(const Node& n);
  Status emit_binary_fc(const Node& n);
  Status emit_binary_pool(const Node& n);
  // Low-bit (emit_lowbit.cc).
  Status emit_quantize_levels(const Node& n);
  /// A BinaryConv2D's FloatAndLevels second output (rules/binary_fusion.cc): the QuantizeLevels scale / shift
  /// (inputs 5 / 6) and the levels of output 1, into `fusion`.
  Status fused_levels(const Node& n, int64_t out_c, BinaryConv2DFusion* fusion);
  Status emit_bwn_conv(const Node& n, int x, const std::vector<float>& bias, const Conv2DParams& p);
  Status emit_bwn_fc(const Node& n, int x, int64_t out_c, int64_t k, const std::vector<float>& w, const std::vector<float>& bias);
  /// Float reference of a binary layer's output transform: ChannelAffine, Add of `residual` (a builder
  /// tensor, or -1), Clamp, Quantize for bits.
  int reference_transform(const Node& n, int x, int residual = -1);
  // Float (emit_float.cc).
  Status emit_conv(const Node& n);
  Status emit_fully_connected(const Node& n);
  Status emit_pool(const Node& n);
  Status emit_elementwise(const Node& n);
  Status emit_activation_product(const Node& n);
  Status emit_constant_product(const Node& n, ValueId xv, ValueId operand);
  Status emit_activation(const Node& n);
  Status emit_reshape(const Node& n);
  Status emit_misc(const Node& n);

  // Helpers for emit functions.
  const Graph& graph() const { return g_; }
  ModelBuilder& builder() { return b_; }
  /// Builder tensor of a float value with rank 2 ([N, C]) or 4 (NHWC), reshaping [N, C] <-> [N, 1, 1, C].
  Status float_as(ValueId v, int rank, int* id);
  Status bits(ValueId v, int* id);
  Status binary_layer_inputs(const Node& n, BinaryLayerInputs* l);
  Status shape(ValueId v, const Node& at, std::vector<int64_t>* s) const;
  void set(ValueId v, int id) { ids_[size_t(v)] = id; }
  void record(const std::string& node, const std::string& what);
  int64_t elements(int id) const;

 private:
  Status emit(const Node& n);
  /// The error for a node whose op has no onebit operator.
  Status not_emitted(const Node& n) const;

  const Graph& g_;
  const EmitOptions& options_;
  ModelBuilder& b_;
  EmitReport& report_;
  std::vector<int> ids_;  // builder tensor per IR value, -1 if not emitted
};

/// "W1A2", "W2A4", "W1 ternary", "W2A1" for a k-bit binary layer; "" for a binary one (bits in, ±1 weights).
std::string kbit_label(const Graph& g, const Node& n);

/// Axis of an ONNX rank-`rank` tensor in onebit's layout.
int onebit_axis(int64_t axis, int rank);

}  // namespace onebit::converter
