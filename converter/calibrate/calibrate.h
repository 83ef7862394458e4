// Calibration of int8 float layers (onebit-convert --int8-float-layers --calibration FILE).
//
// The float layers that stay float after the rewrites (Conv / Gemm / MatMul with float weights, not BWN:
// the stem, the 1x1 shortcut convs, the classifier) get per-tensor activation ranges observed on a
// calibration set: the rewritten graph is emitted as a normal float model whose outputs also include each
// such layer's input and output (its clamp applied), the onebit runtime runs it on every calibration image,
// and the running min / max of each tensor is kept. So what is measured is exactly what the converted model
// computes in front of and behind those layers.
//
// Ranges are min / max, not a percentile: the layers quantized here are few and small, their inputs are
// the normalized image (bounded, min / max is exact) or pooled / BN'd feature maps, and their outputs are
// added to a residual or are the logits, where clipping an outlier changes a prediction more than a
// coarser step does. Each range is widened to contain 0 (so that zero padding and ReLU's 0 are exact) and
// mapped to int8 as scale = (hi - lo) / 255, zero_point = round(-128 - lo / scale).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "onebit/status.h"

namespace onebit::converter {

/// Calibration inputs, NHWC, already normalized as the model expects.
struct CalibrationSet {
  std::vector<int> image_shape;  // H, W, C
  std::vector<float> data;       // images * H * W * C
  size_t images = 0;
};

/// Reads FILE: an IDX of uint8 images (gzip or plain; [N, H, W] or [N, H, W, C]; pixels / 255, then
/// (x - mean) / std with `mean` / `std` one value or one per channel, empty for none), or a .npy float32
/// N x C x H x W already normalized (transposed to NHWC here). At most `max_images` are kept (0: all).
Status read_calibration_set(const std::string& path, const std::vector<float>& mean, const std::vector<float>& std,
                            size_t max_images, CalibrationSet* out);

struct Int8Ranges {
  float input_min = 0, input_max = 0, output_min = 0, output_max = 0;
};

/// Per node id of `targets`: the min / max of its input 0 and output 0 over the calibration set (see above).
Status calibrate_ranges(const Graph& g, const std::vector<NodeId>& targets, const CalibrationSet& set,
                        std::map<NodeId, Int8Ranges>* ranges);

/// scale / zero_point of the int8 grid covering [lo, hi] (widened to contain 0).
void int8_grid(float lo, float hi, float* scale, int* zero_point);

/// The layers --int8-float-layers quantizes: live float Conv / Gemm / MatMul (float constant weights, no
/// 1-bit weights), in topological order.
std::vector<NodeId> int8_candidates(const Graph& g);

}  // namespace onebit::converter
