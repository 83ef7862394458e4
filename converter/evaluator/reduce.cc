// Reductions (Reduce*), Softmax / LogSoftmax over one axis, and BatchNormalization in inference form.
#include <algorithm>
#include <cmath>
#include <limits>

#include "evaluator/eval_util.h"

namespace onebit::converter::eval {
namespace {

enum class Red { kSum, kMean, kMax, kMin, kProd, kL1, kL2, kSumSquare };

Red red_of(const std::string& op) {
  if (op == "ReduceMean") return Red::kMean;
  if (op == "ReduceMax") return Red::kMax;
  if (op == "ReduceMin") return Red::kMin;
  if (op == "ReduceProd") return Red::kProd;
  if (op == "ReduceL1") return Red::kL1;
  if (op == "ReduceL2") return Red::kL2;
  if (op == "ReduceSumSquare") return Red::kSumSquare;
  return Red::kSum;
}

// Accumulates every input element into its output slot (acc starts at the reduction's identity).
// A = double for float inputs (rounded once at the end), int64_t (wrapping) for integer ones.
template <class T, class A>
void accumulate(Red r, const std::vector<T>& x, const std::vector<int64_t>& shape,
                const std::vector<int64_t>& out_strides, std::vector<A>* acc) {
  for_each_strided(shape, {out_strides}, {0}, [&](int64_t k, const int64_t* o) {
    const A v = A(x[size_t(k)]);
    A& a = (*acc)[size_t(o[0])];
    if constexpr (std::is_floating_point_v<A>) {
      switch (r) {
        case Red::kSum: case Red::kMean: a += v; break;
        case Red::kMax: if (v > a || std::isnan(v)) a = std::isnan(a) ? a : v; break;
        case Red::kMin: if (v < a || std::isnan(v)) a = std::isnan(a) ? a : v; break;
        case Red::kProd: a *= v; break;
        case Red::kL1: a += std::fabs(v); break;
        case Red::kL2: case Red::kSumSquare: a += v * v; break;
      }
    } else {
      const uint64_t u = uint64_t(v);
      switch (r) {
        case Red::kSum: case Red::kMean: a = A(uint64_t(a) + u); break;
        case Red::kMax: a = std::max(a, v); break;
        case Red::kMin: a = std::min(a, v); break;
        case Red::kProd: a = A(uint64_t(a) * u); break;
        case Red::kL1: a = A(uint64_t(a) + (v < 0 ? 0 - u : u)); break;
        case Red::kL2: case Red::kSumSquare: a = A(uint64_t(a) + u * u); break;
      }
    }
  });
}

template <class A>
A identity_of(Red r) {
  if (r == Red::kProd) return A(1);
  if (r == Red::kMax)
    return std::numeric_limits<A>::has_infinity ? -std::numeric_limits<A>::infinity() : std::numeric_limits<A>::lowest();
  if (r == Red::kMin)
    return std::numeric_limits<A>::has_infinity ? std::numeric_limits<A>::infinity() : std::numeric_limits<A>::max();
  return A(0);
}

}  // namespace

Status eval_reduce(const Node& n, const Inputs& in, Outputs* out) {
  const Tensor& x = *in[0];
  ONEBIT_RETURN_IF_ERROR(need_numeric(n, x, true, "input 0"));
  const int64_t rank = int64_t(x.shape.size());
  std::vector<int64_t> axes;
  if (in.size() > 1 && in[1])
    ONEBIT_RETURN_IF_ERROR(read_int_list(n, *in[1], "axes (input 1)", &axes));
  if (axes.empty() && n.i("noop_with_empty_axes") == 1) {
    (*out)[0] = x;
    return Status::Ok();
  }
  std::vector<char> reduced(size_t(rank), axes.empty() ? 1 : 0);
  for (int64_t a : axes) {
    int64_t d;
    ONEBIT_RETURN_IF_ERROR(normalize_axis(n, a, rank, &d));
    if (reduced[size_t(d)]) return fail(n, "axis " + std::to_string(a) + " is listed twice in axes");
    reduced[size_t(d)] = 1;
  }
  const bool keep = n.i("keepdims") != 0;
  std::vector<int64_t> kept_shape, out_shape;  // kept_shape: reduced dims as 1 (same layout as out_shape)
  double count = 1;  // elements per output (double: reduced dims may be huge when another dim is 0)
  for (int64_t d = 0; d < rank; ++d) {
    if (reduced[size_t(d)]) count *= double(x.shape[size_t(d)]);
    kept_shape.push_back(reduced[size_t(d)] ? 1 : x.shape[size_t(d)]);
    if (!reduced[size_t(d)] || keep) out_shape.push_back(kept_shape.back());
  }
  std::vector<int64_t> ost = strides(kept_shape);
  for (int64_t d = 0; d < rank; ++d)
    if (reduced[size_t(d)]) ost[size_t(d)] = 0;
  Tensor* y = &(*out)[0];
  ONEBIT_RETURN_IF_ERROR(make_output(n, x.dtype, out_shape, y));
  const Red r = red_of(n.op);
  const size_t m = size_t(y->elements());
  if (x.is_float()) {
    std::vector<double> acc(m, identity_of<double>(r));
    accumulate(r, x.f, x.shape, ost, &acc);
    for (size_t k = 0; k < m; ++k) {
      double v = acc[k];
      if (r == Red::kMean) v /= count;  // 0/0 = NaN over an empty set, as numpy
      if (r == Red::kL2) v = std::sqrt(v);
      y->f[k] = float(v);
    }
  } else {
    if (r == Red::kMean && count == 0) return fail(n, "ReduceMean of int64 over an empty set divides by zero");
    std::vector<int64_t> acc(m, identity_of<int64_t>(r));
    accumulate(r, x.i, x.shape, ost, &acc);
    for (size_t k = 0; k < m; ++k) {
      int64_t v = acc[k];
      if (r == Red::kMean) v /= int64_t(count);  // exact: count <= the input's element count
      if (r == Red::kL2) v = int64_t(std::sqrt(double(uint64_t(v))));
      y->i[k] = v;
    }
  }
  return Status::Ok();
}

Status eval_softmax(const Node& n, const Inputs& in, Outputs* out) {
  const Tensor& x = *in[0];
  ONEBIT_RETURN_IF_ERROR(need_numeric(n, x, false, "input 0"));
  const int64_t rank = int64_t(x.shape.size());
  int64_t axis;
  ONEBIT_RETURN_IF_ERROR(normalize_axis(n, n.i("axis"), rank, &axis));
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= x.shape[size_t(d)];
  for (int64_t d = axis + 1; d < rank; ++d) inner *= x.shape[size_t(d)];
  const int64_t len = x.shape[size_t(axis)];
  const bool log = n.op == "LogSoftmax";
  Tensor* y = &(*out)[0];
  *y = x;
  if (x.elements() == 0) return Status::Ok();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const int64_t base = o * len * inner + i;
      auto at = [&](int64_t k) { return size_t(base + k * inner); };
      float mx = -std::numeric_limits<float>::infinity();
      for (int64_t k = 0; k < len; ++k) mx = std::max(mx, x.f[at(k)]);
      double sum = 0;
      for (int64_t k = 0; k < len; ++k) sum += double(std::exp(x.f[at(k)] - mx));
      for (int64_t k = 0; k < len; ++k) {
        const float z = x.f[at(k)] - mx;
        y->f[at(k)] = log ? float(double(z) - std::log(sum)) : float(double(std::exp(z)) / sum);
      }
    }
  return Status::Ok();
}

Status eval_batchnorm(const Node& n, const Inputs& in, Outputs* out) {
  if (n.i("training_mode") != 0) return fail(n, "training_mode=1 (batch statistics) is not an inference op");
  for (size_t k = 1; k < n.outputs.size(); ++k)
    if (n.outputs[k] != kNoId)
      return fail(n, "output " + std::to_string(k) + " (running statistics) exists only in training mode");
  const Tensor& x = *in[0];
  for (size_t k = 0; k < 5; ++k)
    ONEBIT_RETURN_IF_ERROR(need_numeric(n, *in[k], false, input_name(k)));
  if (x.shape.size() < 2) return fail(n, "the input must have rank >= 2 (N, C, ...), got " + shape_str(x.shape));
  // spatial=1: per-channel parameters [C]; spatial=0 (opset < 9): one per (C, D1, ...) position.
  const bool spatial = n.i("spatial") != 0;
  const std::vector<int64_t> pshape =
      spatial ? std::vector<int64_t>{x.shape[1]} : std::vector<int64_t>(x.shape.begin() + 1, x.shape.end());
  static const char* names[] = {"", "scale", "B", "mean", "var"};
  for (size_t k = 1; k < 5; ++k)
    if (in[k]->shape != pshape)
      return fail(n, std::string(names[k]) + " (input " + std::to_string(k) + ") must have shape " +
                         shape_str(pshape) + ", got " + shape_str(in[k]->shape));
  const int64_t per_sample = shape_elements(std::vector<int64_t>(x.shape.begin() + 1, x.shape.end()));
  const int64_t plen = shape_elements(pshape);
  const int64_t inner = plen == 0 ? 0 : per_sample / plen;  // elements sharing one parameter within a sample
  const float eps = n.f("epsilon");
  Tensor* y = &(*out)[0];
  *y = x;
  for (int64_t k = 0; k < x.elements(); ++k) {
    const size_t c = size_t((k % per_sample) / inner);
    y->f[size_t(k)] = (x.f[size_t(k)] - in[3]->f[c]) / std::sqrt(in[4]->f[c] + eps) * in[1]->f[c] + in[2]->f[c];
  }
  return Status::Ok();
}

}  // namespace onebit::converter::eval
