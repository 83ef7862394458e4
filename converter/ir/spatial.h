// Geometry of Conv / MaxPool / AveragePool in one place: the per-axis attributes with their defaults
// (strides and dilations 1, pads 0), auto_pad (NOTSET, VALID, SAME_UPPER, SAME_LOWER) resolved to explicit
// pads, and output sizes (ceil_mode included), per the ONNX operator definitions.
#pragma once

#include <cstdint>
#include <vector>

#include "ir/graph.h"
#include "onebit/core/shape_math.h"
#include "onebit/status.h"

namespace onebit::converter {

struct Spatial {
  std::vector<int64_t> kernel, strides, dilations, pad_begin, pad_end, out;
  bool ceil_mode = false;
  bool ceil_differs = false;  // ceil_mode=1 gives more windows than floor would
};

/// `x` is the input shape [N, C, D1, ...]; `kernel` the window (Conv: weight dims 2..; pools: kernel_shape).
/// Errors name the node and the attribute with what was expected.
Status resolve_spatial(const Node& n, const std::vector<int64_t>& x, const std::vector<int64_t>& kernel, Spatial* out);

/// The resolved 2-D geometry (kernel, strides, dilations, pads) as the builder's Conv2DParams (groups and clamp
/// at their defaults), or without dilations as its Pool2DParams. `sp` must be 2-D.
Conv2DParams conv_2d(const Spatial& sp);
Pool2DParams pool_2d(const Spatial& sp);

}  // namespace onebit::converter
