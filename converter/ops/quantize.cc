// Quantizers: ONNX QuantizeLinear / DequantizeLinear (fake quantization, recognized by
// rules/lowbit_activation.cc, never evaluated) and onebit's own Quantize (bits), QuantizeLevels (k-bit
// levels) and Dequantize (see ir/onebit_ops.h).
#include "ir/onebit_ops.h"
#include "ops/family.h"

namespace onebit::converter::opdefs {
namespace {

// Packed values take finitely many values and never 0 (their levels are described by the Dequantize).
ValueFacts packed_facts(const Graph&, const Node&, const std::vector<ValueFacts>&) {
  ValueFacts out;
  out.discrete = true;
  return out;
}

// Dequantized k-bit levels with 0 among them (Unipolar, Ternary) hold exact zeros; ±1 never does.
ValueFacts dequantize_facts(const Graph& g, const Node& n, const std::vector<ValueFacts>&) {
  ValueFacts out;
  out.discrete = true;
  const Value& x = g.value(n.in(0));
  if (x.dtype == DType::kLevels && x.levels.has_zero()) {
    const Node* q = g.producer(n.in(0));
    out.zeros = true;
    out.origin = (q ? q->describe() : n.describe()) + " (k-bit levels include 0)";
  }
  return out;
}

Status infer_quantize_levels(const Graph& g, const Node& n, InferredShapes* out) {
  out->levels = ops::quantize_levels_of(n);
  return infer_same_shape_as<DType::kLevels>(g, n, out);
}

}  // namespace

std::vector<OpDef> quantize_ops() {
  // onebit.Quantize: folded_bn (its threshold is a BatchNormalization's), zeros_from (what may feed it exact
  // zeros, for the log).
  const std::vector<AttrSpec> quantize = {I("folded_bn", 0), S("zeros_from", "")};
  // onebit.QuantizeLevels: the levels (ops::set_quantize_levels) and, like Quantize, folded_bn / zeros_from.
  const std::vector<AttrSpec> levels = {S("kind", core::level_kind_key(core::LevelKind::kUnipolar).c_str()),
                                        I("bits", 1), I("zero_level", 0), F("level_scale", 1.0f),
                                        I("folded_bn", 0), S("zeros_from", "")};
  return {
      // op               arity     attributes      shape                            evaluate zero facts       emit
      {"QuantizeLinear",   In(2, 3), {I("axis", 1)}, infer_same_shape_as<DType::kInt64>},
      {"DequantizeLinear", In(2, 3), {I("axis", 1)}, infer_same_shape_as<DType::kFloat>},
      {ops::kQuantize,       In(1, 3), quantize,     infer_same_shape_as<DType::kBits>,   nullptr, packed_facts,     emit_by<&Emitter::emit_quantize>, false},
      {ops::kQuantizeLevels, In(1, 3), levels,       infer_quantize_levels,         nullptr, packed_facts,     emit_by<&Emitter::emit_quantize_levels>, false},
      {ops::kDequantize,     In(1),    {},           infer_same_shape_as<DType::kFloat>,  nullptr, dequantize_facts, emit_by<&Emitter::emit_dequantize>, false},
  };
}

}  // namespace onebit::converter::opdefs
