// Checked int64 arithmetic for values that come from an untrusted ONNX file: shapes, steps, pads, axes,
// quantizer bounds (and floats cast to integers). Signed overflow is undefined behaviour in C++, so every
// sum, difference or product of such values goes through these: the result is exact or the operation says
// it is not, and the caller reports an error naming the node. Never do `a * b` on file-given int64s.
//
//   CheckedInt c = CheckedInt(e) - b + step - 1;      // chains carry "overflowed" along
//   if (!c.ok()) return error(...);  use c.value();
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace onebit::converter {

/// An int64 that remembers whether any operation producing it overflowed (or divided by zero, or divided
/// INT64_MIN by -1). Once invalid, it stays invalid through further operations.
class CheckedInt {
 public:
  constexpr CheckedInt(int64_t v = 0) : v_(v) {}  // NOLINT(google-explicit-constructor): reads like an int64
  static CheckedInt invalid() {
    CheckedInt c;
    c.ok_ = false;
    return c;
  }
  bool ok() const { return ok_; }
  /// The value (meaningful only when ok()).
  int64_t value() const { return v_; }

  friend CheckedInt operator+(CheckedInt a, CheckedInt b) {
    int64_t r;
    return a.ok_ && b.ok_ && !__builtin_add_overflow(a.v_, b.v_, &r) ? CheckedInt(r) : invalid();
  }
  friend CheckedInt operator-(CheckedInt a, CheckedInt b) {
    int64_t r;
    return a.ok_ && b.ok_ && !__builtin_sub_overflow(a.v_, b.v_, &r) ? CheckedInt(r) : invalid();
  }
  friend CheckedInt operator*(CheckedInt a, CheckedInt b) {
    int64_t r;
    return a.ok_ && b.ok_ && !__builtin_mul_overflow(a.v_, b.v_, &r) ? CheckedInt(r) : invalid();
  }
  /// Truncating division, as C++'s.
  friend CheckedInt operator/(CheckedInt a, CheckedInt b) {
    if (!a.ok_ || !b.ok_ || b.v_ == 0 || (b.v_ == -1 && a.v_ == std::numeric_limits<int64_t>::min())) return invalid();
    return CheckedInt(a.v_ / b.v_);
  }
  CheckedInt operator-() const { return CheckedInt(0) - *this; }
  CheckedInt& operator+=(CheckedInt b) { return *this = *this + b; }
  CheckedInt& operator-=(CheckedInt b) { return *this = *this - b; }
  CheckedInt& operator*=(CheckedInt b) { return *this = *this * b; }

 private:
  int64_t v_ = 0;
  bool ok_ = true;
};

/// The product of `dims` (1 for none), invalid on overflow.
inline CheckedInt checked_product(const std::vector<int64_t>& dims) {
  CheckedInt p = 1;
  for (int64_t d : dims) p *= d;
  return p;
}

/// A float / double cast to int64 (truncating, as a C++ cast) when it is finite and within int64's range; a
/// C++ cast of anything else is undefined behaviour. False otherwise (*out untouched).
inline bool float_to_int64(double v, int64_t* out) {
  // -2^63 is exact in double; 2^63 is the first value above the range.
  if (!(v >= -9223372036854775808.0 && v < 9223372036854775808.0)) return false;
  *out = int64_t(v);
  return true;
}

/// The same for int (e.g. a level count): false unless v is finite and int(v) is within int's range.
inline bool float_to_int(double v, int* out) {
  if (!(v > double(std::numeric_limits<int>::min()) - 1.0 && v < double(std::numeric_limits<int>::max()) + 1.0)) return false;
  *out = int(v);
  return true;
}

}  // namespace onebit::converter
