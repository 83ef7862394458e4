// Constant folding: nodes whose inputs are all constant (and Shape of a statically shaped tensor) are
// evaluated here and replaced by constant values, so later passes see e.g. Sign(W) or alpha * Sign(W) as a
// plain weight tensor and Shape -> Gather -> Concat -> Reshape as a Reshape with a constant shape. Then
// nodes that no graph output depends on are removed. Both lists of removed node names are returned for
// the summary.
#pragma once

#include <string>
#include <vector>

#include "graph.h"
#include "onebit/status.h"

namespace onebit::converter {

struct FoldedConstants {
  std::vector<std::string> folded;  // "name (OpType)" evaluated at conversion time
  std::vector<std::string> dead;    // "name (OpType)" no output depends on
};

Status fold_constants(Graph* graph, FoldedConstants* report);

/// numpy-style broadcasting of two shapes; false if incompatible.
bool broadcast_shapes(const std::vector<int64_t>& a, const std::vector<int64_t>& b, std::vector<int64_t>* out);

}  // namespace onebit::converter
