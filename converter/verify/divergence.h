// Internal to verify.cc: the first layer where the converted model leaves the reference, for one input.
//
// Which ONNX tensor does a runtime operator compute? The converter keeps no tensor map in the model file,
// but every operator is named after the ONNX node it was emitted from, and what was folded into it (α, bias,
// BatchNormalization, a clamp, a residual Add: the summary's "folded into ..." lines) has no operator of its
// own. So operator X computes the output of ONNX node X carried forward along its sole readers while
// those have no operator (X's output -> Mul -> BatchNormalization -> Add, stopping before a node that has an
// operator, a tensor with several readers, a graph output, or a node that a later operator's output also
// reaches: a residual Add belongs to the binary convolution it is fused into, not to the shortcut). A second, bit-packed output is the output of
// the first Sign reached that way. Operators whose name is no ONNX node (emitter helpers such as
// "X/reshape") or whose tensors differ in size are skipped.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "verify/reference.h"

namespace onebit::converter {

struct Divergence {
  bool found = false;
  std::string layer, type, onnx_tensor;
  double max_delta = 0, scale = 0;  // max |runtime − reference|, max |reference|
  int64_t differing = 0, elements = 0;
  /// At a binarizing layer: every differing position's Sign input is within rounding of 0 (near_zero), or
  /// exactly 0 (exact_zero).
  bool near_zero = false, exact_zero = false;
};

Status find_first_divergence(const ReferenceGraph& ref, const std::map<std::string, RefTensor>& values,
                             const std::vector<uint8_t>& model, const std::vector<float>& input_nhwc, Divergence* out);

/// Loads `model`, runs it once on `input_nhwc` and returns graph output `output` (floats; bit-packed outputs
/// as their values) with its shape.
Status run_model_once(const std::vector<uint8_t>& model, const std::vector<float>& input_nhwc, size_t output,
                      std::vector<float>* values, std::vector<int>* shape);

/// Rank-4 data of NCHW shape `nchw` from NCHW to NHWC order (to_nhwc) or back; other ranks unchanged.
std::vector<double> relayout(const std::vector<double>& x, const std::vector<int64_t>& nchw, bool to_nhwc);

}  // namespace onebit::converter
