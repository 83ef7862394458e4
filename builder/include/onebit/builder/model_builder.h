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

/// How a float layer (conv2d, fully_connected) stores its weights in the file, one named constructor per
/// storage. Values are in the training framework's order: OIHW for convs (I = C / groups), [out][in] for fully
/// connected layers; scale holds one value per output channel. The builder writes OHWI
/// (builder/src/weight_encoding.h). The layer computes in float on the weights the storage stands for (int8
/// layers compute in int8):
///  float32(w)                  w as given (Float32).
///  float16(w)                  IEEE binary16, rounded to nearest even (float_to_half); the runtime expands
///                              them to float exactly at prepare (converter: --float16-weights).
///  int8(q, scale, activations) weight = scale[o] * q, q -127..127 (quantize_per_channel, or an ONNX
///                              DequantizeLinear); the layer runs in int8 with the activation scales
///                              `activations` (converter: --int8-float-layers).
///  binary(signs, alpha)        BinaryConnect / BWN: weight = alpha[o] * sign(w) (w < 0 means -1), stored 1 bit
///                              per weight and expanded to float at prepare.
/// With int8 and binary storage an empty bias is written as zeros (the format puts weight_scale after bias).
struct Weights {
  enum class Storage { kFloat32, kFloat16, kInt8, kBinary };

  static Weights float32(std::vector<float> w);
  static Weights float16(std::vector<float> w);
  static Weights int8(std::vector<int8_t> q, std::vector<float> scale, const Int8Params& activations);
  static Weights binary(std::vector<float> signs, std::vector<float> alpha);

  /// The number of weights held (values or q).
  size_t count() const { return storage == Storage::kInt8 ? q.size() : values.size(); }

  Storage storage = Storage::kFloat32;
  std::vector<float> values;  // float32, float16: the weights; binary: their signs
  std::vector<int8_t> q;      // int8: the weights' levels
  std::vector<float> scale;   // int8, binary: weight_scale [out_c]
  Int8Params activations;     // int8 only
};

/// What finish() writes into the file's Metadata table (read back as ModelInfo, onebit/model.h).
struct ModelMetadata {
  std::string producer = "onebit";
  std::string source;                       // e.g. the ONNX file converted
  std::vector<int> input_shape;             // NHWC
  std::vector<float> input_mean, input_std;  // normalization x' = (x - mean[c]) / std[c] the caller applies
  std::vector<std::string> labels;          // class names, one per output class
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

  // Float layers; `weights` says how the weights are stored (Weights). bias: [out_c], or empty (none; zeros
  // for int8 and binary storage).
  int conv2d(const std::string& name, int x, int out_c, const Weights& weights, const std::vector<float>& bias,
             const Conv2DParams& p);
  int fully_connected(const std::string& name, int x, int out_c, const Weights& weights,
                      const std::vector<float>& bias, float clamp_min = -__builtin_huge_valf(),
                      float clamp_max = __builtin_huge_valf());
  int max_pool(const std::string& name, int x, const Pool2DParams& p);
  int avg_pool(const std::string& name, int x, const Pool2DParams& p);
  int global_avg_pool(const std::string& name, int x);  // NHWC -> [N, C]
  int add(const std::string& name, int a, int b, float clamp_min = -__builtin_huge_valf(),
          float clamp_max = __builtin_huge_valf());
  int mul(const std::string& name, int x, const std::vector<float>& scale);
  /// a * c with NumPy broadcasting (either may be a constant from float_constant): e.g. a feature map times a
  /// per-position scale [N, H, W, 1], or times a constant [1, H, W, C].
  int mul(const std::string& name, int a, int c);
  /// A Float32 constant tensor of `shape` (values row-major, NHWC for feature maps).
  int float_constant(const std::string& name, const std::vector<int>& shape, const std::vector<float>& values);
  int channel_affine(const std::string& name, int x, const std::vector<float>& scale,
                     const std::vector<float>& shift);
  int relu(const std::string& name, int x);
  int prelu(const std::string& name, int x, const std::vector<float>& slope);
  int clamp(const std::string& name, int x, float lo, float hi);
  /// y = 1 / (1 + exp(-x)) elementwise.
  int sigmoid(const std::string& name, int x);
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
  /// fusion (issue 12): what the conv folds in (BinaryConv2DFusion; anything but the default needs
  /// p.bitpacked_output false). Returns the output y; with fusion.quantize, *bits (if not null) gets the
  /// second output, Quantize(y) packed.
  int binary_conv2d(const std::string& name, int x, int out_c, const std::vector<float>& weights_oihw,
                    const std::vector<float>& multiplier, const std::vector<float>& bias,
                    const BinaryConv2DParams& p, const BinaryConv2DFusion& fusion = {}, int* bits = nullptr);
  /// weights: [out][in], ±1 (weight_bits 1) or Bipolar levels {-3, -1, 1, 3} (weight_bits 2), as binary_conv2d.
  int binary_fully_connected(const std::string& name, int x, int out_c, const std::vector<float>& weights,
                             const std::vector<float>& multiplier, const std::vector<float>& bias,
                             const BinaryFullyConnectedParams& p = {});
  int binary_max_pool(const std::string& name, int x, const Pool2DParams& p);

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
