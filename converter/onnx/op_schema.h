// The one place where each ONNX operator's arity and attributes are declared: kind, default, whether
// required. The importer (import.cc) checks every node against its schema, fills in defaults and rejects
// wrong kinds, unknown-op nodes and missing inputs, naming node, attribute and expectation; after that,
// rules and the evaluator read attributes without checking (Node::i("axis") is always present).
//
// Schemas describe the canonical (newest-opset) form described in ir/graph.h: e.g. Squeeze has inputs
// (data, axes?) and no `axes` attribute, Clip has (input, min?, max?). The importer moves old-opset
// attributes to constant inputs before checking. Attributes whose default depends on the input's rank
// (Conv strides, pads, dilations, kernel_shape) default to an empty list here; the op's shape function
// expands and length-checks them once the rank is known (ir/shape_inference.cc).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace onebit::converter {

struct AttrSpec {
  std::string name;
  Attr::Kind kind;
  bool required = false;
  Attr default_value;  // used when !required and the node does not set it
  // Value constraints for kInt / kInts, checked on import (before anything else reads the node):
  int64_t min = INT64_MIN, max = INT64_MAX;
  bool nonempty = false;  // kInts: when given, at least one value
};

struct OpSchema {
  std::string op;
  int min_inputs, max_inputs;    // canonical form
  int min_outputs, max_outputs;
  std::vector<AttrSpec> attrs;
  bool foldable = true;          // may be evaluated when all inputs are constant (every op here so far)
};

/// nullptr when onebit-convert does not know the op at all.
const OpSchema* find_schema(const std::string& op);

}  // namespace onebit::converter
