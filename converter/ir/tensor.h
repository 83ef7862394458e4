// Constant tensors of the converter's IR: the data of initializers, Constant nodes and everything constant
// folding computes. ONNX element types are reduced to three: every floating type is held as float32 (ONNX
// float ops are evaluated in float32 here, as the runtime computes them), every integer type as int64, and
// bool as 0/1 in int64. Shapes are ONNX order (NCHW for feature maps); a scalar has an empty shape.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace onebit::converter {

/// Element type of a value. kBits is onebit's own: a binary activation (±1, bit-packed in the model);
/// no ONNX tensor has it, rewrite rules introduce it (Sign -> onebit.Quantize).
enum class DType : uint8_t { kFloat, kInt64, kBool, kBits };

const char* dtype_name(DType t);

struct Tensor {
  DType dtype = DType::kFloat;
  std::vector<int64_t> shape;
  std::vector<float> f;    // kFloat: elements, row-major
  std::vector<int64_t> i;  // kInt64 and kBool: elements, row-major

  static Tensor floats(std::vector<int64_t> shape, std::vector<float> data);
  static Tensor ints(std::vector<int64_t> shape, std::vector<int64_t> data);
  static Tensor bools(std::vector<int64_t> shape, std::vector<int64_t> data);
  static Tensor scalar(float v) { return floats({}, {v}); }

  bool is_float() const { return dtype == DType::kFloat; }
  /// Number of elements the shape implies (1 for a scalar).
  int64_t elements() const;
  /// Element k as float / as int64, whatever the dtype.
  float as_float(int64_t k) const { return is_float() ? f[size_t(k)] : float(i[size_t(k)]); }
  /// (A float element is truncated; NaN and values beyond ±2^62 read as 0 / ±2^62.)
  int64_t as_int(int64_t k) const;
  /// All elements as floats (converting integers).
  std::vector<float> to_floats() const;
  /// True when the data vector matching dtype holds exactly elements() entries.
  bool consistent() const;
};

/// Element count of a shape; -1 if a dim is negative (unknown) or the product exceeds 2^62.
int64_t shape_elements(const std::vector<int64_t>& shape);
/// "[1, 64, 56, 56]"; unknown dims print as '?'.
std::string shape_str(const std::vector<int64_t>& shape);

}  // namespace onebit::converter
