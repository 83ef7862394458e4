// Builds onebit models in memory: a component for tools (the converter, onebit-synth, tests), not part of the
// runtime's API (it is neither in libonebit.so nor installed). Takes float weights in
// the training framework's terms (OIHW ±1 weights for binary convs, per-channel multiplier/bias) and writes
// the file format's layouts (OHWI, packed along I).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "onebit/builder/op_params.h"
#include "onebit/status.h"

namespace onebit {

struct ModelMetadata {
  std::string producer = "onebit";
  std::string source;
  std::vector<int> input_shape;
  std::vector<float> input_mean, input_std;
  std::vector<std::string> labels;
};

/// Tensor ids returned by the builder are indices into the model's tensor list. Shapes are NHWC
/// (feature maps) or [N, C]; every add_* infers and records its output's shape.
class ModelBuilder {
 public:
  ModelBuilder();
  ~ModelBuilder();

  int add_input(const std::string& name, const std::vector<int>& shape);
  void mark_output(int tensor);
  const std::vector<int>& shape(int tensor) const;

  // Full precision. Weights: OIHW (PyTorch order) for convs (I = C / groups), [out][in] for FC.
  int conv2d(const std::string& name, int x, int out_c, const std::vector<float>& weights_oihw,
             const std::vector<float>& bias, const Conv2DParams& p);
  int fully_connected(const std::string& name, int x, int out_c, const std::vector<float>& weights,
                      const std::vector<float>& bias, float clamp_min = -__builtin_huge_valf(),
                      float clamp_max = __builtin_huge_valf());
  int max_pool(const std::string& name, int x, const Pool2DParams& p);
  int avg_pool(const std::string& name, int x, const Pool2DParams& p);
  int global_avg_pool(const std::string& name, int x);  // NHWC -> [N, C]
  int add(const std::string& name, int a, int b, float clamp_min = -__builtin_huge_valf(),
          float clamp_max = __builtin_huge_valf());
  int mul(const std::string& name, int x, const std::vector<float>& scale);
  int channel_affine(const std::string& name, int x, const std::vector<float>& scale,
                     const std::vector<float>& shift);
  int relu(const std::string& name, int x);
  int prelu(const std::string& name, int x, const std::vector<float>& slope);
  int clamp(const std::string& name, int x, float lo, float hi);
  int reshape(const std::string& name, int x, const std::vector<int>& shape);
  int concat(const std::string& name, const std::vector<int>& xs, int axis);
  /// Over the last dimension; log = true is ONNX LogSoftmax (computed stably, not as log of a softmax).
  int softmax(const std::string& name, int x, bool log = false);
  int pad(const std::string& name, int x, const std::vector<int>& pads, float value);

  // Binary.
  /// threshold empty: plain sign. Else BatchNorm->Sign fused: see kernels::QuantizeThresholds.
  int quantize(const std::string& name, int x, const std::vector<float>& threshold = {},
               const std::vector<bool>& flip = {}, const std::vector<int8_t>& constant = {});
  /// Float -> k-bit levels (QuantizeLevels): per channel c, t = fl(fl(x * scale[c]) + shift[c]), then
  /// Unipolar / Bipolar q = clamp(round_half_even(t), 0, 2^bits - 1), Ternary L = sign(t) (NaN -> 0).
  /// scale / shift empty: 1 / 0 for every channel. levels.kind must not be Binary (that is quantize()).
  /// The output tensor carries `levels`; binary convs reading it compute on them.
  int quantize_levels(const std::string& name, int x, const Levels& levels, const std::vector<float>& scale = {},
                      const std::vector<float>& shift = {});
  /// Binary input: ±1 floats; k-bit input: levels.scale * L.
  int dequantize(const std::string& name, int x);
  /// x: a Binary tensor (quantize) or k-bit levels (quantize_levels); the levels travel with the tensor.
  /// weights_oihw: p.weight_bits 1: ±1 (sign taken: w < 0 means -1); 2: Bipolar levels {-3, -1, 1, 3} (the
  /// nearest level is taken, ties toward +inf). multiplier/bias: [out_c] output transform of the integer dot
  /// D = sum L_x * L_w (zero padding: padded taps are 0 for k-bit x). Anything but Binary x with 1-bit
  /// weights needs a float output and pad_mode kZero.
  int binary_conv2d(const std::string& name, int x, int out_c, const std::vector<float>& weights_oihw,
                    const std::vector<float>& multiplier, const std::vector<float>& bias,
                    const BinaryConv2DParams& p);
  /// weights: [out][in], ±1 (weight_bits 1) or Bipolar levels {-3, -1, 1, 3} (weight_bits 2), as binary_conv2d.
  int binary_fully_connected(const std::string& name, int x, int out_c, const std::vector<float>& weights,
                             const std::vector<float>& multiplier, const std::vector<float>& bias,
                             bool bitpacked_output = false, float clamp_min = -__builtin_huge_valf(),
                             float clamp_max = __builtin_huge_valf(), int weight_bits = 1);
  /// Float conv / FC with 1-bit weights (BinaryConnect / BWN): weight = weight_scale[o] * sign(w) (w < 0 means
  /// -1), stored 1 bit per weight and expanded to float at prepare. signs_oihw as conv2d's weights (OIHW,
  /// I = C / groups), signs as fully_connected's ([out][in]); weight_scale [out_c]; bias [out_c] or empty
  /// (zeros are written: the format puts weight_scale after bias).
  int conv2d_binary_weights(const std::string& name, int x, int out_c, const std::vector<float>& signs_oihw,
                            const std::vector<float>& weight_scale, const std::vector<float>& bias,
                            const Conv2DParams& p);
  int fully_connected_binary_weights(const std::string& name, int x, int out_c, const std::vector<float>& signs,
                                     const std::vector<float>& weight_scale, const std::vector<float>& bias,
                                     float clamp_min = -__builtin_huge_valf(),
                                     float clamp_max = __builtin_huge_valf());
  int binary_max_pool(const std::string& name, int x, const Pool2DParams& p);

  // Fused binary convolutions (issue 12).
  /// binary_conv2d with `fusion` (BinaryConv2DFusion) folded in (p.bitpacked_output must be false). Returns the float output y;
  /// with fusion.quantize, *bits (if not null) gets the second output, Quantize(y) packed.
  int binary_conv2d_fused(const std::string& name, int x, int out_c, const std::vector<float>& weights_oihw,
                          const std::vector<float>& multiplier, const std::vector<float>& bias,
                          const BinaryConv2DParams& p, const BinaryConv2DFusion& fusion, int* bits = nullptr);

  // Stored precision of float layers' weights (issue 12: --float16-weights, --int8-float-layers).
  /// As conv2d / fully_connected, weights stored as IEEE binary16 (float_to_half: nearest even); the runtime
  /// expands them to float exactly at prepare.
  int conv2d_float16_weights(const std::string& name, int x, int out_c, const std::vector<float>& weights_oihw,
                             const std::vector<float>& bias, const Conv2DParams& p);
  int fully_connected_float16_weights(const std::string& name, int x, int out_c, const std::vector<float>& weights,
                                      const std::vector<float>& bias, float clamp_min = -__builtin_huge_valf(),
                                      float clamp_max = __builtin_huge_valf());
  /// Int8 layers: weight = weight_scale[o] * q (q OIHW / [out][in], -127..127 from quantize_per_channel or an
  /// ONNX DequantizeLinear), bias float [out_c] (empty: zeros), run in int8 with the activation scales `q8`.
  int conv2d_int8_weights(const std::string& name, int x, int out_c, const std::vector<int8_t>& q_oihw,
                          const std::vector<float>& weight_scale, const std::vector<float>& bias,
                          const Conv2DParams& p, const Int8Params& q8);
  int fully_connected_int8_weights(const std::string& name, int x, int out_c, const std::vector<int8_t>& q,
                                   const std::vector<float>& weight_scale, const std::vector<float>& bias,
                                   const Int8Params& q8, float clamp_min = -__builtin_huge_valf(),
                                   float clamp_max = __builtin_huge_valf());

  void set_metadata(const ModelMetadata& metadata);

  /// Serializes the model. Fails (message naming the op) if something added was inconsistent.
  Status finish(std::vector<uint8_t>* out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// IEEE binary16 bits of `v`, rounded to nearest even (overflow -> infinity, NaN stays NaN).
uint16_t float_to_half(float v);
/// Symmetric per-output-channel int8 weights: scale[o] = max |w| over row o / 127 (a zero row: the smallest
/// normal float, all q 0), q = clamp(round_half_even(w / scale[o]), -127, 127). w holds out_c equal rows.
void quantize_per_channel(const std::vector<float>& w, int out_c, std::vector<int8_t>* q, std::vector<float>* scale);

/// Writes `bytes` to `path` atomically: a temporary file in the same folder, then rename. On failure
/// nothing is left behind. The file gets mode 0666 & ~umask, like any file a program creates.
Status write_file_atomically(const std::string& path, const std::vector<uint8_t>& bytes);

}  // namespace onebit
