// Internal interface between the graph-level checks (validate.cc) and the per-operator checks
// (validate_ops.cc).
#pragma once

#include <string>
#include <vector>

#include "graph.h"

namespace onebit::rt {

/// What validate.cc has established about one tensor before the operator checks run.
struct TensorFacts {
  std::vector<int> shape;
  fb::DType dtype = fb::DType::Float32;
  bool constant = false;
  const uint8_t* data = nullptr;  // constant data (size == tensor_bytes), else null
};

/// Checks one operator whose input/output indices are in range and whose options table is present:
/// input count, dtypes, shapes, option values, output shape. Messages name the operator, field and
/// expectation.
Status validate_operator(const fb::Model& model, const std::vector<TensorFacts>& tensors, size_t op_index);

}  // namespace onebit::rt
