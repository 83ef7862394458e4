// Pass helper: padding of binary convolutions. PyTorch pads the *binarized* activations with 0, which is
// neither +1 nor -1, so the three cases are kept apart and never substituted for one another:
//  - the conv's own `pads` attribute               -> PadMode::kZero (exact border correction);
//  - Pad(value = +1) on the binary input, pads = 0  -> PadMode::kOne;
//  - Pad(value = -1) on the binary input, pads = 0  -> PadMode::kMinusOne;
//  - Pad(value = 0) behaves like the conv's own pads and adds to them.
// Any other combination (a ±1 Pad plus the conv's own zero pads, other values, reflect/edge modes, padding
// of N or C) is an error naming the node.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "graph.h"
#include "onebit/status.h"
#include "plan.h"

namespace onebit::converter {

struct PadAttributes {
  std::vector<int64_t> pads;  // ONNX order: begin of every axis, then end of every axis
  float value = 0;
  std::string mode = "constant";
};

/// Reads a Pad node in either the attribute form (opset < 11) or the input form (opset >= 11).
Status read_pad(const Graph& g, const Node& pad, PadAttributes* out);

/// A conv's own 2-D padding [top, left, bottom, right] from `pads` / `auto_pad`.
Status conv_pads(const Node& conv, int pads[4]);

struct BinaryInput {
  bool is_binary = false;
  std::string value;            // binary value the conv reads
  std::string absorbed_pad;     // Pad node folded into the conv, or ""
  kernels::PadMode mode = kernels::PadMode::kZero;
  int pads[4] = {0, 0, 0, 0};   // top, left, bottom, right
};

/// Looks through an optional Pad in front of `conv` for a binary value.
Status resolve_binary_padding(const Graph& g, const Plan& plan, const Node& conv, BinaryInput* out);

}  // namespace onebit::converter
