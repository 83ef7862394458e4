// Shape ops: Shape, Size, Reshape, Squeeze, Unsqueeze, Flatten, Transpose, Expand, Tile,
// ConstantOfShape, Range.
#include <algorithm>
#include <cmath>
#include <limits>

#include "evaluator/eval_util.h"

namespace onebit::converter::eval {
namespace {

// The same data under a new shape (element count already checked equal).
Tensor reshaped(const Tensor& x, std::vector<int64_t> shape) {
  Tensor y = x;
  y.shape = std::move(shape);
  return y;
}

}  // namespace

Status eval_shape(const Node& n, const Inputs& in, Outputs* out) {
  const int64_t rank = int64_t(in[0]->shape.size());
  // start/end clamp to [0, rank] after adding rank to negatives (opset 15).
  auto clampdim = [rank](int64_t v) { return std::clamp(v < 0 ? v + rank : v, int64_t(0), rank); };
  const int64_t start = clampdim(n.i("start")), end = std::max(start, clampdim(n.i("end")));
  std::vector<int64_t> dims(in[0]->shape.begin() + start, in[0]->shape.begin() + end);
  const int64_t len = int64_t(dims.size());
  (*out)[0] = Tensor::ints({len}, std::move(dims));
  return Status::Ok();
}

Status eval_size(const Node&, const Inputs& in, Outputs* out) {
  (*out)[0] = Tensor::ints({}, {in[0]->elements()});
  return Status::Ok();
}

Status eval_reshape(const Node& n, const Inputs& in, Outputs* out) {
  const Tensor& x = *in[0];
  std::vector<int64_t> shape;
  ONEBIT_RETURN_IF_ERROR(read_int_list(n, *in[1], "the shape (input 1)", &shape));
  const bool allowzero = n.i("allowzero") != 0;
  int64_t infer = -1;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == -1) {
      if (infer >= 0) return fail(n, "the shape " + shape_str(shape) + " has more than one -1");
      infer = int64_t(d);
    } else if (shape[d] < -1) {
      return fail(n, "the shape has the invalid dim " + std::to_string(shape[d]));
    } else if (shape[d] == 0 && !allowzero) {
      if (d >= x.shape.size())
        return fail(n, "dim " + std::to_string(d) + " of the shape is 0 (copy the input's dim) but the input " +
                           shape_str(x.shape) + " has rank " + std::to_string(x.shape.size()));
      shape[d] = x.shape[d];
    }
  }
  if (allowzero && infer >= 0 && std::count(shape.begin(), shape.end(), 0) > 0)
    return fail(n, "with allowzero=1 the shape cannot hold both 0 and -1");
  const int64_t total = x.elements();
  if (infer >= 0) {
    std::vector<int64_t> rest = shape;
    rest[size_t(infer)] = 1;
    const int64_t known = shape_elements(rest);
    if (known <= 0 || total % known != 0)
      return fail(n, "cannot infer the -1 in " + shape_str(shape) + " for an input of " + std::to_string(total) +
                         " elements " + shape_str(x.shape));
    shape[size_t(infer)] = total / known;
  }
  if (shape_elements(shape) != total)
    return fail(n, "cannot reshape " + shape_str(x.shape) + " (" + std::to_string(total) + " elements) to " +
                       shape_str(shape));
  (*out)[0] = reshaped(x, shape);
  return Status::Ok();
}

Status eval_squeeze(const Node& n, const Inputs& in, Outputs* out) {
  const Tensor& x = *in[0];
  const int64_t rank = int64_t(x.shape.size());
  std::vector<int64_t> axes;
  if (in.size() > 1 && in[1])
    ONEBIT_RETURN_IF_ERROR(read_int_list(n, *in[1], "axes (input 1)", &axes));
  std::vector<char> drop(size_t(rank), 0);
  if (axes.empty()) {  // absent (or empty): every dim of size 1
    for (int64_t d = 0; d < rank; ++d) drop[size_t(d)] = x.shape[size_t(d)] == 1;
  }
  for (int64_t a : axes) {
    int64_t d;
    ONEBIT_RETURN_IF_ERROR(normalize_axis(n, a, rank, &d));
    if (drop[size_t(d)]) return fail(n, "axis " + std::to_string(a) + " is listed twice in axes");
    if (x.shape[size_t(d)] != 1)
      return fail(n, "cannot squeeze axis " + std::to_string(a) + " of " + shape_str(x.shape) + ": its size is not 1");
    drop[size_t(d)] = 1;
  }
  std::vector<int64_t> shape;
  for (int64_t d = 0; d < rank; ++d)
    if (!drop[size_t(d)]) shape.push_back(x.shape[size_t(d)]);
  (*out)[0] = reshaped(x, shape);
  return Status::Ok();
}

Status eval_unsqueeze(const Node& n, const Inputs& in, Outputs* out) {
  const Tensor& x = *in[0];
  std::vector<int64_t> axes;
  ONEBIT_RETURN_IF_ERROR(read_int_list(n, *in[1], "axes (input 1)", &axes));
  const int64_t rank = int64_t(x.shape.size() + axes.size());
  std::vector<char> ins(size_t(rank), 0);
  for (int64_t a : axes) {
    int64_t d;
    if (Status st = normalize_axis(n, a, rank, &d, "axis"); !st.ok())
      return fail(n, "axis " + std::to_string(a) + " is out of range for the rank-" + std::to_string(rank) +
                         " output");
    if (ins[size_t(d)]) return fail(n, "axis " + std::to_string(a) + " is listed twice in axes");
    ins[size_t(d)] = 1;
  }
  std::vector<int64_t> shape;
  size_t src = 0;
  for (int64_t d = 0; d < rank; ++d) shape.push_back(ins[size_t(d)] ? 1 : x.shape[src++]);
  (*out)[0] = reshaped(x, shape);
  return Status::Ok();
}

Status eval_flatten(const Node& n, const Inputs& in, Outputs* out) {
  const Tensor& x = *in[0];
  const int64_t rank = int64_t(x.shape.size()), a = n.i("axis");
  if (a < -rank || a > rank)  // axis == rank is allowed: [N, 1]
    return fail(n, "axis " + std::to_string(a) + " is out of range [-" + std::to_string(rank) + ", " +
                       std::to_string(rank) + "] for a rank-" + std::to_string(rank) + " input");
  const int64_t axis = a < 0 ? a + rank : a;
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < rank; ++d) (d < axis ? outer : inner) *= x.shape[size_t(d)];
  (*out)[0] = reshaped(x, {outer, inner});
  return Status::Ok();
}

Status eval_transpose(const Node& n, const Inputs& in, Outputs* out) {
  const Tensor& x = *in[0];
  const int64_t rank = int64_t(x.shape.size());
  std::vector<int64_t> perm = n.ints("perm");
  if (perm.empty())
    for (int64_t d = rank; d-- > 0;) perm.push_back(d);
  if (int64_t(perm.size()) != rank)
    return fail(n, "perm " + shape_str(perm) + " has " + std::to_string(perm.size()) + " entries for a rank-" +
                       std::to_string(rank) + " input");
  std::vector<char> seen(size_t(rank), 0);
  for (int64_t p : perm) {
    if (p < 0 || p >= rank || seen[size_t(p)])
      return fail(n, "perm " + shape_str(perm) + " is not a permutation of 0.." + std::to_string(rank - 1));
    seen[size_t(p)] = 1;
  }
  const std::vector<int64_t> xs = strides(x.shape);
  std::vector<int64_t> shape, st;
  for (int64_t p : perm) {
    shape.push_back(x.shape[size_t(p)]);
    st.push_back(xs[size_t(p)]);
  }
  Tensor* y = &(*out)[0];
  ONEBIT_RETURN_IF_ERROR(make_output(n, x.dtype, shape, y));
  copy_strided(x, st, 0, y);
  return Status::Ok();
}

Status eval_expand(const Node& n, const Inputs& in, Outputs* out) {
  const Tensor& x = *in[0];
  std::vector<int64_t> target;
  ONEBIT_RETURN_IF_ERROR(read_int_list(n, *in[1], "the shape (input 1)", &target));
  for (int64_t d : target)
    if (d < 0) return fail(n, "the shape " + shape_str(target) + " has a negative dim");
  std::vector<int64_t> shape;
  ONEBIT_RETURN_IF_ERROR(broadcast_shapes(n, {x.shape, target}, &shape));
  Tensor* y = &(*out)[0];
  ONEBIT_RETURN_IF_ERROR(make_output(n, x.dtype, shape, y));
  copy_strided(x, broadcast_strides(x.shape, shape), 0, y);
  return Status::Ok();
}

Status eval_tile(const Node& n, const Inputs& in, Outputs* out) {
  const Tensor& x = *in[0];
  std::vector<int64_t> reps;
  ONEBIT_RETURN_IF_ERROR(read_int_list(n, *in[1], "repeats (input 1)", &reps));
  if (reps.size() != x.shape.size())
    return fail(n, "repeats has " + std::to_string(reps.size()) + " entries for a rank-" +
                       std::to_string(x.shape.size()) + " input");
  std::vector<int64_t> shape;
  for (size_t d = 0; d < reps.size(); ++d) {
    if (reps[d] < 0) return fail(n, "repeats " + shape_str(reps) + " has a negative entry");
    const int64_t dim = x.shape[d];
    if (dim != 0 && reps[d] > kMaxElements / dim)
      return fail(n, "the output would have more than 2^28 elements");
    shape.push_back(dim * reps[d]);
  }
  Tensor* y = &(*out)[0];
  ONEBIT_RETURN_IF_ERROR(make_output(n, x.dtype, shape, y));
  // Output index i reads input index i % dim on every axis: iterate with an odometer over the output.
  const size_t r = shape.size();
  const std::vector<int64_t> xs = strides(x.shape);
  std::vector<int64_t> idx(r, 0);
  int64_t src = 0;
  for (int64_t k = 0; k < y->elements(); ++k) {
    if (x.is_float())
      y->f[size_t(k)] = x.f[size_t(src)];
    else
      y->i[size_t(k)] = x.i[size_t(src)];
    for (size_t d = r; d-- > 0;) {
      ++idx[d];
      src += xs[d];
      if (idx[d] % x.shape[d] == 0) src -= xs[d] * x.shape[d];  // wrapped around the input dim
      if (idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return Status::Ok();
}

Status eval_constant_of_shape(const Node& n, const Inputs& in, Outputs* out) {
  std::vector<int64_t> shape;
  ONEBIT_RETURN_IF_ERROR(read_int_list(n, *in[0], "the shape (input 0)", &shape));
  auto it = n.attrs.find("value");
  const Tensor* v = it == n.attrs.end() ? nullptr : &it->second.t;
  const bool unset = !v || (v->f.empty() && v->i.empty());  // the schema's default: float 0
  if (!unset && (v->elements() != 1 || !v->consistent() || v->dtype == DType::kBits))
    return fail(n, "the value attribute must be a one-element tensor, got shape " + shape_str(v->shape));
  Tensor* y = &(*out)[0];
  ONEBIT_RETURN_IF_ERROR(make_output(n, unset ? DType::kFloat : v->dtype, shape, y));
  if (!unset) {
    if (y->is_float())
      std::fill(y->f.begin(), y->f.end(), v->f[0]);
    else
      std::fill(y->i.begin(), y->i.end(), v->i[0]);
  }
  return Status::Ok();
}

Status range_count(const Node& n, const Tensor& s, const Tensor& l, const Tensor& d, int64_t* count) {
  ONEBIT_RETURN_IF_ERROR(need_numeric(n, s, true, "start (input 0)"));
  ONEBIT_RETURN_IF_ERROR(check_scalar(n, s, s.dtype, "start (input 0)"));
  ONEBIT_RETURN_IF_ERROR(check_scalar(n, l, s.dtype, "limit (input 1)"));
  ONEBIT_RETURN_IF_ERROR(check_scalar(n, d, s.dtype, "delta (input 2)"));
  if (s.is_float()) {
    const float start = s.f[0], limit = l.f[0], delta = d.f[0];
    if (delta == 0 || !std::isfinite(start) || !std::isfinite(limit) || !std::isfinite(delta))
      return fail(n, "Range needs finite start and limit and a nonzero finite delta");
    // number of elements = max(ceil((limit - start) / delta), 0), in the input's type (ONNX).
    const float c = std::max(std::ceil((limit - start) / delta), 0.0f);
    if (c > float(kMaxElements)) return fail(n, "the output would have more than 2^28 elements");
    *count = int64_t(c);
    return Status::Ok();
  }
  const int64_t start = s.i[0], limit = l.i[0], delta = d.i[0];
  if (delta == 0) return fail(n, "Range needs a nonzero delta");
  // ceil((limit - start) / delta) without overflow: the distance in the step's direction, in uint64.
  const bool up = delta > 0;
  uint64_t c = 0;
  if (up ? limit > start : limit < start) {
    const uint64_t dist = up ? uint64_t(limit) - uint64_t(start) : uint64_t(start) - uint64_t(limit);
    const uint64_t step = up ? uint64_t(delta) : 0 - uint64_t(delta);
    c = 1 + (dist - 1) / step;
  }
  if (c > uint64_t(kMaxElements)) return fail(n, "the output would have more than 2^28 elements");
  *count = int64_t(c);
  return Status::Ok();
}

Status eval_range(const Node& n, const Inputs& in, Outputs* out) {
  const Tensor &s = *in[0], &d = *in[2];
  int64_t count;
  ONEBIT_RETURN_IF_ERROR(range_count(n, s, *in[1], d, &count));
  Tensor* y = &(*out)[0];
  ONEBIT_RETURN_IF_ERROR(make_output(n, s.dtype, {count}, y));
  if (s.is_float()) {
    for (size_t k = 0; k < y->f.size(); ++k) y->f[k] = float(double(s.f[0]) + double(k) * double(d.f[0]));
    return Status::Ok();
  }
  for (int64_t k = 0; k < count; ++k) y->i[size_t(k)] = int64_t(uint64_t(s.i[0]) + uint64_t(k) * uint64_t(d.i[0]));
  return Status::Ok();
}

}  // namespace onebit::converter::eval
