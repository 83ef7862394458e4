// The converter's op table: everything onebit-convert knows about one op, in one entry. An entry holds
//  - the schema: arity and typed attributes with their defaults and value ranges (the importer checks every
//    ONNX node against it and fills in defaults; Node::i/f/ints/s read through it, so a name the op does not
//    declare is an internal error, not a silent 0);
//  - shape and dtype inference (ir/shape_inference.cc runs it);
//  - constant evaluation (evaluator/evaluate.cc; absent: the op is never folded);
//  - zero facts: may its output hold exact zeros (rules/zero_analysis.cc; absent: zeros in any input
//    may come through);
//  - emission into onebit operators (emit/emit.cc; absent: the op exists only to be folded or rewritten).
// Entries are grouped by family in ops/<family>.cc; ops/registry.cc is the one registry. onebit's own IR ops
// (ir/onebit_ops.h) are entries too, marked `onnx = false` so that the importer never accepts them from a file.
// Those whose builder call takes a parameter struct (BinaryConv2D, BinaryMaxPool2D) hold it as typed
// parameters (Node::params, ir/graph.h) and declare no attributes for what it holds.
//
// Schemas describe the canonical (newest-opset) form described in ir/graph.h: e.g. Squeeze has inputs
// (data, axes?) and no `axes` attribute, Clip has (input, min?, max?). The importer moves old-opset
// attributes to constant inputs before checking. Attributes whose default depends on the input's rank
// (Conv strides, pads, dilations, kernel_shape) default to an empty list here; the op's shape function
// expands and length-checks them once the rank is known (ir/spatial.cc).
//
// Annotations (`AttrSpec::annotation`) are attributes that rules and convert.cc set on a node (int8,
// binary_weights, clamp_min, ...): never read from a file, never filled in on import (Node::has tells whether
// a rule set one), and read through their declared default when absent.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "onebit/status.h"

namespace onebit::converter {

class Emitter;
struct ValueFacts;

struct AttrSpec {
  std::string name;
  Attr::Kind kind;
  bool required = false;
  Attr default_value;  // used when !required and the node does not set it
  // Value constraints for kInt / kInts, checked on import (before anything else reads the node):
  int64_t min = INT64_MIN, max = INT64_MAX;
  bool nonempty = false;    // kInts: when given, at least one value
  bool annotation = false;  // set by the converter, not by ONNX files (see above)
};

/// Output shapes and dtype of one node, as its shape function finds them.
struct InferredShapes {
  std::vector<std::vector<int64_t>> shapes;  // per output (ir/shape_inference.cc uses as many as there are)
  DType dtype = DType::kFloat;               // preset to input 0's dtype
  bool known = true;                         // false: not inferable yet (a shape-giving input is not constant)
  size_t typed_outputs = SIZE_MAX;           // outputs from this index on keep the dtype they have
  std::optional<Levels> levels;              // set on the (non-constant) outputs: what k-bit levels they hold
};

/// Shape function: called when every input's shape is known. Errors name the node.
using InferFn = Status (*)(const Graph& g, const Node& n, InferredShapes* out);
/// Constant evaluation of a node whose inputs are all constant (inputs[k] null for an omitted input).
using EvalFn = Status (*)(const Node& n, const std::vector<const Tensor*>& inputs, std::vector<Tensor>* outputs);
/// Zero facts of the node's outputs from its inputs' (one entry per input; default facts for omitted ones).
using ZeroFn = ValueFacts (*)(const Graph& g, const Node& n, const std::vector<ValueFacts>& in);
/// Emission of a node whose output shapes are known.
using EmitFn = Status (*)(Emitter& e, const Node& n);

constexpr int kManyInputs = std::numeric_limits<int>::max();

struct Arity {
  int min_inputs = 1, max_inputs = 1;  // canonical form; kManyInputs: variadic
  int min_outputs = 1, max_outputs = 1;
};

struct OpDef {
  std::string op;  // ONNX op type, or "onebit.*"
  Arity arity;
  std::vector<AttrSpec> attrs;
  InferFn infer = nullptr;  // null: outputs stay unknown
  EvalFn eval = nullptr;    // null: never folded
  ZeroFn zeros = nullptr;   // null: zeros in any input may come through
  EmitFn emit = nullptr;    // null: not emitted (evaluated or rewritten away)
  bool onnx = true;         // false: an onebit IR op, never read from a file

  /// The declared attribute `name`, or null.
  const AttrSpec* attr(const std::string& name) const;
};

/// The entry of `op` (ONNX or onebit), or null when onebit-convert does not know it.
const OpDef* find_op(const std::string& op);
/// The entry of ONNX op `op` as read from a file, or null (unknown, or an onebit IR op).
const OpDef* find_onnx_op(const std::string& op);
/// Every entry, in registry order.
const std::vector<OpDef>& all_ops();

}  // namespace onebit::converter
