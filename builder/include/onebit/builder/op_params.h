// The parameter structs of the ModelBuilder's operators: plain values with no dependency on the builder, so a
// tool's own IR can carry them (the converter's binary conv nodes hold the very BinaryConv2DParams the builder
// takes, so conv geometry is written once). Each mirrors one options table of the file format
// (runtime/schema/onebit.fbs); model_builder.h takes them.
#pragma once

#include <cstdint>
#include <vector>

#include "onebit/kernels/bit_contract.h"

namespace onebit {

/// Geometry of a 2-D convolution over NHWC input (Conv2DOptions). Output size per spatial axis:
/// floor((in + pad_before + pad_after - dilation * (kernel - 1) - 1) / stride) + 1. The pads are ONNX's
/// `pads` [top, left, bottom, right] and may differ per side. groups divides the input and output channels
/// (groups == channels: depthwise). clamp_min / clamp_max: a fused activation applied to the output
/// (a ReLU is [0, inf), ReLU6 [0, 6]); the defaults clamp nothing.
struct Conv2DParams {
  int kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  int pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int groups = 1;
  float clamp_min = -__builtin_huge_valf(), clamp_max = __builtin_huge_valf();
};

struct Pool2DParams {
  int kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1;
  int pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  bool count_include_pad = false;
};

/// What the padded taps of a binary convolution hold (core/include/onebit/core/levels.h): 0 as in PyTorch's
/// zero padding of ±1 values (exact, by a per-position correction), or +1 / -1.
using BinaryPadding = core::PadMode;

/// Everything about one binary convolution but its tensors (BinaryConv2DOptions without the fusions, which
/// are BinaryConv2DFusion): the geometry and output clamp of Conv2DParams, plus
///  pad_mode          what the padded taps hold (BinaryPadding); anything but kZero needs Binary input
///                    and 1-bit weights
///  bitpacked_output  false: Float output y = clamp(multiplier * D + bias, clamp_min, clamp_max), D the
///                    integer dot; true: BitPacked output, bit = (multiplier * D + bias < 0) (schema OutputKind)
///  weight_bits       1: Binary weights (±1); 2: Bipolar 2-bit weights ({-3, -1, 1, 3}). See binary_conv2d.
/// The output channel count is the weights' (the builder's out_c argument), not a field here.
struct BinaryConv2DParams : Conv2DParams {
  BinaryPadding pad_mode = BinaryPadding::kZero;
  bool bitpacked_output = false;
  int weight_bits = 1;
};

/// Everything about one binary fully-connected layer but its tensors (BinaryFullyConnectedOptions):
///  bitpacked_output, weight_bits and the output clamp as in BinaryConv2DParams (y = clamp(multiplier * D +
///  bias, clamp_min, clamp_max), or its bits). The output width is the weights' (out_c), not a field here.
struct BinaryFullyConnectedParams {
  bool bitpacked_output = false;
  float clamp_min = -__builtin_huge_valf();
  float clamp_max = __builtin_huge_valf();
  int weight_bits = 1;
};

/// The levels of a k-bit tensor (bit_contract.h "k-bit tensors"; schema Tensor.bits / levels / zero_level /
/// level_scale): kind Unipolar (bits 1..4, L = q - zero_level), Bipolar (bits 1..4, L = 2q - (2^bits - 1)) or
/// Ternary (bits 2, L in {-1, 0, 1}); the real value is scale * L.
struct Levels {
  LevelKind kind = LevelKind::kUnipolar;
  int bits = 2;
  int zero_level = 0;
  float scale = 1.0f;
};

/// Activation quantization of an int8 float layer (schema Int8Quantization): real = scale * (q - zero_point).
struct Int8Params {
  float input_scale = 1, output_scale = 1;
  int input_zero_point = 0, output_zero_point = 0;  // -128..127
};

/// What binary_conv2d can fold into a binary convolution (schema BinaryConv2DOptions "Fusions", issue 12).
///  residual: -1, or a Float32 tensor of the output's shape added before the clamp (a following Add):
///            y = clamp(fl(fl(fl(multiplier * D) + bias) + residual));
///  quantize: also write the bits a quantize(y, threshold, flip, constant) would (the next block's Sign, or
///            its BatchNorm -> Sign), as a second output; threshold / flip / constant as quantize().
///  quantize_levels (issue 20): instead, write the k-bit levels a quantize_levels(y, levels, level_scale,
///            level_shift) would (the next k-bit block's activation quantizer) as the second output
///            (schema output FloatAndLevels); level_scale / level_shift empty: 1 / 0, as quantize_levels().
/// The default folds nothing.
struct BinaryConv2DFusion {
  int residual = -1;
  bool quantize = false;
  std::vector<float> threshold;
  std::vector<bool> flip;
  std::vector<int8_t> constant;
  bool quantize_levels = false;
  Levels levels;
  std::vector<float> level_scale, level_shift;
};

}  // namespace onebit
