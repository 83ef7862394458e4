// The int8 path of Conv2D / FullyConnected (Int8 weights + weight_scale, options `int8` set; schema
// Int8Quantization): three XNNPACK operators run back to back,
//   convert_nc_f32_qs8 (x -> qx with input_scale / input_zero_point),
//   convolution2d_nhwc_qc8 (per-output-channel weight scales; a FullyConnected is the 1x1 convolution of
//     [N, 1, 1, K], so it keeps per-channel scales, which fully_connected_nc_qs8 of this XNNPACK lacks),
//   convert_nc_qs8_f32 (qy -> y with output_scale / output_zero_point),
// with qx and qy in the operator's scratch (arena), so run() allocates nothing.
// A convolution over few input channels (the RGB / grey stem: groups 1, C < 8) is run as im2col of qx
// (padded taps = input_zero_point) into scratch followed by a 1x1 qc8 convolution over K = KH * KW * C:
// XNNPACK's qc8 kernels pad every tap's channels to their 8-wide K blocks, which for C = 3 would
// multiply the stem's work by 8/3; the OHWI weights are already the [O][K] matrix of that 1x1 conv.
// Where the static rules (int8_route.cc) choose it, a stem-shaped layer (kernels::stem_supported) runs
// onebit's int8 stem ukernel instead (onebit/kernels/stem_int8.h: the input quantized into a padded image
// in scratch, then the direct convolution writing the dequantized float output), same contract.
// Also: Float16 weights expanded to float (exact binary16 -> binary32, no rounding).
// The Cortex-M build (ONEBIT_MCU) has no XNNPACK: there Int8Layer only refuses (prepare() fails), and
// Conv2D / FullyConnected never make one (their portable path refuses int8 weights first).
#pragma once

#include <cstdint>
#include <vector>

#if !ONEBIT_MCU
#include <xnnpack.h>
#endif

#include "onebit/kernels/stem_int8.h"
#include "ops/op.h"

namespace onebit::rt {

/// IEEE binary16 -> binary32, exact for every value (subnormals, infinities; NaN stays NaN), portable.
float half_to_float(uint16_t h);

/// The geometry the int8 path needs; a FullyConnected is a 1x1 convolution over 1x1 maps.
struct Int8Geometry {
  size_t batch = 1, in_h = 1, in_w = 1, in_c = 0, out_h = 1, out_w = 1, out_c = 0, groups = 1;
  uint32_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  uint32_t pad_top = 0, pad_right = 0, pad_bottom = 0, pad_left = 0;
  float clamp_min = -__builtin_huge_valf(), clamp_max = __builtin_huge_valf();
};

/// Requantization helpers of the contract (schema Int8Quantization), shared with the tests' reference.
/// q = clamp(round_half_even(v / scale) + zero_point, -128, 127); -inf -> -128, +inf -> 127.
int8_t quantize_bound(float v, float scale, int zero_point);
/// round_half_even(bias / (input_scale * weight_scale)) in double, saturated to int32.
int32_t quantize_bias(float bias, float input_scale, float weight_scale);

/// How an int8-marked Conv2D / FullyConnected runs on this CPU (int8_route.cc: the static per-ISA rules).
enum class Int8Route { kXnnpack, kStem, kFloat };  // XNNPACK qc8, onebit's int8 stem ukernel, fp32
struct Int8Choice {
  Int8Route route = Int8Route::kXnnpack;
  const char* report = "int8";  // what bench --profile and onebit-info show, e.g. "fp32 (int8 slower on avx512)"
};
Int8Choice choose_int8_route(const Int8Geometry& g);  // not in the Cortex-M build

class Int8Layer {
 public:
  ~Int8Layer();
  /// ctx: the Conv2D / FullyConnected operator (inputs x, Int8 weights, bias, weight_scale; int8 options).
  /// route: kXnnpack or kStem (choose_int8_route's).
  Status prepare(const OpContext& ctx, const Int8Geometry& g, const fb::Int8Quantization& q, Int8Route route);
  size_t scratch_bytes() const { return stem_ ? stem_input_bytes_ : in_bytes_ + cols_bytes_ + out_bytes_; }
  Status bind(const OpContext& ctx, const float* x, float* y, void* scratch);
  Status run(pthreadpool_t pool);

 private:
  Int8Geometry g_;
  void im2col(pthreadpool_t pool) const;
  Status prepare_stem(const OpContext& ctx, const fb::Int8Quantization& q, const int32_t* qbias, int8_t qmin,
                      int8_t qmax);
  void run_stem(pthreadpool_t pool) const;
  // The int8 stem ukernel's path (kStem): quantized padded input in scratch, packed weights.
  const kernels::StemInt8Ukernel* stem_ = nullptr;
  kernels::StemInt8 stem_params_;
  Vec<uint8_t> stem_packed_;
  size_t stem_input_bytes_ = 0;
  const float* x_ = nullptr;
  float* y_ = nullptr;
  uint8_t* xq_ = nullptr;
  size_t in_bytes_ = 0, cols_bytes_ = 0, out_bytes_ = 0;
  bool im2col_ = false;
  int8_t zero_point_ = 0;
  const int8_t* qx_ = nullptr;
  int8_t* cols_ = nullptr;
#if ONEBIT_MCU
  void *quantize_ = nullptr, *conv_ = nullptr, *dequantize_ = nullptr;
#else
  xnn_operator_t quantize_ = nullptr, conv_ = nullptr, dequantize_ = nullptr;
#endif
};

}  // namespace onebit::rt
