// What the passes decide, keyed by ONNX node / value names; the emitter turns it into onebit operators.
// A value is "binary" when its canonical form in the onebit model is bits (a Sign output, a binary max
// pool of one, or a binary conv's bitpacked output); its float form is made on demand by Dequantize.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "graph.h"
#include "onebit/builder.h"

namespace onebit::converter {

/// Sign(x) on activations -> Quantize. `source` is the float value packed (a sign-preserving Clip and a
/// fused BatchNormalization are skipped); threshold/flip/constant empty means plain sign.
struct QuantizeSpec {
  std::string sign_node;
  std::string source;
  std::vector<float> threshold;
  std::vector<bool> flip;
  std::vector<int8_t> constant;   // -1 data-dependent, 0 always +1, 1 always -1
  std::vector<std::string> fused; // node names fused into this Quantize (Clip, BatchNormalization)
};

/// A binary Conv (or Gemm: fully_connected) with its folded output transform.
struct BinaryConvSpec {
  std::string node;
  bool fully_connected = false;
  std::string input;               // binary value read (before an absorbed Pad)
  std::string output;              // value the result stands for (after folded followers)
  int out_c = 0;
  std::vector<float> weights;      // ±1, OIHW (conv) or [out][in] (fully connected)
  std::vector<float> multiplier, bias;
  BinaryConv2DParams params;       // geometry, pad mode, clamp, bitpacked_output
  std::vector<std::string> folded; // node names folded in (Pad, Mul, Add, BatchNormalization, Relu, Clip, Sign)
};

struct Plan {
  std::map<std::string, QuantizeSpec> quantizes;     // by Sign node name
  std::map<std::string, BinaryConvSpec> convs;       // by Conv/Gemm node name
  std::set<std::string> binary_max_pools;            // MaxPool node names on binary values
  std::set<std::string> binary_values;               // value names whose canonical form is bits
  std::map<std::string, std::string> value_to_conv;  // value name -> binary conv node producing it
  std::map<std::string, std::string> folded_into;    // node name -> what it was folded into
};

/// Per-channel y = scale * x + shift of a BatchNormalization with constant parameters.
Status batch_norm_affine(const Graph& g, const Node& bn, std::vector<float>* scale, std::vector<float>* shift);

/// Constant `name` as `channels` per-channel values: accepts a scalar or a tensor whose only non-1 dim
/// is `channel_axis` (counted in a rank-`rank` broadcast) with `channels` entries. False otherwise.
bool per_channel_constant(const Graph& g, const std::string& name, int64_t channels, int rank, int channel_axis,
                          std::vector<float>* out);

}  // namespace onebit::converter

namespace onebit::converter {
/// Clip bounds from attributes (opset < 11) or constant inputs; missing bounds are ±inf.
Status clip_bounds(const Graph& g, const Node& clip, float* lo, float* hi);
}  // namespace onebit::converter
