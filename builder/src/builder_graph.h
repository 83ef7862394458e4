// ModelBuilder::Impl, the builder's in-memory graph: tensors (shape, dtype, levels, constant buffer), the
// constant buffers, and operators with their options as deferred FlatBuffer writers. add_* methods grow it
// while inferring each output's shape; the first inconsistency is kept in `error` and returned by finish().
//
// The builder's sources, by what they hold:
//   builder_graph.cc   the graph: inputs, outputs, shapes, and every op without weights
//   layers.cc          the ops with weights: conv2d / fully_connected (a Weights descriptor) and the binary
//                      conv / fully connected
//   weight_encoding.cc how weights are stored: OIHW -> OHWI, float16 rounding, int8, bit packing
//   model_file.cc      finish(): the FlatBuffer, metadata (labels, input normalization), validation; and
//                      write_file_atomically
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "graph.h"
#include "onebit/builder/model_builder.h"

namespace onebit {

using Fbb = flatbuffers::FlatBufferBuilder;
using OptionsFn = std::function<flatbuffers::Offset<void>(Fbb&)>;
struct ModelBuilder::Impl {
  struct Tensor {
    std::string name;
    std::vector<int> shape;
    fb::DType dtype = fb::DType::Float32;
    int buffer = -1;
    rt::TensorLevels levels;  // BitPacked only
  };
  struct Op {
    std::string name;
    fb::OperatorOptions type;
    OptionsFn options;
    std::vector<int> inputs;
    int output;
    std::vector<int> more_outputs;  // outputs[1..]: BinaryConv2D FloatAndBitPacked's bits
  };
  std::vector<Tensor> tensors;
  std::vector<std::vector<uint8_t>> buffers;
  std::vector<Op> ops;
  std::vector<int> inputs, outputs;
  ModelMetadata metadata;
  std::string error;

  // ---- Checks: each records the first failure in `error` (naming op and type) and returns false.
  bool fail(const std::string& op, fb::OperatorOptions type, const std::string& what);
  bool valid(int t) const { return t >= 0 && size_t(t) < tensors.size(); }
  /// Checks that `t` exists and has rank `rank` (0: any rank).
  bool need(const std::string& op, fb::OperatorOptions type, int t, size_t rank);
  bool sized(const std::string& op, fb::OperatorOptions type, const char* what, size_t have, size_t want);
  const std::vector<int>& shape_of(int t) const;

  // ---- Tensors.
  int constant(const std::string& name, std::vector<int> shape, fb::DType dtype, std::vector<uint8_t> bytes);
  int floats(const std::string& name, std::vector<int> shape, const std::vector<float>& v);
  int words(const std::string& name, std::vector<int> shape, const std::vector<uint32_t>& v,
            const rt::TensorLevels& levels = {});
  /// Adds an operator writing a new tensor of `out_shape` ({} becomes {1}) and `out_dtype`; returns it.
  int add(const std::string& name, fb::OperatorOptions type, OptionsFn options, std::vector<int> in,
          std::vector<int> out_shape, fb::DType out_dtype = fb::DType::Float32);
  /// NHWC output of a window op; on a window that does not fit, records the error and returns 1x1.
  std::vector<int> window_shape(const std::string& op, fb::OperatorOptions type, int x, int out_c,
                                const Conv2DParams& p);

  // ---- Op families (builder_graph.cc).
  /// The NumPy broadcast of a's and c's shapes (Add, Mul of two tensors); records the error if they do not.
  std::vector<int> broadcast(const std::string& name, fb::OperatorOptions type, int a, int c);
  int pool(const std::string& name, fb::OperatorOptions type, int x, const Pool2DParams& p);
  /// Ops whose output has the input's shape, with per-channel constant vectors (size = last dim).
  int channelwise(const std::string& name, fb::OperatorOptions type, int x,
                  const std::vector<std::pair<const char*, const std::vector<float>*>>& vectors, OptionsFn options);

  // ---- Layers with weights (layers.cc).
  /// The input channels per group of a conv reading x (NHWC) with `groups` and out_c > 0, or -1 after
  /// recording why there are none.
  int conv_group_channels(const std::string& name, fb::OperatorOptions type, int x, int out_c, int groups);
  /// Checks a float layer's weights (count = the product of `shape`), weight_scale and bias against its
  /// weights tensor's shape ({out_c, kh, kw, I} for a conv, {out_c, in} for a fully connected layer) and, if
  /// they fit, appends them to `in` as stored constants.
  void float_layer_constants(const std::string& name, fb::OperatorOptions type, const Weights& w,
                             const std::vector<float>& bias, const std::vector<int>& shape, std::vector<int>* in);
};

}  // namespace onebit
