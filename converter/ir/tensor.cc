#include "ir/tensor.h"

#include <cstdio>

#include "ir/checked_int.h"

namespace onebit::converter {

const char* dtype_name(DType t) {
  switch (t) {
    case DType::kFloat: return "float";
    case DType::kInt64: return "int64";
    case DType::kBool: return "bool";
    case DType::kBits: return "bits";
    case DType::kLevels: return "k-bit levels";
  }
  return "?";
}

int Levels::min_level() const {
  switch (kind) {
    case LevelKind::kBinary: return -1;
    case LevelKind::kUnipolar: return -zero_level;
    case LevelKind::kBipolar: return -((1 << bits) - 1);
    case LevelKind::kTernary: return -1;
  }
  return 0;
}

int Levels::max_level() const {
  switch (kind) {
    case LevelKind::kBinary: return 1;
    case LevelKind::kUnipolar: return (1 << bits) - 1 - zero_level;
    case LevelKind::kBipolar: return (1 << bits) - 1;
    case LevelKind::kTernary: return 1;
  }
  return 0;
}

std::string Levels::describe() const {
  if (kind == LevelKind::kTernary) return "ternary";
  if (kind == LevelKind::kBinary) return "binary";
  std::string s = "A" + std::to_string(bits) + (kind == LevelKind::kUnipolar ? " unipolar" : " bipolar");
  if (kind == LevelKind::kUnipolar) s += " (levels " + std::to_string(min_level()) + ".." + std::to_string(max_level()) + ")";
  char buf[32];
  std::snprintf(buf, sizeof buf, ", scale %g", double(scale));
  return s + buf;
}

Tensor Tensor::floats(std::vector<int64_t> shape, std::vector<float> data) {
  Tensor t;
  t.dtype = DType::kFloat;
  t.shape = std::move(shape);
  t.f = std::move(data);
  return t;
}

// ints and bools: int64 storage, told apart by dtype.
static Tensor integers(DType dtype, std::vector<int64_t> shape, std::vector<int64_t> data) {
  Tensor t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.i = std::move(data);
  return t;
}
Tensor Tensor::ints(std::vector<int64_t> shape, std::vector<int64_t> data) {
  return integers(DType::kInt64, std::move(shape), std::move(data));
}
Tensor Tensor::bools(std::vector<int64_t> shape, std::vector<int64_t> data) {
  return integers(DType::kBool, std::move(shape), std::move(data));
}

int64_t Tensor::as_int(int64_t k) const {
  if (!is_float()) return i[size_t(k)];
  const float v = f[size_t(k)];
  constexpr float kLimit = 4.611686e18f;  // 2^62
  if (!(v == v)) return 0;
  if (v >= kLimit) return int64_t(1) << 62;
  if (v <= -kLimit) return -(int64_t(1) << 62);
  return int64_t(v);
}

int64_t Tensor::elements() const { return shape_elements(shape); }

std::vector<float> Tensor::to_floats() const {
  if (is_float()) return f;
  return std::vector<float>(i.begin(), i.end());
}

bool Tensor::consistent() const {
  const int64_t n = elements();
  if (n < 0) return false;
  return is_float() ? int64_t(f.size()) == n && i.empty() : int64_t(i.size()) == n && f.empty();
}

int64_t shape_elements(const std::vector<int64_t>& shape) {
  CheckedInt nonzero = 1;
  bool empty = false;
  for (int64_t d : shape) {
    if (d < 0) return -1;
    if (d == 0) {
      empty = true;
      continue;
    }
    nonzero *= d;
    if (!nonzero.ok() || nonzero.value() > (int64_t(1) << 62)) return -1;
  }
  return empty ? 0 : nonzero.value();
}

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t k = 0; k < shape.size(); ++k) {
    if (k) s += ", ";
    s += shape[k] < 0 ? std::string("?") : std::to_string(shape[k]);
  }
  return s + "]";
}

}  // namespace onebit::converter
