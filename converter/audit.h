// The checks after the rewrites: every Conv / Gemm / MatMul that reads a binary activation (a Sign's
// output, through Pad and no-op reshapes) but stayed full precision. A Conv is an error (binary weights
// were clearly intended: the message says why they are not binary or not constant, naming the op that
// could not be evaluated); a Gemm / MatMul is a warning (a float classifier on binary features is a valid
// design), an error with --strict. A layer reading a k-bit activation (Dequantize of QuantizeLevels) that
// stays float is a warning (exact: it computes on level_scale * L). A Round / QuantizeLinear /
// DequantizeLinear left over is a quantizer the low-bit rules did not recognize: an error naming it and
// why (the runtime has no float rounding operator, and nothing is approximated silently).
#pragma once

#include <string>
#include <vector>

#include "ir/graph.h"
#include "onebit/status.h"

namespace onebit::converter {

Status audit_binary_layers(const Graph& g, bool strict, std::vector<std::string>* warnings);

/// Why `v` is not a constant: the node that could not be evaluated, or the graph input it depends on.
std::string why_not_constant(const Graph& g, ValueId v);

}  // namespace onebit::converter
