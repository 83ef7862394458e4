// The checks several operators share (windows, convolutions, fully connected layers, pools, channel-wise
// vectors); validate.cc calls each operator's check through the model's operator resolver. Each operator's own check is
// its OpKind::validate, next to its implementation in ops/*.cc.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "onebit/pool.h"
#include "ops/op_table.h"
#include "validate.h"

namespace onebit::rt {
namespace {

using Shape = Vec<int>;

/// Checks the window fields and computes the output's spatial size from an NHWC input shape.
/// pool: each pad must be smaller than the kernel, so that every window holds at least one real tap.
Status check_window(const ValidateContext& c, const Window& w, const Shape& in, bool pool, int* out_h,
                    int* out_w) {
  ONEBIT_RETURN_IF_ERROR(c.range("kernel_h", w.kernel_h, 1, kMaxWindow));
  ONEBIT_RETURN_IF_ERROR(c.range("kernel_w", w.kernel_w, 1, kMaxWindow));
  ONEBIT_RETURN_IF_ERROR(c.range("stride_h", w.stride_h, 1, kMaxWindow));
  ONEBIT_RETURN_IF_ERROR(c.range("stride_w", w.stride_w, 1, kMaxWindow));
  ONEBIT_RETURN_IF_ERROR(c.range("dilation_h", w.dilation_h, 1, kMaxWindow));
  ONEBIT_RETURN_IF_ERROR(c.range("dilation_w", w.dilation_w, 1, kMaxWindow));
  const int pad_max_h = pool ? w.kernel_h - 1 : kMaxWindow, pad_max_w = pool ? w.kernel_w - 1 : kMaxWindow;
  ONEBIT_RETURN_IF_ERROR(c.range("pad_top", w.pad_top, 0, pad_max_h));
  ONEBIT_RETURN_IF_ERROR(c.range("pad_bottom", w.pad_bottom, 0, pad_max_h));
  ONEBIT_RETURN_IF_ERROR(c.range("pad_left", w.pad_left, 0, pad_max_w));
  ONEBIT_RETURN_IF_ERROR(c.range("pad_right", w.pad_right, 0, pad_max_w));
  const int64_t oh = window_output_size(in[1], w.pad_top, w.pad_bottom, w.kernel_h, w.stride_h, w.dilation_h);
  const int64_t ow = window_output_size(in[2], w.pad_left, w.pad_right, w.kernel_w, w.stride_w, w.dilation_w);
  if (oh < 1 || ow < 1)
    return c.fail("window " + num(w.kernel_h) + "x" + num(w.kernel_w) + " (dilation " +
                  num(w.dilation_h) + "x" + num(w.dilation_w) + ") does not fit input " +
                  shape_string(in) + " with pads t" + num(w.pad_top) + " b" + num(w.pad_bottom) +
                  " l" + num(w.pad_left) + " r" + num(w.pad_right));
  *out_h = int(oh);
  *out_w = int(ow);
  return Status::Ok();
}

/// Weights (input 1) have x's dtype; Float32 x also admits BitPacked weights (Conv2D / FullyConnected with
/// 1-bit weights and weight_scale), Float16 and Int8 weights (checked by check_float_weights).
Status weights_dtype(const ValidateContext& c, fb::DType x_dtype) {
  const fb::DType w = c.in(1).dtype;
  if (x_dtype == fb::DType::Float32 &&
      (w == fb::DType::BitPacked || w == fb::DType::Float16 || w == fb::DType::Int8))
    return Status::Ok();
  if (x_dtype == fb::DType::Float32 && w != fb::DType::Float32)
    return c.fail(c.in_label(1) + " has dtype " + dtype_name(w) +
                  ", expected Float32, Float16, Int8 (with int8 options and a weight_scale) or BitPacked 1-bit "
                  "weights with a weight_scale");
  return c.dtype(1, x_dtype);
}

/// The int8 options of a Conv2D / FullyConnected, or null.
const fb::Int8Quantization* int8_options(const ValidateContext& c) {
  if (const auto* o = c.op().options_as_Conv2DOptions()) return o->int8();
  if (const auto* o = c.op().options_as_FullyConnectedOptions()) return o->int8();
  return nullptr;
}

#if !ONEBIT_MCU
bool positive_normal(float v) { return std::isnormal(v) && v > 0; }

/// Int8 weights: 4 inputs, int8 options with usable scales, weight_scale values XNNPACK's qc8 accepts
/// (positive, normal, requantization scale input_scale * weight_scale / output_scale below 256), and a clamp
/// that keeps a non-empty int8 range.
Status check_int8_weights(const ValidateContext& c, const fb::Int8Quantization* q) {
  const int out_c = c.in(1).shape[0];
  if (q == nullptr)
    return c.fail(c.in_label(1) + " has dtype Int8 but the options have no int8 (Int8Quantization) table; Int8 "
                  "weights run in int8 and need the activation scales");
  if (c.inputs() != 4)
    return c.fail("has " + num(c.inputs()) + " inputs with Int8 weights, expected 4 (x, weights, bias, "
                  "weight_scale [" + num(out_c) + "])");
  if (!positive_normal(q->input_scale()) || !positive_normal(q->output_scale()))
    return c.fail("int8.input_scale = " + num(q->input_scale()) + " / int8.output_scale = " +
                  num(q->output_scale()) + ", expected positive normal numbers");
  float lo = -INFINITY, hi = INFINITY;
  if (const auto* o = c.op().options_as_Conv2DOptions()) lo = o->clamp_min(), hi = o->clamp_max();
  if (const auto* o = c.op().options_as_FullyConnectedOptions()) lo = o->clamp_min(), hi = o->clamp_max();
  const double qlo = std::isinf(lo) ? -128 : std::nearbyint(double(lo) / q->output_scale()) + q->output_zero_point();
  const double qhi = std::isinf(hi) ? 127 : std::nearbyint(double(hi) / q->output_scale()) + q->output_zero_point();
  if (!(std::max(qlo, -128.0) < std::min(qhi, 127.0)))
    return c.fail("clamp_min " + num(lo) + " / clamp_max " + num(hi) +
                  " quantize to an empty int8 range with int8.output_scale " + num(q->output_scale()));
  const TensorFacts& ws = c.in(3);
  if (ws.dtype != fb::DType::Float32 || !ws.constant || ws.shape != Vec<int>{out_c} || ws.data == nullptr)
    return Status::Ok();  // check_conv / check_fc report it
  for (int o = 0; o < out_c; ++o) {
    float s;
    std::memcpy(&s, ws.data + size_t(o) * sizeof(float), sizeof s);
    const double requant = double(q->input_scale()) * s / q->output_scale();
    if (!positive_normal(s) || !(requant < 256.0))
      return c.fail(c.in_label(3) + " value " + num(o) + " = " + num(s) +
                    ", expected a positive normal number with input_scale * weight_scale / output_scale < 256 "
                    "(XNNPACK qc8); got " + num(requant));
  }
  return Status::Ok();
}
#endif  // !ONEBIT_MCU

}  // namespace

Status check_binary_levels(const ValidateContext& c, bool bitpacked_output, bool pad_mode_zero, int64_t taps) {
  const TensorLevels& x = c.in(0).levels;
  const TensorLevels& w = c.in(1).levels;
  const bool binary_weights = w.kind == LevelKind::kBinary && w.bits == 1;
  const bool bipolar_weights = w.kind == LevelKind::kBipolar && w.bits == 2;
  if (!binary_weights && !bipolar_weights)
    return c.fail(c.in_label(1) + " has levels " + levels_string(w) +
                  ", expected Binary (1 bit) or Bipolar 2-bit weights");
  if (x.binary() && binary_weights) {
    if (bitpacked_output && !c.out().levels.binary())
      return c.fail(c.out_label() + " has levels " + levels_string(c.out().levels) +
                    ", expected Binary (a bitpacked output is the sign of the transform)");
    return Status::Ok();
  }
  const Text what = "x " + levels_string(x) + " and weights " + levels_string(w);
  if (bitpacked_output)
    return c.fail("output = BitPacked with " + what + ", expected Float (bitpacked output needs Binary x and weights)");
  if (!pad_mode_zero)
    return c.fail("pad_mode is not Zero with x " + levels_string(x) +
                  ", expected Zero (One / MinusOne padding is for Binary x only)");
  const int64_t bound = taps * max_abs_level(x) * max_abs_level(w);
  if (bound > (int64_t(1) << 24))
    return c.fail(num(taps) + " taps of " + what + " can reach |dot| " + num(bound) +
                  ", expected at most 2^24 = 16777216 (so the dot is exact in float)");
  return Status::Ok();
}

Status check_quantize_lists(const ValidateContext& c, const Text& prefix,
                            const flatbuffers::Vector<uint8_t>* flips, const flatbuffers::Vector<int8_t>* constants,
                            int channels) {
  const size_t n_flips = flips ? flips->size() : 0;
  const size_t n_constants = constants ? constants->size() : 0;
  if (n_flips != 0 && n_flips != size_t(channels))
    return c.fail(prefix + "flip has " + num(n_flips) + " entries, expected 0 or " + num(channels));
  if (n_constants != 0 && n_constants != size_t(channels))
    return c.fail(prefix + "constant has " + num(n_constants) + " entries, expected 0 or " +
                  num(channels));
  for (size_t i = 0; i < n_constants; ++i)
    ONEBIT_RETURN_IF_ERROR(c.range((prefix + "constant[" + num(i) + "]").c_str(),
                                   constants->Get(flatbuffers::uoffset_t(i)), -1, 1));
  return Status::Ok();
}

Status check_float_weights(const ValidateContext& c) {
  const int out_c = c.in(1).shape[0];
  const fb::DType dtype = c.in(1).dtype;
  const fb::Int8Quantization* q = int8_options(c);
#if ONEBIT_MCU  // int8 layers need XNNPACK: refused before their int8 options are checked (not in flash)
  if (dtype == fb::DType::Int8)
    return c.fail(c.in_label(1) + " has dtype Int8: int8 layers (--int8-float-layers) need XNNPACK, which the "
                  "Cortex-M build has not (convert without --int8-float-layers)");
#else
  if (dtype == fb::DType::Int8) return check_int8_weights(c, q);
#endif
  if (q != nullptr)
    return c.fail("has int8 options with " + Text(dtype_name(dtype)) + " weights, expected Int8 weights "
                  "(the int8 table is set iff the weights are Int8)");
  if (dtype != fb::DType::BitPacked) {
    if (c.inputs() > 3)
      return c.fail("has " + num(c.inputs()) + " inputs with " + dtype_name(dtype) + " weights, expected "
                    "2..3 (x, weights, bias; weight_scale is for BitPacked and Int8 weights only)");
    return Status::Ok();
  }
  const TensorLevels& w = c.in(1).levels;
  if (!(w.kind == LevelKind::kBinary && w.bits == 1))
    return c.fail(c.in_label(1) + " has levels " + levels_string(w) + ", expected Binary (1 bit) weights with a weight_scale");
  if (c.inputs() != 4)
    return c.fail("has " + num(c.inputs()) + " inputs with BitPacked weights, expected 4 (x, weights, bias, "
                  "weight_scale [" + num(out_c) + "])");
  return Status::Ok();
}

// Input 0 of `x_dtype` and constant weights (input 1) for it, both of rank `rank`.
static Status input_and_weights(const ValidateContext& c, fb::DType x_dtype, int rank) {
  ONEBIT_RETURN_IF_ERROR(c.dtype(0, x_dtype));
  ONEBIT_RETURN_IF_ERROR(c.rank(0, rank));
  ONEBIT_RETURN_IF_ERROR(weights_dtype(c, x_dtype));
  ONEBIT_RETURN_IF_ERROR(c.constant(1));
  return c.rank(1, rank);
}

Status check_conv(const ValidateContext& c, const Window& w, int groups, fb::DType x_dtype, fb::DType out_dtype,
                  size_t vectors_min, size_t vectors_max, size_t trailing) {
  ONEBIT_RETURN_IF_ERROR(c.count(2 + vectors_min, 2 + vectors_max + trailing));
  ONEBIT_RETURN_IF_ERROR(input_and_weights(c, x_dtype, 4));
  const Shape& x = c.in(0).shape;
  const int out_c = c.in(1).shape[0];
  ONEBIT_RETURN_IF_ERROR(c.range("groups", groups, 1, x[3]));
  if (x[3] % groups != 0)
    return c.fail("groups = " + num(groups) + " does not divide input channels " + num(x[3]));
  if (out_c % groups != 0)
    return c.fail("groups = " + num(groups) + " does not divide output channels " + num(out_c));
  ONEBIT_RETURN_IF_ERROR(c.shape(1, {out_c, w.kernel_h, w.kernel_w, x[3] / groups}, "weights OHWI, I = C / groups"));
  int oh = 0, ow = 0;
  ONEBIT_RETURN_IF_ERROR(check_window(c, w, x, false, &oh, &ow));
  for (size_t k = 2; k < c.inputs() && k < 2 + vectors_max; ++k) {
    ONEBIT_RETURN_IF_ERROR(c.dtype(k, fb::DType::Float32));
    ONEBIT_RETURN_IF_ERROR(c.constant(k));
    ONEBIT_RETURN_IF_ERROR(c.shape(k, {out_c}, "one value per output channel"));
  }
  return c.output(out_dtype, {x[0], oh, ow, out_c});
}

Status check_fc(const ValidateContext& c, fb::DType x_dtype, fb::DType out_dtype, size_t vectors_min,
                size_t vectors_max) {
  ONEBIT_RETURN_IF_ERROR(c.count(2 + vectors_min, 2 + vectors_max));
  ONEBIT_RETURN_IF_ERROR(input_and_weights(c, x_dtype, 2));
  const Shape& x = c.in(0).shape;
  const int out_c = c.in(1).shape[0];
  ONEBIT_RETURN_IF_ERROR(c.shape(1, {out_c, x[1]}, "weights [out][in]"));
  for (size_t k = 2; k < c.inputs(); ++k) {
    ONEBIT_RETURN_IF_ERROR(c.dtype(k, fb::DType::Float32));
    ONEBIT_RETURN_IF_ERROR(c.constant(k));
    ONEBIT_RETURN_IF_ERROR(c.shape(k, {out_c}, "one value per output channel"));
  }
  return c.output(out_dtype, {x[0], out_c});
}

Status check_pool(const ValidateContext& c, const Window& w, fb::DType dtype) {
  ONEBIT_RETURN_IF_ERROR(c.count(1, 1));
  ONEBIT_RETURN_IF_ERROR(c.dtype(0, dtype));
  ONEBIT_RETURN_IF_ERROR(c.rank(0, 4));
  const Shape& x = c.in(0).shape;
  int oh = 0, ow = 0;
  ONEBIT_RETURN_IF_ERROR(check_window(c, w, x, true, &oh, &ow));
  return c.output(dtype, {x[0], oh, ow, x[3]});
}

Status check_channelwise(const ValidateContext& c, size_t vectors, bool constant_vectors) {
  ONEBIT_RETURN_IF_ERROR(c.count(1 + vectors, 1 + vectors));
  ONEBIT_RETURN_IF_ERROR(c.dtype(0, fb::DType::Float32));
  for (size_t k = 1; k <= vectors; ++k) {
    ONEBIT_RETURN_IF_ERROR(c.dtype(k, fb::DType::Float32));
    if (constant_vectors) ONEBIT_RETURN_IF_ERROR(c.constant(k));
    ONEBIT_RETURN_IF_ERROR(c.shape(k, {c.in(0).shape.back()}, "one value per channel (last dimension)"));
  }
  return c.output(fb::DType::Float32, c.in(0).shape);
}

}  // namespace onebit::rt
