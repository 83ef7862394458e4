// A small object model of a onebit model file, for the malformed-input corpus: decode() reads a verified
// buffer through the generated accessors into plain structs, a case mutates them, encode() writes them back
// with the generated Create* functions. (schema/CMakeLists.txt runs flatc without --gen-object-api, so this
// is the test's own.) Every field the schema has is represented, so encode(decode(b)) is the same model.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "onebit/schema/onebit_generated.h"

namespace onebit::malformed {

struct TensorT {
  std::string name;
  bool has_shape = true;
  std::vector<int> shape;
  int dtype = 0;  // fb::DType as an int, so that out-of-range values can be written
  int buffer = -1;
  int bits = 1, levels = 0, zero_level = 0;  // k-bit fields (levels: fb::LevelKind as an int)
  float level_scale = 1.0f;
};

struct BufferT {
  bool has_data = true;
  std::vector<uint8_t> data;
};

/// Every field of every *Options table, by its schema name; decode/encode use those of `type`.
struct OptionsT {
  int kernel_h = 0, kernel_w = 0, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  int pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0, groups = 1;
  float clamp_min = -std::numeric_limits<float>::infinity(), clamp_max = std::numeric_limits<float>::infinity();
  bool count_include_pad = false;
  float min = -std::numeric_limits<float>::infinity(), max = std::numeric_limits<float>::infinity();  // Clamp
  int axis = -1;       // Concat
  bool log = false;    // Softmax
  std::vector<int> pads;  // Pad
  float value = 0;        // Pad
  std::vector<uint8_t> flip;     // Quantize; BinaryConv2D's quantize_flip
  std::vector<int8_t> constant;  // Quantize; BinaryConv2D's quantize_constant
  int pad_mode = 0;  // BinaryConv2D
  int output = 0;    // BinaryConv2D / BinaryFullyConnected (fb::OutputKind)
};

struct OperatorT {
  std::string name;
  int type = 0;            // fb::OperatorOptions as an int
  int options_table = -1;  // -1: the table `type` names; else write the table of this type (a type/table mismatch)
  bool has_options = true;
  OptionsT options;
  std::vector<int> inputs, outputs;
};

struct MetadataT {
  std::string producer, source;
  std::vector<int> input_shape;
  std::vector<float> input_mean, input_std;
  std::vector<std::string> labels;
};

struct ModelT {
  uint32_t version = 1;
  std::vector<TensorT> tensors;
  std::vector<BufferT> buffers;
  std::vector<OperatorT> operators;
  std::vector<int> inputs, outputs;
  bool has_metadata = false;
  MetadataT metadata;

  /// Index of the tensor / operator with this name; throws std::out_of_range when there is none (a test bug).
  int tensor(const std::string& name) const;
  int op_index(const std::string& name) const;
  OperatorT& op(const std::string& name) { return operators[size_t(op_index(name))]; }
  TensorT& t(const std::string& name) { return tensors[size_t(tensor(name))]; }
  /// The buffer of constant tensor `name`.
  BufferT& buffer_of(const std::string& name);
};

/// `bytes` must be a valid model (the base models of the tests); throws std::runtime_error otherwise.
ModelT decode(const std::vector<uint8_t>& bytes);
std::vector<uint8_t> encode(const ModelT& model);

}  // namespace onebit::malformed
