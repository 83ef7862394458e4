// Shared pieces of the low-bit rules (rules/lowbit_activation.cc, rules/lowbit_weights.cc) for the audit
// and the summary.
#pragma once

#include <string>
#include <vector>

#include "ir/graph.h"

namespace onebit::converter {

/// A recognized uniform quantizer around a Round node (see lowbit_activation.cc).
struct QuantizerPlan {
  NodeId round = kNoId;
  ValueId x = kNoId;  // the float input it quantizes
  ValueId y = kNoId;  // the value it computes (the dequantized levels)
  float scale = 1, shift = 0;  // t = scale * x + shift, q = clamp(round(t), 0, 2^bits - 1)
  bool clip = false;           // a float Clip(x, clip_lo, clip_hi) stays in front (range < 2^bits levels)
  float clip_lo = 0, clip_hi = 0;
  Levels levels;
  int count = 0;               // levels used
  std::vector<NodeId> nodes;   // nodes folded into it (for the summary)
  std::vector<NodeId> forward; // the Round and the nodes after it up to y (removed by the rewrite)
};

/// True if Round node `round` is the core of a k-bit uniform quantizer; else *why says what is missing.
bool analyze_quantizer(const Graph& g, NodeId round, QuantizerPlan* plan, std::string* why);

/// Replaces the value `y` by Dequantize(QuantizeLevels(x, scale, shift)) with levels `l` (per-channel scale and
/// shift of x's axis 1).
void make_levels(Graph& g, const std::string& name, ValueId x, ValueId y, const std::vector<float>& scale,
                 const std::vector<float>& shift, const Levels& l);

/// Why DequantizeLinear node `n` is not a k-bit activation quantizer (rules/qdq.cc); "" when it is one.
std::string why_not_qdq(const Graph& g, NodeId n);

/// Why a Round / DequantizeLinear node left in the graph is not a k-bit quantizer onebit can run.
std::string why_not_quantizer(const Graph& g, NodeId n);

/// Splits weights w ([out][rest]) into level values and a scale per output channel: 1 bit (±s) or 2 bits
/// (the odd levels {-3, -1, 1, 3}·s of DoReFa's 2-bit weights). Returns the bits (1 or 2) or 0 with *why
/// naming the first offending channel. max_bits limits the search.
int split_weight_levels(const std::vector<float>& w, int64_t out, int max_bits, std::vector<float>* levels,
                        std::vector<float>* scale, std::string* why);

}  // namespace onebit::converter
