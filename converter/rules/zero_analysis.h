// Can a value hold exact zeros with positive probability? ONNX and PyTorch define Sign(0) = 0, so a Sign
// whose input does computes a ternary {-1, 0, +1} value, and binarizing it (0 -> +1) would convert the
// model into a different one. The analysis is a forward dataflow over the producers of a value; what each op
// does is its op-table entry's zero-fact function (converter/ops/):
//  - sources of zeros: Relu; dequantized k-bit levels that include 0; Clip / Hardtanh with a bound at exactly 0; Pad with value 0; a constant with
//    a 0 element; a sum of two discrete values (Sign(a) + Sign(b));
//  - carried through: reshapes, slices, concat, pools (max/avg of zeros), Mul (either factor), Div
//    (numerator), PRelu / LeakyRelu / Neg / Tanh (odd or zero-preserving), Sign; a conv / FC / matmul whose
//    input holds zeros or is discrete (a ±1 dot product is 0 for half-and-half windows) and whose bias is
//    absent or has a 0 entry; Add / Sub when both operands hold zeros; BatchNormalization when its input
//    holds zeros and some channel maps 0 to 0;
//  - removed: BatchNormalization, a bias Add or a float conv bias that is nonzero (a shift by a generic float
//    is never exactly hit), Sigmoid / Exp, graph inputs (assumed continuous: real images are normalized by
//    the model's first layers, which are float).
// "Discrete" values: Sign outputs, onebit bits, constants, and linear functions of those.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace onebit::converter {

struct ValueFacts {
  bool zeros = false;     // may hold exact zeros
  bool discrete = false;  // takes finitely many values
  std::string origin;     // node (or constant) introducing the zeros
};

/// Facts per value id, filled on demand. Rewrites preserve values, so facts stay valid for a conversion.
using ZeroFactsCache = std::vector<std::optional<ValueFacts>>;

/// True if constant `t` (may be null: false) has an element equal to 0.
bool has_zero(const Tensor* t);

/// True if `v` may hold exact zeros; *origin then names the node that introduces them. Visits each
/// value at most once per cache (iteratively: no recursion depth that grows with the graph).
bool may_hold_zeros(const Graph& g, ValueId v, std::string* origin, ZeroFactsCache* cache);

}  // namespace onebit::converter
