// Constant tensors of the converter's IR: the data of initializers, Constant nodes and everything constant
// folding computes. ONNX element types are reduced to three: every floating type is held as float32 (ONNX
// float ops are evaluated in float32 here, as the runtime computes them), every integer type as int64, and
// bool as 0/1 in int64. Shapes are ONNX order (NCHW for feature maps); a scalar has an empty shape.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "onebit/core/levels.h"

namespace onebit::converter {

/// Element type of a value. kBits and kLevels are onebit's own, no ONNX tensor has them; rewrite rules
/// introduce them: kBits is a binary activation (±1, bit-packed in the model; Sign -> onebit.Quantize),
/// kLevels a k-bit activation (1..4 bit-planes of integer levels, Value::levels says which; a DoReFa / PACT /
/// LSQ / QuantizeLinear quantizer or a Sign that can see 0 -> onebit.QuantizeLevels).
enum class DType : uint8_t { kFloat, kInt64, kBool, kBits, kLevels };

const char* dtype_name(DType t);

/// What the integer level L of a kLevels value means: core/include/onebit/core/levels.h. The real value is
/// scale * L.
using core::LevelKind;

struct Levels {
  LevelKind kind = LevelKind::kBinary;
  int bits = 1;
  int zero_level = 0;
  float scale = 1.0f;

  /// Integer levels L the value can take, smallest first.
  int min_level() const;
  int max_level() const;
  /// True when 0 is one of the levels (exact zero padding, zeros in the data).
  bool has_zero() const { return min_level() <= 0 && max_level() >= 0 && kind != LevelKind::kBinary && kind != LevelKind::kBipolar; }
  /// "A2 unipolar (zero level 0, scale 0.333)", "ternary", ...
  std::string describe() const;
  bool operator==(const Levels& o) const {
    return kind == o.kind && bits == o.bits && zero_level == o.zero_level && scale == o.scale;
  }
};

struct Tensor {
  DType dtype = DType::kFloat;
  std::vector<int64_t> shape;
  std::vector<float> f;    // kFloat: elements, row-major
  std::vector<int64_t> i;  // kInt64 and kBool: elements, row-major
  int32_t onnx_type = 0;   // the ONNX element type the file stated (initializers / Constants), 0 if computed

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
  /// Bytes of its data (4 per float element, 8 per integer or bool element).
  int64_t bytes() const { return int64_t(f.size()) * 4 + int64_t(i.size()) * 8; }
};

/// Element count of a shape; -1 if a dim is negative (unknown) or the product of its nonzero dims exceeds 2^62
/// (so no stride or partial product of a shape this accepts can overflow int64, even with a 0 dim).
int64_t shape_elements(const std::vector<int64_t>& shape);
/// "[1, 64, 56, 56]"; unknown dims print as '?'.
std::string shape_str(const std::vector<int64_t>& shape);

}  // namespace onebit::converter
