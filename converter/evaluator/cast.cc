// Cast, CastLike, Identity, Dropout (inference).
#include <cmath>
#include <cstring>

#include "evaluator/eval_util.h"
#include "ir/checked_int.h"

namespace onebit::converter::eval {
namespace {

// Nearest float16 value (ties to even; overflow to infinity), held as float.
float round_to_half(float x) {
  if (!std::isfinite(x) || x == 0) return x;
  const float a = std::fabs(x);
  if (a >= 65520.0f) return std::copysign(INFINITY, x);  // past the midpoint above 65504
  const int e = std::max(std::ilogb(a), -14);             // subnormal halves share the 2^-24 spacing
  const float spacing = std::ldexp(1.0f, e - 10);
  const float q = a / spacing;  // exact (power-of-two scaling)
  float r = std::round(q);
  if (std::fabs(q - std::trunc(q)) == 0.5f) r = 2.0f * std::round(q / 2.0f);
  return std::copysign(r * spacing, x);
}

// Nearest bfloat16 value (ties to even), held as float.
float round_to_bfloat16(float x) {
  if (std::isnan(x)) return x;
  uint32_t u;
  std::memcpy(&u, &x, 4);
  u += 0x7FFFu + ((u >> 16) & 1u);
  u &= 0xFFFF0000u;
  std::memcpy(&x, &u, 4);
  return x;
}

struct IntType {
  int bits;
  bool is_signed;
};

// ONNX TensorProto.DataType numbers of the integer types.
bool int_type(int64_t to, IntType* t) {
  switch (to) {
    case 2: *t = {8, false}; return true;    // UINT8
    case 3: *t = {8, true}; return true;     // INT8
    case 4: *t = {16, false}; return true;   // UINT16
    case 5: *t = {16, true}; return true;    // INT16
    case 6: *t = {32, true}; return true;    // INT32
    case 7: *t = {64, true}; return true;    // INT64
    case 12: *t = {32, false}; return true;  // UINT32
    case 13: *t = {64, false}; return true;  // UINT64 (held as int64: values below 2^63)
    default: return false;
  }
}

// Integer -> narrower integer type: two's-complement wrap, as numpy / C casts.
int64_t wrap_to(int64_t v, IntType t) {
  if (t.bits == 64) return v;
  const uint64_t mask = (uint64_t(1) << t.bits) - 1, u = uint64_t(v) & mask;
  if (t.is_signed && (u >> (t.bits - 1))) return int64_t(u | ~mask);
  return int64_t(u);
}

Status cast_to(const Node& n, const Tensor& x, int64_t to, Tensor* y) {
  y->shape = x.shape;
  y->f.clear();
  y->i.clear();
  const size_t m = size_t(x.elements());
  IntType it{};
  if (to == 1 || to == 10 || to == 11 || to == 16) {  // FLOAT, FLOAT16, DOUBLE, BFLOAT16
    y->dtype = DType::kFloat;
    y->f = x.to_floats();
    if (to == 10)
      for (float& v : y->f) v = round_to_half(v);
    if (to == 16)
      for (float& v : y->f) v = round_to_bfloat16(v);
  } else if (to == 9) {  // BOOL
    y->dtype = DType::kBool;
    y->i.resize(m);
    for (size_t k = 0; k < m; ++k) y->i[k] = x.is_float() ? (x.f[k] != 0) : (x.i[k] != 0);
  } else if (int_type(to, &it)) {
    y->dtype = DType::kInt64;
    y->i.resize(m);
    // Float -> integer truncates toward zero; values outside the target type are undefined in ONNX
    // (and in C++): an error rather than a guess. (uint64 is held as int64: values below 2^63.)
    for (size_t k = 0; k < m; ++k) {
      if (!x.is_float()) {
        y->i[k] = wrap_to(x.i[k], it);
        continue;
      }
      int64_t v;
      if (!float_to_int64(double(x.f[k]), &v) || wrap_to(v, it) != v || (!it.is_signed && v < 0))
        return fail(n, "element " + std::to_string(k) + " (" + std::to_string(x.f[k]) +
                           ") does not fit the target integer type " + std::to_string(to));
      y->i[k] = v;
    }
  } else {
    return fail(n, "cannot cast to ONNX data type " + std::to_string(to) +
                       " (supported: float 1, 10, 11, 16; integer 2-7, 12, 13; bool 9)");
  }
  return Status::Ok();
}

}  // namespace

Status eval_cast(const Node& n, const Inputs& in, Outputs* out) {
  const int64_t to = n.op != "CastLike"                ? n.i("to")
                     : in[1]->dtype == DType::kFloat ? 1
                     : in[1]->dtype == DType::kBool  ? 9
                                                     : 7;
  return cast_to(n, *in[0], to, &(*out)[0]);
}

Status eval_identity(const Node&, const Inputs& in, Outputs* out) {
  (*out)[0] = *in[0];
  return Status::Ok();
}

Status eval_dropout(const Node& n, const Inputs& in, Outputs* out) {
  const Tensor& x = *in[0];
  ONEBIT_RETURN_IF_ERROR(need_numeric(n, x, false, "input 0"));
  float ratio = n.f("ratio");
  if (in.size() > 1 && in[1]) {
    ONEBIT_RETURN_IF_ERROR(check_scalar(n, *in[1], DType::kFloat, "ratio (input 1)"));
    ratio = in[1]->f[0];
  }
  if (in.size() > 2 && in[2]) {
    ONEBIT_RETURN_IF_ERROR(check_scalar(n, *in[2], DType::kBool, "training_mode (input 2)"));
    if (in[2]->i[0] && ratio != 0)
      return fail(n, "training_mode is true: the output is random, not a constant");
  }
  (*out)[0] = x;  // inference: identity
  if (out->size() > 1) (*out)[1] = Tensor::bools(x.shape, std::vector<int64_t>(size_t(x.elements()), 1));
  return Status::Ok();
}

}  // namespace onebit::converter::eval
