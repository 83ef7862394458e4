// Pass: folding into binary ops' output transforms and into Quantize thresholds.
//
// fold_output_transforms: a binary conv's float output y = multiplier * dot + bias absorbs the followers
// that are its only consumer, in order: Mul / Div by a per-channel constant (alpha), Add / Sub of one,
// BatchNormalization (y' = scale * y + shift with scale = gamma / sqrt(var + eps), shift = beta -
// mean * scale), then Relu / Clip as the transform's clamp (after a clamp nothing affine folds).
//
// fuse_signs: for every Sign on activations,
//  - if its input is exactly a binary conv's folded output (no clamp, or a sign-preserving one), used by
//    nothing else, and every consumer of the Sign is binary (a binary conv, possibly through an absorbed
//    Pad, or a binary max pool), the conv writes bits directly: bit = (multiplier * dot + bias < 0);
//  - else, if its input comes from a BatchNormalization with constant parameters (not already folded into
//    a conv), the pair becomes a thresholded Quantize of the BatchNormalization's input:
//      y = gamma (x - mean) / sigma + beta < 0   (sigma = sqrt(var + eps))
//      <=> x < t  for gamma > 0,   x > t (flip) for gamma < 0,   t = mean - beta * sigma / gamma,
//      and for gamma = 0 the bit is the constant (beta < 0).
//    (x exactly at t gives y = 0, Sign(0) = 0 in ONNX and bit 0 = +1 here, like a plain Sign of 0.)
#pragma once

#include "graph.h"
#include "onebit/status.h"
#include "plan.h"

namespace onebit::converter {

Status fold_output_transforms(const Graph& g, Plan* plan);
Status fuse_signs(const Graph& g, Plan* plan);

}  // namespace onebit::converter
