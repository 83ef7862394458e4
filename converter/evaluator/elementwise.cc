// Elementwise ops: unary math, broadcasting binary arithmetic, Min/Max/Sum/Mean, comparisons, logical ops,
// Where, Clip, PRelu.
#include <cmath>
#include <cstring>
#include <limits>

#include "evaluator/eval_util.h"
#include "ir/checked_int.h"

namespace onebit::converter::eval {
namespace {

// Two's-complement wrap, as ONNX runtimes do for int64 (signed overflow is undefined in C++).
int64_t wrap_add(int64_t a, int64_t b) { return int64_t(uint64_t(a) + uint64_t(b)); }
int64_t wrap_sub(int64_t a, int64_t b) { return int64_t(uint64_t(a) - uint64_t(b)); }
int64_t wrap_mul(int64_t a, int64_t b) { return int64_t(uint64_t(a) * uint64_t(b)); }

// Round half to even (ONNX Round), independent of the FPU rounding mode.
float round_half_even(float x) {
  if (std::fabs(x - std::trunc(x)) == 0.5f) return 2.0f * std::round(x / 2.0f);
  return std::round(x);
}

template <class T>
T sign_of(T x) {
  return x > 0 ? T(1) : x < 0 ? T(-1) : x;  // keeps 0 (and -0 and NaN) as is
}

// Out = f(a, b) over the broadcast shape. f may set *err (first error wins) instead of returning a value.
template <class R, class A, class B, class F>
Status broadcast2(const Node& n, const Tensor& a, const Tensor& b, DType dt, Tensor* y, F&& f) {
  std::vector<int64_t> shape;
  ONEBIT_RETURN_IF_ERROR(broadcast_shapes(n, {a.shape, b.shape}, &shape));
  ONEBIT_RETURN_IF_ERROR(make_output(n, dt, shape, y));
  const std::vector<A>& da = data<A>(a);
  const std::vector<B>& db = data<B>(b);
  std::vector<R>& dy = data<R>(*y);
  std::string err;
  for_each_strided(shape, {broadcast_strides(a.shape, shape), broadcast_strides(b.shape, shape)}, {0, 0},
                   [&](int64_t k, const int64_t* o) { dy[size_t(k)] = f(da[size_t(o[0])], db[size_t(o[1])], &err); });
  if (!err.empty()) return fail(n, err);
  return Status::Ok();
}

template <class T, class F>
void map_unary(const Tensor& x, Tensor* y, F&& f) {
  *y = x;
  for (T& v : data<T>(*y)) v = f(v);
}

int64_t int_div(int64_t a, int64_t b, std::string* err) {
  if (b == 0) {
    if (err->empty()) *err = "integer division by zero";
    return 0;
  }
  if (b == -1) return wrap_sub(0, a);  // INT64_MIN / -1 wraps
  return a / b;                        // truncates toward zero, as C
}

int64_t int_mod(int64_t a, int64_t b, bool c_style, std::string* err) {
  if (b == 0) {
    if (err->empty()) *err = "integer modulo by zero";
    return 0;
  }
  if (b == -1) return 0;
  int64_t r = a % b;  // sign of the dividend (fmod = 1)
  if (!c_style && r != 0 && ((r < 0) != (b < 0))) r += b;  // sign of the divisor (fmod = 0, Python %)
  return r;
}

int64_t int_pow(int64_t base, int64_t e, std::string* err) {
  if (e < 0) {
    if (err->empty()) *err = "integer Pow with the negative exponent " + std::to_string(e);
    return 0;
  }
  uint64_t r = 1, b = uint64_t(base);
  for (uint64_t x = uint64_t(e); x; x >>= 1) {
    if (x & 1) r *= b;
    b *= b;
  }
  return int64_t(r);
}

// double -> int64 when the value is finite and in range (the conversion is undefined otherwise).
int64_t to_int_checked(double v, std::string* err) {
  int64_t r = 0;
  if (!float_to_int64(v, &r) && err->empty()) *err = "the result " + std::to_string(v) + " does not fit int64";
  return r;
}

Status eval_pow(const Node& n, const Tensor& a, const Tensor& b, Tensor* y) {
  ONEBIT_RETURN_IF_ERROR(need_numeric(n, a, true, "the base (input 0)"));
  ONEBIT_RETURN_IF_ERROR(need_numeric(n, b, true, "the exponent (input 1)"));
  // Computed in double and rounded once: exact for the integer powers of two quantizers build.
  if (a.is_float() && b.is_float())
    return broadcast2<float, float, float>(n, a, b, DType::kFloat, y, [](float x, float e, std::string*) {
      return float(std::pow(double(x), double(e)));
    });
  if (a.is_float())
    return broadcast2<float, float, int64_t>(n, a, b, DType::kFloat, y, [](float x, int64_t e, std::string*) {
      return float(std::pow(double(x), double(e)));
    });
  if (b.is_float())
    return broadcast2<int64_t, int64_t, float>(n, a, b, DType::kInt64, y, [](int64_t x, float e, std::string* err) {
      return to_int_checked(std::pow(double(x), double(e)), err);
    });
  return broadcast2<int64_t, int64_t, int64_t>(n, a, b, DType::kInt64, y, int_pow);
}

// Add Sub Mul Div Mod on two tensors of one dtype (also used to fold Min/Max/Sum/Mean pairwise).
Status arith(const Node& n, const std::string& op, const Tensor& a, const Tensor& b, Tensor* y) {
  ONEBIT_RETURN_IF_ERROR(need_numeric(n, a, true, "input 0"));
  ONEBIT_RETURN_IF_ERROR(need_numeric(n, b, true, "input 1"));
  ONEBIT_RETURN_IF_ERROR(need_same_dtype(n, a, b, "input 0", "input 1"));
  if (a.is_float()) {
    auto go = [&](auto f) {
      return broadcast2<float, float, float>(n, a, b, DType::kFloat, y,
                                             [&](float x, float z, std::string*) { return f(x, z); });
    };
    if (op == "Add" || op == "Sum" || op == "Mean") return go([](float x, float z) { return x + z; });
    if (op == "Sub") return go([](float x, float z) { return x - z; });
    if (op == "Mul") return go([](float x, float z) { return x * z; });
    if (op == "Div") return go([](float x, float z) { return x / z; });
    // NaN propagates through Min/Max (numpy, ONNX).
    if (op == "Min") return go([](float x, float z) { return (x < z || std::isnan(x)) ? x : z; });
    if (op == "Max") return go([](float x, float z) { return (x > z || std::isnan(x)) ? x : z; });
    if (op == "Mod") {
      if (n.i("fmod") != 1) return fail(n, "Mod of float tensors requires fmod=1 (ONNX), got fmod=0");
      return go([](float x, float z) { return std::fmod(x, z); });
    }
  } else {
    auto go = [&](auto f) { return broadcast2<int64_t, int64_t, int64_t>(n, a, b, DType::kInt64, y, f); };
    if (op == "Add" || op == "Sum") return go([](int64_t x, int64_t z, std::string*) { return wrap_add(x, z); });
    if (op == "Sub") return go([](int64_t x, int64_t z, std::string*) { return wrap_sub(x, z); });
    if (op == "Mul") return go([](int64_t x, int64_t z, std::string*) { return wrap_mul(x, z); });
    if (op == "Div") return go(int_div);
    if (op == "Min") return go([](int64_t x, int64_t z, std::string*) { return std::min(x, z); });
    if (op == "Max") return go([](int64_t x, int64_t z, std::string*) { return std::max(x, z); });
    if (op == "Mod") {
      const bool c_style = n.i("fmod") == 1;
      return go([c_style](int64_t x, int64_t z, std::string* err) { return int_mod(x, z, c_style, err); });
    }
    if (op == "Sum" || op == "Mean") return fail(n, op + " takes float inputs, not int64");
  }
  return fail(n, "internal error: no arithmetic for " + op);
}

}  // namespace

Status eval_unary(const Node& n, const Inputs& in, Outputs* out) {
  const Tensor& x = *in[0];
  const std::string& op = n.op;
  const bool int_ok = op == "Abs" || op == "Neg" || op == "Sign" || op == "Relu";
  ONEBIT_RETURN_IF_ERROR(need_numeric(n, x, int_ok, "input 0"));
  Tensor* y = &(*out)[0];
  if (!x.is_float()) {
    if (op == "Abs") map_unary<int64_t>(x, y, [](int64_t v) { return v < 0 ? wrap_sub(0, v) : v; });
    if (op == "Neg") map_unary<int64_t>(x, y, [](int64_t v) { return wrap_sub(0, v); });
    if (op == "Sign") map_unary<int64_t>(x, y, sign_of<int64_t>);
    if (op == "Relu") map_unary<int64_t>(x, y, [](int64_t v) { return v < 0 ? int64_t(0) : v; });
    return Status::Ok();
  }
  float (*f)(float) = nullptr;
  if (op == "Abs") f = [](float v) { return std::fabs(v); };
  if (op == "Neg") f = [](float v) { return -v; };
  if (op == "Sign") f = sign_of<float>;
  if (op == "Sqrt") f = [](float v) { return std::sqrt(v); };
  if (op == "Exp") f = [](float v) { return std::exp(v); };
  if (op == "Log") f = [](float v) { return std::log(v); };
  if (op == "Round") f = round_half_even;
  if (op == "Floor") f = [](float v) { return std::floor(v); };
  if (op == "Ceil") f = [](float v) { return std::ceil(v); };
  if (op == "Reciprocal") f = [](float v) { return 1.0f / v; };
  if (op == "Tanh") f = [](float v) { return std::tanh(v); };
  if (op == "Sigmoid") f = [](float v) { return 1.0f / (1.0f + std::exp(-v)); };
  if (op == "Erf") f = [](float v) { return std::erf(v); };
  if (op == "Sin") f = [](float v) { return std::sin(v); };
  if (op == "Cos") f = [](float v) { return std::cos(v); };
  if (op == "Relu") f = [](float v) { return v < 0 ? 0.0f : v; };  // NaN stays NaN
  if (f == nullptr) return fail(n, "internal error: no unary function for " + op);
  map_unary<float>(x, y, f);
  return Status::Ok();
}

Status eval_leaky_relu(const Node& n, const Inputs& in, Outputs* out) {
  ONEBIT_RETURN_IF_ERROR(need_numeric(n, *in[0], false, "input 0"));
  const float alpha = n.f("alpha");
  map_unary<float>(*in[0], &(*out)[0], [alpha](float v) { return v < 0 ? alpha * v : v; });
  return Status::Ok();
}

Status eval_hard_sigmoid(const Node& n, const Inputs& in, Outputs* out) {
  ONEBIT_RETURN_IF_ERROR(need_numeric(n, *in[0], false, "input 0"));
  const float alpha = n.f("alpha"), beta = n.f("beta");
  map_unary<float>(*in[0], &(*out)[0], [alpha, beta](float v) {
    const float h = alpha * v + beta;
    return h < 0 ? 0.0f : h > 1 ? 1.0f : h;
  });
  return Status::Ok();
}

Status eval_binary(const Node& n, const Inputs& in, Outputs* out) {
  if (n.op == "Pow") return eval_pow(n, *in[0], *in[1], &(*out)[0]);
  return arith(n, n.op, *in[0], *in[1], &(*out)[0]);
}

Status eval_variadic(const Node& n, const Inputs& in, Outputs* out) {
  const bool float_only = n.op == "Sum" || n.op == "Mean";
  for (size_t k = 0; k < in.size(); ++k)
    ONEBIT_RETURN_IF_ERROR(need_numeric(n, *in[k], !float_only, input_name(k)));
  // Pairwise left to right: ((a op b) op c) ..., broadcasting as it goes (equal to one N-way broadcast).
  Tensor acc = *in[0];
  for (size_t k = 1; k < in.size(); ++k) {
    ONEBIT_RETURN_IF_ERROR(need_same_dtype(n, *in[0], *in[k], "input 0", input_name(k)));
    Tensor next;
    ONEBIT_RETURN_IF_ERROR(arith(n, n.op, acc, *in[k], &next));
    acc = std::move(next);
  }
  if (n.op == "Mean")
    for (float& v : acc.f) v /= float(in.size());
  (*out)[0] = std::move(acc);
  return Status::Ok();
}

Status eval_compare(const Node& n, const Inputs& in, Outputs* out) {
  const Tensor &a = *in[0], &b = *in[1];
  if (n.op == "Equal") {
    ONEBIT_RETURN_IF_ERROR(need_same_dtype(n, a, b, "input 0", "input 1"));
  } else {
    ONEBIT_RETURN_IF_ERROR(need_numeric(n, a, true, "input 0"));
    ONEBIT_RETURN_IF_ERROR(need_numeric(n, b, true, "input 1"));
    ONEBIT_RETURN_IF_ERROR(need_same_dtype(n, a, b, "input 0", "input 1"));
  }
  const std::string& op = n.op;
  auto go = [&](auto tag) {
    using T = decltype(tag);
    return broadcast2<int64_t, T, T>(n, a, b, DType::kBool, &(*out)[0], [&op](T x, T z, std::string*) {
      if (op == "Equal") return int64_t(x == z);
      if (op == "Less") return int64_t(x < z);
      if (op == "LessOrEqual") return int64_t(x <= z);
      if (op == "Greater") return int64_t(x > z);
      return int64_t(x >= z);  // GreaterOrEqual
    });
  };
  return a.is_float() ? go(float()) : go(int64_t());
}

Status eval_logical(const Node& n, const Inputs& in, Outputs* out) {
  for (size_t k = 0; k < in.size(); ++k)
    if (in[k]->dtype != DType::kBool)
      return fail(n, input_name(k) + " must be bool, not " + dtype_name(in[k]->dtype));
  if (n.op == "Not") {
    map_unary<int64_t>(*in[0], &(*out)[0], [](int64_t v) { return 1 - v; });
    return Status::Ok();
  }
  const int which = n.op == "And" ? 0 : n.op == "Or" ? 1 : 2;
  return broadcast2<int64_t, int64_t, int64_t>(n, *in[0], *in[1], DType::kBool, &(*out)[0],
                                               [which](int64_t x, int64_t z, std::string*) {
                                                 return which == 0 ? (x & z) : which == 1 ? (x | z) : (x ^ z);
                                               });
}

Status eval_where(const Node& n, const Inputs& in, Outputs* out) {
  const Tensor &c = *in[0], &x = *in[1], &z = *in[2];
  if (c.dtype != DType::kBool) return fail(n, std::string("the condition (input 0) must be bool, not ") + dtype_name(c.dtype));
  ONEBIT_RETURN_IF_ERROR(need_same_dtype(n, x, z, "input 1", "input 2"));
  std::vector<int64_t> shape;
  ONEBIT_RETURN_IF_ERROR(broadcast_shapes(n, {c.shape, x.shape, z.shape}, &shape));
  Tensor* y = &(*out)[0];
  ONEBIT_RETURN_IF_ERROR(make_output(n, x.dtype, shape, y));
  const std::vector<std::vector<int64_t>> st = {broadcast_strides(c.shape, shape), broadcast_strides(x.shape, shape),
                                                broadcast_strides(z.shape, shape)};
  auto go = [&](auto tag) {
    using T = decltype(tag);
    const std::vector<T>&dx = data<T>(x), &dz = data<T>(z);
    std::vector<T>& dy = data<T>(*y);
    for_each_strided(shape, st, {0, 0, 0}, [&](int64_t k, const int64_t* o) {
      dy[size_t(k)] = c.i[size_t(o[0])] ? dx[size_t(o[1])] : dz[size_t(o[2])];
    });
  };
  return by_storage(x, go);
}

Status eval_clip(const Node& n, const Inputs& in, Outputs* out) {
  const Tensor& x = *in[0];
  ONEBIT_RETURN_IF_ERROR(need_numeric(n, x, true, "input 0"));
  const Tensor* lo = in.size() > 1 ? in[1] : nullptr;
  const Tensor* hi = in.size() > 2 ? in[2] : nullptr;
  if (lo)
    ONEBIT_RETURN_IF_ERROR(check_scalar(n, *lo, x.dtype, "min (input 1)"));
  if (hi)
    ONEBIT_RETURN_IF_ERROR(check_scalar(n, *hi, x.dtype, "max (input 2)"));
  // min > max sets everything to max (ONNX); NaN stays NaN.
  auto go = [&](auto tag) {
    using T = decltype(tag);
    map_unary<T>(x, &(*out)[0], [&](T v) {
      if (lo && v < data<T>(*lo)[0]) v = data<T>(*lo)[0];
      if (hi && v > data<T>(*hi)[0]) v = data<T>(*hi)[0];
      return v;
    });
  };
  return by_storage(x, go);
}

Status eval_prelu(const Node& n, const Inputs& in, Outputs* out) {
  const Tensor &x = *in[0], &slope = *in[1];
  ONEBIT_RETURN_IF_ERROR(need_numeric(n, x, true, "input 0"));
  ONEBIT_RETURN_IF_ERROR(need_same_dtype(n, x, slope, "input 0", "the slope (input 1)"));
  std::vector<int64_t> shape;
  ONEBIT_RETURN_IF_ERROR(broadcast_shapes(n, {x.shape, slope.shape}, &shape));
  if (shape != x.shape)  // unidirectional: the slope broadcasts to x, never the reverse
    return fail(n, "the slope of shape " + shape_str(slope.shape) + " does not broadcast to the input's shape " +
                       shape_str(x.shape));
  if (x.is_float())
    return broadcast2<float, float, float>(n, x, slope, DType::kFloat, &(*out)[0],
                                           [](float v, float s, std::string*) { return v < 0 ? s * v : v; });
  return broadcast2<int64_t, int64_t, int64_t>(n, x, slope, DType::kInt64, &(*out)[0],
                                               [](int64_t v, int64_t s, std::string*) { return v < 0 ? wrap_mul(s, v) : v; });
}

}  // namespace onebit::converter::eval
