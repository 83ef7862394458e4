// Internal helpers shared by validation, the interpreter and the builder: tensor shapes and byte sizes,
// operator type names, the window arithmetic of convolutions and pools, and the limits a model must obey.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "onebit/kernels/bit_contract.h"
#include "onebit/schema/onebit_generated.h"
#include "onebit/status.h"

namespace onebit::rt {

// Limits of what a model may ask for. They keep every size computation far from overflow (a tensor has at
// most 2^28 elements, so its byte size fits in 32 bits times 4) and reject absurd files early.
inline constexpr int kMaxRank = 4;
inline constexpr int kMaxDim = 1 << 20;
inline constexpr uint64_t kMaxElements = uint64_t(1) << 28;
inline constexpr int kMaxWindow = 4096;  // kernel size, stride, dilation, padding

/// Logical shape of a (validated) tensor.
std::vector<int> tensor_shape(const fb::Tensor& tensor);
size_t element_count(const std::vector<int>& shape);
/// Bytes a tensor of this shape and dtype occupies: 4 per element for Float32 / Int32, 2 for Float16, 1 for
/// Int8 (those two: constants only); for BitPacked,
/// `bits` planes (bit_contract.h "k-bit tensors") of packed_words(last dim) uint32 words per row of the last
/// dimension. bits <= 4 (validated), so the result stays within 4 * 4 * kMaxElements.
size_t tensor_bytes(fb::DType dtype, const std::vector<int>& shape, int bits = 1);

/// What the integer levels of a BitPacked tensor mean (schema Tensor.bits / levels / zero_level /
/// level_scale). Float32 / Int32 tensors carry the defaults (validated), i.e. {kBinary, 1, 0, 1}.
struct TensorLevels {
  LevelKind kind = LevelKind::kBinary;
  int bits = 1;
  int zero_level = 0;
  float scale = 1.0f;
  bool binary() const { return kind == LevelKind::kBinary; }
};
/// The fields as the file holds them (unvalidated: kind may be outside LevelKind).
TensorLevels tensor_levels(const fb::Tensor& tensor);
/// max |L| over the levels of a (validated) kind / bits / zero_level: 1 for Binary and Ternary.
int max_abs_level(const TensorLevels& levels);
/// "Binary", "Ternary", "Unipolar 2-bit (zero_level 1)", "Bipolar 2-bit".
std::string levels_string(const TensorLevels& levels);
const char* level_kind_name(LevelKind kind);

/// "BinaryConv2D" for OperatorOptions::BinaryConv2DOptions (the name in the operator table, ops/op_table.h);
/// "" for NONE or unknown values.
const char* op_type_name(fb::OperatorOptions type);
/// The type as profiles and diagnostics show it: op_type_name(options_type), except "LogSoftmax" for a
/// Softmax with `log` set (one operator in the format, two in ONNX). Safe when the options table is missing.
const char* op_type_name(const fb::Operator& op);
const char* dtype_name(fb::DType dtype);
std::string shape_string(const std::vector<int>& shape);
/// "operator 3 'stage1/conv' (Conv2D)", safe on any verified model.
std::string describe_op(const fb::Model& model, size_t op_index);
std::string tensor_name(const fb::Model& model, size_t tensor_index);

/// Output size of a sliding window (convolution or pool), or -1 when the dilated window does not fit the
/// padded input. Computed in 64 bits; callers bound the operands first.
int64_t window_output_size(int64_t in, int64_t pad_before, int64_t pad_after, int64_t kernel, int64_t stride,
                           int64_t dilation);

}  // namespace onebit::rt
