#include "evaluator/eval_util.h"

#include <algorithm>

#include "ir/shape_inference.h"

namespace onebit::converter::eval {

Status fail(const Node& n, const std::string& what) {
  return Status::Error(n.describe() + ": cannot evaluate at conversion time: " + what);
}

std::string input_name(size_t k) { return "input " + std::to_string(k); }

Status check_output_shape(const Node& n, const std::vector<int64_t>& shape) {
  for (int64_t d : shape)
    if (d < 0) return fail(n, "the output shape " + shape_str(shape) + " has a negative dim");
  const int64_t count = shape_elements(shape);
  if (count < 0 || count > kMaxElements)
    return fail(n, "the output of shape " + shape_str(shape) + " would have more than 2^28 elements");
  return Status::Ok();
}

Status make_output(const Node& n, DType dtype, const std::vector<int64_t>& shape, Tensor* t) {
  ONEBIT_RETURN_IF_ERROR(check_output_shape(n, shape));
  const int64_t count = shape_elements(shape);
  *t = Tensor();
  t->dtype = dtype;
  t->shape = shape;
  if (dtype == DType::kFloat)
    t->f.assign(size_t(count), 0.0f);
  else
    t->i.assign(size_t(count), 0);
  return Status::Ok();
}

Status broadcast_shapes(const Node& n, const std::vector<std::vector<int64_t>>& shapes,
                        std::vector<int64_t>* out) {
  std::vector<int64_t> r;
  for (const auto& s : shapes)
    if (!converter::broadcast_shapes(r, s, &r)) {
      std::string list;
      for (const auto& x : shapes) list += (list.empty() ? "" : " and ") + shape_str(x);
      return fail(n, "shapes " + list + " cannot be broadcast together");
    }
  *out = std::move(r);
  return Status::Ok();
}

std::vector<int64_t> strides(const std::vector<int64_t>& shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (size_t d = shape.size(); d-- > 1;) s[d - 1] = s[d] * shape[d];
  return s;
}

std::vector<int64_t> broadcast_strides(const std::vector<int64_t>& in, const std::vector<int64_t>& out) {
  const std::vector<int64_t> s = strides(in);
  std::vector<int64_t> r(out.size(), 0);
  const size_t lead = out.size() - in.size();
  for (size_t d = 0; d < in.size(); ++d) r[lead + d] = in[d] == 1 ? 0 : s[d];
  return r;
}

void copy_strided(const Tensor& x, const std::vector<int64_t>& st, int64_t base, Tensor* y) {
  if (x.is_float())
    for_each_strided(y->shape, {st}, {base}, [&](int64_t k, const int64_t* o) { y->f[size_t(k)] = x.f[size_t(o[0])]; });
  else
    for_each_strided(y->shape, {st}, {base}, [&](int64_t k, const int64_t* o) { y->i[size_t(k)] = x.i[size_t(o[0])]; });
}

Status normalize_axis(const Node& n, int64_t axis, int64_t rank, int64_t* out, const std::string& what) {
  if (axis < -rank || axis >= rank)
    return fail(n, what + " " + std::to_string(axis) + " is out of range for a rank-" + std::to_string(rank) +
                       " input");
  *out = axis < 0 ? axis + rank : axis;
  return Status::Ok();
}

Status read_int_list(const Node& n, const Tensor& t, const std::string& what, std::vector<int64_t>* out) {
  if (t.dtype != DType::kInt64)
    return fail(n, what + " must be an int64 tensor, not " + std::string(dtype_name(t.dtype)));
  if (t.shape.size() > 1) return fail(n, what + " must be 1-D, not of shape " + shape_str(t.shape));
  *out = t.i;
  return Status::Ok();
}

Status check_scalar(const Node& n, const Tensor& t, DType dtype, const std::string& what) {
  if (t.dtype != dtype)
    return fail(n, what + " must be " + std::string(dtype_name(dtype)) + ", not " + dtype_name(t.dtype));
  if (t.shape.size() > 1 || t.elements() != 1)
    return fail(n, what + " must be a scalar, not of shape " + shape_str(t.shape));
  return Status::Ok();
}

Status need_numeric(const Node& n, const Tensor& t, bool allow_int, const std::string& what) {
  if (t.dtype == DType::kFloat || (allow_int && t.dtype == DType::kInt64)) return Status::Ok();
  return fail(n, what + " must be " + (allow_int ? "float or int64" : "float") + ", not " + dtype_name(t.dtype));
}

Status need_same_dtype(const Node& n, const Tensor& a, const Tensor& b, const std::string& what_a,
                       const std::string& what_b) {
  if (a.dtype == b.dtype) return Status::Ok();
  return fail(n, what_a + " (" + dtype_name(a.dtype) + ") and " + what_b + " (" + dtype_name(b.dtype) +
                     ") must have the same type");
}

}  // namespace onebit::converter::eval
