// Internal helpers shared by validation, the interpreter and the builder: tensor shapes and byte sizes,
// operator type names, the window arithmetic of convolutions and pools, and the limits a model must obey.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "onebit/core/schema_enums.h"
#include "onebit/core/shape_math.h"
#include "onebit/kernels/bit_contract.h"
#include "onebit/pool.h"
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
Vec<int> tensor_shape(const fb::Tensor& tensor);
/// *out = the values of a FlatBuffers vector, by index (one resize: no iterator-range assign per type in a
/// firmware's flash).
template <typename T, typename U>
void copy_vector(const flatbuffers::Vector<U>& v, Vec<T>* out) {
  out->resize(v.size());
  for (flatbuffers::uoffset_t i = 0; i < v.size(); ++i) (*out)[i] = T(v.Get(i));
}
size_t element_count(const Vec<int>& shape);
/// Bytes a tensor of this shape and dtype occupies: 4 per element for Float32 / Int32, 2 for Float16, 1 for
/// Int8 (those two: constants only); for BitPacked,
/// `bits` planes (bit_contract.h "k-bit tensors") of packed_words(last dim) uint32 words per row of the last
/// dimension. bits <= 4 (validated), so the result stays within 4 * 4 * kMaxElements.
size_t tensor_bytes(fb::DType dtype, const Vec<int>& shape, int bits = 1);

/// What the integer levels of a BitPacked tensor mean (schema Tensor.bits / levels / zero_level /
/// level_scale). Float32 / Int32 tensors carry the defaults (validated), i.e. {kBinary, 1, 0, 1}.
struct TensorLevels {
  LevelKind kind = LevelKind::kBinary;
  int bits = 1;
  int zero_level = 0;
  float scale = 1.0f;
  bool binary() const { return kind == LevelKind::kBinary; }
};
/// The fields as the file holds them (unvalidated; a kind outside LevelKind reads as Binary: check_levels in
/// validate.cc rejects it from the raw field).
TensorLevels tensor_levels(const fb::Tensor& tensor);
/// max |L| over the levels of a (validated) kind / bits / zero_level: 1 for Binary and Ternary.
int max_abs_level(const TensorLevels& levels);
/// "Binary", "Ternary", "Unipolar 2-bit (zero_level 1)", "Bipolar 2-bit".
Text levels_string(const TensorLevels& levels);
using core::level_kind_name;

/// "BinaryConv2D" for OperatorOptions::BinaryConv2DOptions (the name in the operator table, ops/op_table.h);
/// "" for NONE or unknown values.
const char* op_type_name(fb::OperatorOptions type);
/// The type as profiles and diagnostics show it: op_type_name(options_type), except "LogSoftmax" for a
/// Softmax with `log` set (one operator in the format, two in ONNX). Safe when the options table is missing.
const char* op_type_name(const fb::Operator& op);
const char* dtype_name(fb::DType dtype);
Text shape_string(const Vec<int>& shape);
/// "operator 3 'stage1/conv' (Conv2D)", safe on any verified model.
Text describe_op(const fb::Model& model, size_t op_index);
const char* tensor_name(const fb::Model& model, size_t tensor_index);  // "" when it has none

/// Sliding-window output size: core/include/onebit/core/shape_math.h.
using core::window_output_size;

}  // namespace onebit::rt
