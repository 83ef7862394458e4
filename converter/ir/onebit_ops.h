// onebit's own ops in the IR, which rules put in place of ONNX subgraphs. Inputs after the first are
// constants; per-channel vectors run along ONNX axis 1 (C of NCHW, or the features of [N, C]).
//
//  onebit.Quantize(x: float, scale?: [C], shift?: [C]) -> bits
//      bit = (scale[c] * x + shift[c] < 0), i.e. Sign(scale * x + shift) with sign(0) taken as +1: a
//      BatchNormalization or a learnable bias in front of a Sign folds into scale/shift (threshold).
//  onebit.QuantizeLevels(x: float, scale?: [C], shift?: [C]) -> k-bit levels (DType::kLevels)
//      t = scale[c] * x + shift[c]; kind "unipolar": q = clamp(round_half_even(t), 0, 2^bits - 1),
//      L = q - zero_level; kind "ternary" (bits 2): L = sign(t) (a Sign whose input can be exactly 0).
//      attrs: kind ("unipolar" | "ternary"), bits (1..4), zero_level, level_scale (real value = level_scale * L).
//      A BatchNormalization / per-channel affine in front folds into scale/shift as for Quantize.
//  onebit.Dequantize(x: bits or levels) -> float: ±1 for bits, level_scale * L for levels
//  onebit.BinaryConv2D(x: bits or levels, w: [O, I/group, kh, kw] levels, multiplier: [O], bias: [O]) -> float or bits
//      y = clamp(multiplier[o] * dot + bias[o], clamp_min, clamp_max); bits output: bit = (mult * dot + bias < 0)
//      params (Node::conv_params): the builder's BinaryConv2DParams - kernel, strides, dilations, pads (top,
//      left, bottom, right), groups, pad_mode (kZero: PyTorch's zero padding of the binarized input, kOne,
//      kMinusOne), clamp_min, clamp_max, bitpacked_output (the output is bits; shape inference gives the
//      value that dtype), weight_bits (1: w is ±1; 2: w holds the odd levels {-3, -1, 1, 3}).
//      k-bit input: dot = D = sum over the window of L_x * L_w (padded taps L_x = 0, pad_mode "zero" only);
//      the multiplier absorbs the input's level_scale; output float unless input bits and weight_bits 1.
//      Fusions (rules/binary_fusion.cc): input 4, a float residual r added before the clamp; a second output,
//      the bits of the float output y as onebit.Quantize(y, scale = input 5?, shift = input 6?) would compute
//      them (attr bits_from names that Quantize for the summary), or (a kLevels second output, issue 20) the
//      levels onebit.QuantizeLevels(y, input 5?, input 6?) would, its attrs kept in that value's levels.
//  onebit.BinaryFullyConnected(x: bits or levels [N, K], w: [O, K] levels, multiplier: [O], bias: [O]) -> float or bits
//      attrs: clamp_min, clamp_max, weight_bits
//  Conv / Gemm / MatMul with attr binary_weights = 1 (rules/lowbit_weights.cc): float input, weights ±s per
//      output channel, emitted as conv2d / fully_connected with Weights::binary (BWN: 1 bit per weight
//      plus a scale per output channel in the file, float compute).
//  onebit.BinaryMaxPool2D(x: bits) -> bits     params (Node::pool_params): the builder's Pool2DParams
//      max of ±1 values is the AND of the "is -1" bits; padded taps are ignored (like float -inf padding).
#pragma once

#include "ir/graph.h"

namespace onebit::converter::ops {

inline constexpr const char kQuantize[] = "onebit.Quantize";
inline constexpr const char kDequantize[] = "onebit.Dequantize";
inline constexpr const char kQuantizeLevels[] = "onebit.QuantizeLevels";
inline constexpr const char kBinaryConv2D[] = "onebit.BinaryConv2D";
inline constexpr const char kBinaryFullyConnected[] = "onebit.BinaryFullyConnected";
inline constexpr const char kBinaryMaxPool2D[] = "onebit.BinaryMaxPool2D";

/// The levels an onebit.QuantizeLevels node produces (from its attrs).
Levels quantize_levels_of(const Node& n);
/// Sets the attrs of an onebit.QuantizeLevels node from `l`.
void set_quantize_levels(Node* n, const Levels& l);
/// The output clamp of a binary conv or binary FC (their params).
float layer_clamp_min(const Node& n);
float layer_clamp_max(const Node& n);
void set_layer_clamp(Node* n, float lo, float hi);
/// Whether that clamp clamps anything.
bool layer_clamped(const Node& n);
/// Weight bits (1 or 2) of a binary conv or binary FC.
int layer_weight_bits(const Node& n);
/// Makes a binary conv or binary FC write bits (its params' bitpacked_output).
void set_layer_bitpacked_output(Node* n);
/// A packed activation (bits or k-bit levels).
inline bool packed(DType t) { return t == DType::kBits || t == DType::kLevels; }

}  // namespace onebit::converter::ops
