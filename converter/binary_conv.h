// Pass: detect binary convolutions. A Conv whose input is a binary value (directly or through a Pad, see
// padding.h) must have constant weights that are ±1, or ±s_o per output channel o (what PyTorch's exporter
// makes when it folds a BatchNorm into a ±1 conv; Sign(W) of a float initializer is folded to ±1 by
// constant_fold.h): the signs become the packed weights and s_o the output transform's multiplier, the conv
// bias its bias. Anything else after a Sign is an error (a Sign feeding a non-binary-weight conv).
// Gemm / MatMul on a binary [N, K] value with ±s weights become a binary fully connected layer; with float
// weights they stay float (a float layer on ±1 inputs is valid).
#pragma once

#include "graph.h"
#include "onebit/status.h"
#include "plan.h"

namespace onebit::converter {

Status detect_binary_convs(const Graph& g, Plan* plan);

/// Splits `w` ([out][rest]) into signs and per-output magnitudes; false (with *why) if a row is not ±s.
bool split_sign_magnitude(const std::vector<float>& w, int64_t out, std::vector<float>* signs,
                          std::vector<float>* magnitude, std::string* why);

}  // namespace onebit::converter
