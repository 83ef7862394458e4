// Pass: detect binary activations. A Sign on a float (non-constant) tensor becomes a Quantize; a Clip /
// Hardtanh with min < 0 < max in front of it preserves signs and is skipped (Sign(0) = 0 either way).
// A MaxPool whose input is binary becomes BinaryMaxPool2D (max of ±1 values = AND of the "is -1" bits;
// padded taps are ignored like float max pooling's -inf). BatchNormalization -> Sign is fused later, in
// fold.h, once the binary convs are known.
#pragma once

#include "graph.h"
#include "onebit/status.h"
#include "plan.h"

namespace onebit::converter {

Status detect_binary_activations(const Graph& g, Plan* plan);

}  // namespace onebit::converter
