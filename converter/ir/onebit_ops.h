// onebit's own ops in the IR, which rules put in place of ONNX subgraphs. Inputs after the first are
// constants; per-channel vectors run along ONNX axis 1 (C of NCHW, or the features of [N, C]).
//
//  onebit.Quantize(x: float, scale?: [C], shift?: [C]) -> bits
//      bit = (scale[c] * x + shift[c] < 0), i.e. Sign(scale * x + shift) with sign(0) taken as +1: a
//      BatchNormalization or a learnable bias in front of a Sign folds into scale/shift (threshold).
//  onebit.Dequantize(x: bits) -> float ±1
//  onebit.BinaryConv2D(x: bits, w: [O, I/group, kh, kw] ±1, multiplier: [O], bias: [O]) -> float or bits
//      y = clamp(multiplier[o] * dot + bias[o], clamp_min, clamp_max); bits output: bit = (mult * dot + bias < 0)
//      attrs: strides [2], dilations [2], pads [4] (top, left, bottom, right), group, pad_mode
//      ("zero": PyTorch's zero padding of the binarized input, "one", "minus_one"), clamp_min, clamp_max
//  onebit.BinaryFullyConnected(x: bits [N, K], w: [O, K] ±1, multiplier: [O], bias: [O]) -> float or bits
//      attrs: clamp_min, clamp_max
//  onebit.BinaryMaxPool2D(x: bits) -> bits     attrs: kernel_shape [2], strides [2], pads [4] (t, l, b, r)
//      max of ±1 values is the AND of the "is -1" bits; padded taps are ignored (like float -inf padding).
#pragma once

namespace onebit::converter::ops {

inline constexpr const char kQuantize[] = "onebit.Quantize";
inline constexpr const char kDequantize[] = "onebit.Dequantize";
inline constexpr const char kBinaryConv2D[] = "onebit.BinaryConv2D";
inline constexpr const char kBinaryFullyConnected[] = "onebit.BinaryFullyConnected";
inline constexpr const char kBinaryMaxPool2D[] = "onebit.BinaryMaxPool2D";

}  // namespace onebit::converter::ops
