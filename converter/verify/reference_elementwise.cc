// Elementwise ops of the reference (reference.h): unary functions, arithmetic and comparisons with ONNX's
// multidirectional (numpy) broadcasting, Where, Clip, PRelu, QuantizeLinear / DequantizeLinear.
#include <algorithm>
#include <cmath>

#include "verify/reference_ops.h"

namespace onebit::converter {
namespace {

std::string shape_text(const std::vector<const RefTensor*>& xs) {
  std::string s;
  for (const RefTensor* x : xs) {
    s += s.empty() ? "[" : " and [";
    for (size_t k = 0; k < x->shape.size(); ++k) s += (k ? ", " : "") + std::to_string(x->shape[k]);
    s += "]";
  }
  return s;
}

// numpy broadcasting of several shapes: right-aligned, each dim equal or 1.
Status broadcast_shape(const RefNode& n, const std::vector<const RefTensor*>& xs, std::vector<int64_t>* out) {
  size_t rank = 0;
  for (const RefTensor* x : xs) rank = std::max(rank, x->shape.size());
  out->assign(rank, 1);
  for (const RefTensor* x : xs) {
    const size_t off = rank - x->shape.size();
    for (size_t k = 0; k < x->shape.size(); ++k) {
      int64_t& d = (*out)[off + k];
      const int64_t e = x->shape[k];
      if (d == 1) d = e;
      else if (e != 1 && e != d) return n.error("shapes do not broadcast: " + shape_text(xs));
    }
  }
  return Status::Ok();
}

// Walks the elements of a broadcast output in order, keeping each input's linear index (an odometer over
// the output's dims; an input's stride is 0 along the dims it broadcasts).
class BroadcastWalk {
 public:
  BroadcastWalk(const std::vector<const RefTensor*>& xs, const std::vector<int64_t>& out_shape)
      : shape_(out_shape), pos_(out_shape.size(), 0), at_(xs.size(), 0), step_(xs.size()) {
    const size_t rank = out_shape.size();
    for (size_t i = 0; i < xs.size(); ++i) {
      const std::vector<int64_t>& s = xs[i]->shape;
      const std::vector<int64_t> st = strides_of(s);
      step_[i].assign(rank, 0);
      for (size_t k = 0; k < s.size(); ++k)
        if (s[k] != 1) step_[i][rank - s.size() + k] = st[k];
    }
  }
  int64_t at(size_t input) const { return at_[input]; }
  void next() {
    for (size_t k = shape_.size(); k-- > 0;) {
      for (size_t i = 0; i < at_.size(); ++i) at_[i] += step_[i][k];
      if (++pos_[k] < shape_[k]) return;
      for (size_t i = 0; i < at_.size(); ++i) at_[i] -= step_[i][k] * shape_[k];
      pos_[k] = 0;
    }
  }

 private:
  std::vector<int64_t> shape_, pos_, at_;
  std::vector<std::vector<int64_t>> step_;
};

// y = f(inputs...) elementwise with broadcasting over every present input.
template <typename F>
Status broadcast_apply(RefNode& n, F f) {
  std::vector<const RefTensor*> xs;
  for (const RefTensor* x : n.in)
    if (x) xs.push_back(x);
  if (xs.empty()) return n.error("no inputs");
  RefTensor& y = n.out[0];
  ONEBIT_RETURN_IF_ERROR(broadcast_shape(n, xs, &y.shape));
  y.data.resize(size_t(element_count(y.shape)));
  std::vector<double> args(xs.size());
  BroadcastWalk walk(xs, y.shape);
  for (size_t e = 0; e < y.data.size(); ++e, walk.next()) {
    for (size_t k = 0; k < xs.size(); ++k) args[k] = xs[k]->data[size_t(walk.at(k))];
    y.data[e] = f(args);
  }
  return Status::Ok();
}

template <typename F>
Status unary(RefNode& n, F f) {
  const RefTensor* x;
  ONEBIT_RETURN_IF_ERROR(n.input(0, &x));
  n.out[0].shape = x->shape;
  n.out[0].onnx_type = x->onnx_type;
  n.out[0].data.resize(x->size());
  for (size_t e = 0; e < x->size(); ++e) n.out[0].data[e] = f(x->data[e]);
  return Status::Ok();
}

template <typename F>
Status binary(RefNode& n, F f) {
  if (n.in.size() != 2 || !n.in[0] || !n.in[1]) return n.error("needs two inputs");
  ONEBIT_RETURN_IF_ERROR(broadcast_apply(n, [&](const std::vector<double>& a) { return f(a[0], a[1]); }));
  n.out[0].onnx_type = n.in[0]->onnx_type;
  return Status::Ok();
}

double sign(double x) { return x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0); }

Status clip(RefNode& n) {
  double lo = -INFINITY, hi = INFINITY;
  if (n.opset < 11) {
    lo = n.f("min", lo);
    hi = n.f("max", hi);
  } else {
    if (n.in.size() > 1 && n.in[1]) lo = n.in[1]->data.at(0);
    if (n.in.size() > 2 && n.in[2]) hi = n.in[2]->data.at(0);
  }
  // ONNX: min(max(x, lo), hi), so lo > hi gives hi everywhere.
  return unary(n, [=](double x) { return std::min(std::max(x, lo), hi); });
}

Status prelu(RefNode& n) {
  return binary(n, [](double x, double slope) { return x < 0 ? x * slope : x; });
}

Status where(RefNode& n) {
  if (n.in.size() != 3 || !n.in[0] || !n.in[1] || !n.in[2]) return n.error("needs three inputs");
  ONEBIT_RETURN_IF_ERROR(broadcast_apply(n, [](const std::vector<double>& a) { return a[0] != 0 ? a[1] : a[2]; }));
  n.out[0].onnx_type = n.in[1]->onnx_type;
  return Status::Ok();
}

// Quantize / dequantize: per tensor, or per `axis` with 1-D scale and zero point.
struct QuantParams {
  const RefTensor* scale = nullptr;
  const RefTensor* zero = nullptr;
  int64_t inner = 1, channels = 1;  // channel of element e: (e / inner) % channels
};

Status quant_params(RefNode& n, QuantParams* q) {
  const RefTensor* x;
  ONEBIT_RETURN_IF_ERROR(n.input(0, &x));
  ONEBIT_RETURN_IF_ERROR(n.input(1, &q->scale));
  q->zero = n.in.size() > 2 ? n.in[2] : nullptr;
  if (q->scale->size() == 1) return Status::Ok();
  size_t axis;
  ONEBIT_RETURN_IF_ERROR(normalize_axis(n, n.i("axis", 1), x->shape.size(), &axis));
  q->channels = x->shape[axis];
  if (int64_t(q->scale->size()) != q->channels || (q->zero && q->zero->size() != q->scale->size()))
    return n.error("per-axis scale / zero point do not match the axis");
  for (size_t k = axis + 1; k < x->shape.size(); ++k) q->inner *= x->shape[k];
  return Status::Ok();
}

Status quantize_linear(RefNode& n) {
  QuantParams q;
  ONEBIT_RETURN_IF_ERROR(quant_params(n, &q));
  const int type = q.zero ? q.zero->onnx_type : int(onnx::TensorProto::UINT8);
  double lo = 0, hi = 255;
  if (type == onnx::TensorProto::INT8) lo = -128, hi = 127;
  else if (type == onnx::TensorProto::INT16) lo = -32768, hi = 32767;
  else if (type == onnx::TensorProto::UINT16) hi = 65535;
  else if (type != onnx::TensorProto::UINT8) return n.error("zero point type " + std::to_string(type) + " is not supported");
  const RefTensor& x = *n.in[0];
  RefTensor& y = n.out[0];
  y.shape = x.shape;
  y.onnx_type = type;
  y.data.resize(x.size());
  for (size_t e = 0; e < x.size(); ++e) {
    const size_t c = size_t((int64_t(e) / q.inner) % q.channels);
    const double s = q.scale->data[q.scale->size() == 1 ? 0 : c];
    const double z = q.zero ? q.zero->data[q.zero->size() == 1 ? 0 : c] : 0.0;
    // ONNX: saturate(round(x / y_scale) + y_zero_point), round half to even (nearbyint in the default mode).
    y.data[e] = std::min(std::max(std::nearbyint(x.data[e] / s) + z, lo), hi);
  }
  return Status::Ok();
}

Status dequantize_linear(RefNode& n) {
  QuantParams q;
  ONEBIT_RETURN_IF_ERROR(quant_params(n, &q));
  const RefTensor& x = *n.in[0];
  RefTensor& y = n.out[0];
  y.shape = x.shape;
  y.data.resize(x.size());
  for (size_t e = 0; e < x.size(); ++e) {
    const size_t c = size_t((int64_t(e) / q.inner) % q.channels);
    const double s = q.scale->data[q.scale->size() == 1 ? 0 : c];
    const double z = q.zero ? q.zero->data[q.zero->size() == 1 ? 0 : c] : 0.0;
    y.data[e] = (x.data[e] - z) * s;
  }
  return Status::Ok();
}

template <typename F>
Status variadic(RefNode& n, F f) {
  ONEBIT_RETURN_IF_ERROR(broadcast_apply(n, f));
  n.out[0].onnx_type = n.in[0] ? n.in[0]->onnx_type : 1;
  return Status::Ok();
}

Status cast(RefNode& n) {
  const int64_t to = n.i("to", 1);
  ONEBIT_RETURN_IF_ERROR(unary(n, [to](double x) {
    if (to == onnx::TensorProto::BOOL) return x != 0 ? 1.0 : 0.0;
    if (to == onnx::TensorProto::FLOAT) return double(float(x));
    if (to == onnx::TensorProto::DOUBLE) return x;
    return std::trunc(x);  // integer types: toward zero
  }));
  n.out[0].onnx_type = int(to);
  return Status::Ok();
}

}  // namespace

void add_elementwise_ops(RefOpTable* t) {
  RefOpTable& m = *t;
  m["Relu"] = [](RefNode& n) { return unary(n, [](double x) { return x > 0 ? x : 0.0; }); };
  m["Sign"] = [](RefNode& n) { return unary(n, sign); };
  m["Tanh"] = [](RefNode& n) { return unary(n, [](double x) { return std::tanh(x); }); };
  m["Sin"] = [](RefNode& n) { return unary(n, [](double x) { return std::sin(x); }); };
  m["Cos"] = [](RefNode& n) { return unary(n, [](double x) { return std::cos(x); }); };
  m["Abs"] = [](RefNode& n) { return unary(n, [](double x) { return std::fabs(x); }); };
  m["Neg"] = [](RefNode& n) { return unary(n, [](double x) { return -x; }); };
  m["Round"] = [](RefNode& n) { return unary(n, [](double x) { return std::nearbyint(x); }); };  // half to even
  m["Floor"] = [](RefNode& n) { return unary(n, [](double x) { return std::floor(x); }); };
  m["Ceil"] = [](RefNode& n) { return unary(n, [](double x) { return std::ceil(x); }); };
  m["Sqrt"] = [](RefNode& n) { return unary(n, [](double x) { return std::sqrt(x); }); };
  m["Exp"] = [](RefNode& n) { return unary(n, [](double x) { return std::exp(x); }); };
  m["Log"] = [](RefNode& n) { return unary(n, [](double x) { return std::log(x); }); };
  m["Reciprocal"] = [](RefNode& n) { return unary(n, [](double x) { return 1.0 / x; }); };
  m["Sigmoid"] = [](RefNode& n) { return unary(n, [](double x) { return 1.0 / (1.0 + std::exp(-x)); }); };
  m["Identity"] = [](RefNode& n) { return unary(n, [](double x) { return x; }); };
  m["Dropout"] = m["Identity"];  // inference: the input (the optional mask output is not produced)
  m["Not"] = [](RefNode& n) { return unary(n, [](double x) { return x == 0 ? 1.0 : 0.0; }); };
  m["Clip"] = clip;
  m["Cast"] = cast;
  m["Add"] = [](RefNode& n) { return binary(n, [](double a, double b) { return a + b; }); };
  m["Sub"] = [](RefNode& n) { return binary(n, [](double a, double b) { return a - b; }); };
  m["Mul"] = [](RefNode& n) { return binary(n, [](double a, double b) { return a * b; }); };
  m["Div"] = [](RefNode& n) {
    const bool integer = n.in.size() > 0 && n.in[0] && n.in[0]->onnx_type != onnx::TensorProto::FLOAT &&
                         n.in[0]->onnx_type != onnx::TensorProto::DOUBLE;
    return binary(n, [integer](double a, double b) { return integer ? std::trunc(a / b) : a / b; });
  };
  m["Pow"] = [](RefNode& n) { return binary(n, [](double a, double b) { return std::pow(a, b); }); };
  m["PRelu"] = prelu;
  m["Greater"] = [](RefNode& n) { return binary(n, [](double a, double b) { return a > b ? 1.0 : 0.0; }); };
  m["Less"] = [](RefNode& n) { return binary(n, [](double a, double b) { return a < b ? 1.0 : 0.0; }); };
  m["GreaterOrEqual"] = [](RefNode& n) { return binary(n, [](double a, double b) { return a >= b ? 1.0 : 0.0; }); };
  m["LessOrEqual"] = [](RefNode& n) { return binary(n, [](double a, double b) { return a <= b ? 1.0 : 0.0; }); };
  m["Equal"] = [](RefNode& n) { return binary(n, [](double a, double b) { return a == b ? 1.0 : 0.0; }); };
  m["Where"] = where;
  m["Max"] = [](RefNode& n) {
    return variadic(n, [](const std::vector<double>& a) { return *std::max_element(a.begin(), a.end()); });
  };
  m["Min"] = [](RefNode& n) {
    return variadic(n, [](const std::vector<double>& a) { return *std::min_element(a.begin(), a.end()); });
  };
  m["Sum"] = [](RefNode& n) {
    return variadic(n, [](const std::vector<double>& a) {
      double s = 0;
      for (double v : a) s += v;
      return s;
    });
  };
  m["QuantizeLinear"] = quantize_linear;
  m["DequantizeLinear"] = dequantize_linear;
}

}  // namespace onebit::converter
