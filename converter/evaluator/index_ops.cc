// Indexing ops: Gather, Slice, Concat, Split, TopK.
#include <algorithm>
#include <cmath>
#include <limits>

#include "evaluator/eval_util.h"
#include "ir/checked_int.h"
#include "ir/shape_inference.h"

namespace onebit::converter::eval {
namespace {

// y[o, 0:len, i] = x[o, from:from+len, i] over all o < outer, i < inner, where x's axis has x_dim entries
// and y's has y_dim (block copies along one axis).
void copy_axis_block(const Tensor& x, int64_t x_dim, int64_t from, Tensor* y, int64_t y_dim, int64_t to,
                     int64_t len, int64_t outer, int64_t inner) {
  for (int64_t o = 0; o < outer; ++o) {
    const size_t src = size_t((o * x_dim + from) * inner), dst = size_t((o * y_dim + to) * inner);
    const size_t cnt = size_t(len * inner);
    if (x.is_float())
      std::copy_n(x.f.begin() + long(src), cnt, y->f.begin() + long(dst));
    else
      std::copy_n(x.i.begin() + long(src), cnt, y->i.begin() + long(dst));
  }
}

void outer_inner(const std::vector<int64_t>& shape, int64_t axis, int64_t* outer, int64_t* inner) {
  *outer = 1;
  *inner = 1;
  for (int64_t d = 0; d < int64_t(shape.size()); ++d) {
    if (d < axis) *outer *= shape[size_t(d)];
    if (d > axis) *inner *= shape[size_t(d)];
  }
}

}  // namespace

Status eval_gather(const Node& n, const Inputs& in, Outputs* out) {
  const Tensor &x = *in[0], &ind = *in[1];
  if (ind.dtype != DType::kInt64)
    return fail(n, std::string("the indices (input 1) must be int64, not ") + dtype_name(ind.dtype));
  const int64_t rank = int64_t(x.shape.size());
  if (rank == 0) return fail(n, "the data (input 0) must have rank >= 1, not be a scalar");
  int64_t axis;
  ONEBIT_RETURN_IF_ERROR(normalize_axis(n, n.i("axis"), rank, &axis));
  const int64_t dim = x.shape[size_t(axis)];
  for (int64_t v : ind.i)
    if (v < -dim || v >= dim)
      return fail(n, "index " + std::to_string(v) + " is out of range for axis " + std::to_string(axis) +
                         " of size " + std::to_string(dim) + " (data " + shape_str(x.shape) + ")");
  std::vector<int64_t> shape(x.shape.begin(), x.shape.begin() + axis);
  shape.insert(shape.end(), ind.shape.begin(), ind.shape.end());
  shape.insert(shape.end(), x.shape.begin() + axis + 1, x.shape.end());
  Tensor* y = &(*out)[0];
  ONEBIT_RETURN_IF_ERROR(make_output(n, x.dtype, shape, y));
  if (y->elements() == 0) return Status::Ok();  // (outer may be huge when another dim is 0)
  int64_t outer, inner;
  outer_inner(x.shape, axis, &outer, &inner);
  const int64_t m = int64_t(ind.i.size());
  for (int64_t j = 0; j < m; ++j) {
    const int64_t v = ind.i[size_t(j)] < 0 ? ind.i[size_t(j)] + dim : ind.i[size_t(j)];
    // Output viewed as [outer, m, inner]: slot j takes the input's slice v.
    copy_axis_block(x, dim, v, y, m, j, 1, outer, inner);
  }
  return Status::Ok();
}

Status eval_slice(const Node& n, const Inputs& in, Outputs* out) {
  const Tensor& x = *in[0];
  const int64_t rank = int64_t(x.shape.size());
  std::vector<int64_t> starts, ends, axes, steps;
  ONEBIT_RETURN_IF_ERROR(read_int_list(n, *in[1], "starts (input 1)", &starts));
  ONEBIT_RETURN_IF_ERROR(read_int_list(n, *in[2], "ends (input 2)", &ends));
  const size_t k = starts.size();
  if (ends.size() != k)
    return fail(n, "starts has " + std::to_string(k) + " entries but ends has " + std::to_string(ends.size()));
  if (in.size() > 3 && in[3]) {
    ONEBIT_RETURN_IF_ERROR(read_int_list(n, *in[3], "axes (input 3)", &axes));
    if (axes.size() != k)
      return fail(n, "starts has " + std::to_string(k) + " entries but axes has " + std::to_string(axes.size()));
  } else {
    for (size_t j = 0; j < k; ++j) axes.push_back(int64_t(j));
  }
  if (in.size() > 4 && in[4]) {
    ONEBIT_RETURN_IF_ERROR(read_int_list(n, *in[4], "steps (input 4)", &steps));
    if (steps.size() != k)
      return fail(n, "starts has " + std::to_string(k) + " entries but steps has " + std::to_string(steps.size()));
  } else {
    steps.assign(k, 1);
  }
  const std::vector<int64_t> xs = strides(x.shape);
  std::vector<int64_t> shape = x.shape, st = xs;
  std::vector<char> seen(size_t(rank), 0);
  int64_t base = 0;
  for (size_t j = 0; j < k; ++j) {
    int64_t a;
    ONEBIT_RETURN_IF_ERROR(normalize_axis(n, axes[j], rank, &a));
    if (seen[size_t(a)]) return fail(n, "axis " + std::to_string(axes[j]) + " is listed twice in axes");
    seen[size_t(a)] = 1;
    const int64_t step = steps[j], dim = x.shape[size_t(a)];
    if (step == 0) return fail(n, "steps[" + std::to_string(j) + "] is 0");
    int64_t s, count;
    slice_axis(dim, starts[j], ends[j], step, &s, &count);
    shape[size_t(a)] = count;
    if (count > 0) base += s * xs[size_t(a)];
    st[size_t(a)] = count > 1 ? step * xs[size_t(a)] : 0;  // one element: no stride (step may be huge)
  }
  Tensor* y = &(*out)[0];
  ONEBIT_RETURN_IF_ERROR(make_output(n, x.dtype, shape, y));
  copy_strided(x, st, base, y);
  return Status::Ok();
}

// Concat's and Split's `axis` attribute, normalized for inputs of `rank` >= 1 (`scalar_error` otherwise).
static Status axis_attribute(const Node& n, int64_t rank, const char* scalar_error, int64_t* axis) {
  if (rank == 0) return fail(n, scalar_error);
  return normalize_axis(n, n.i("axis"), rank, axis);
}

Status eval_concat(const Node& n, const Inputs& in, Outputs* out) {
  const Tensor& x0 = *in[0];
  const int64_t rank = int64_t(x0.shape.size());
  int64_t axis;
  ONEBIT_RETURN_IF_ERROR(axis_attribute(n, rank, "inputs must have rank >= 1, not be scalars", &axis));
  std::vector<int64_t> shape = x0.shape;
  shape[size_t(axis)] = 0;
  for (size_t k = 0; k < in.size(); ++k) {
    const Tensor& x = *in[k];
    ONEBIT_RETURN_IF_ERROR(need_same_dtype(n, x0, x, "input 0", input_name(k)));
    bool ok = x.shape.size() == x0.shape.size();
    for (int64_t d = 0; ok && d < rank; ++d) ok = d == axis || x.shape[size_t(d)] == x0.shape[size_t(d)];
    if (!ok)
      return fail(n, input_name(k) + " of shape " + shape_str(x.shape) + " does not match input 0 " +
                         shape_str(x0.shape) + " outside axis " + std::to_string(axis));
    // A 0-element input may have a dim up to 2^62 (shape_elements): the sum is checked.
    const CheckedInt sum = CheckedInt(shape[size_t(axis)]) + x.shape[size_t(axis)];
    if (!sum.ok()) return fail(n, "the concatenated axis " + std::to_string(axis) + " overflows int64");
    shape[size_t(axis)] = sum.value();
  }
  Tensor* y = &(*out)[0];
  ONEBIT_RETURN_IF_ERROR(make_output(n, x0.dtype, shape, y));
  if (y->elements() == 0) return Status::Ok();
  int64_t outer, inner;
  outer_inner(shape, axis, &outer, &inner);
  int64_t at = 0;
  for (const Tensor* x : in) {
    const int64_t len = x->shape[size_t(axis)];
    copy_axis_block(*x, len, 0, y, shape[size_t(axis)], at, len, outer, inner);
    at += len;
  }
  return Status::Ok();
}

Status eval_split(const Node& n, const Inputs& in, Outputs* out) {
  const Tensor& x = *in[0];
  const int64_t rank = int64_t(x.shape.size());
  int64_t axis;
  ONEBIT_RETURN_IF_ERROR(axis_attribute(n, rank, "the input must have rank >= 1, not be a scalar", &axis));
  const int64_t dim = x.shape[size_t(axis)], parts = int64_t(out->size());
  std::vector<int64_t> sizes;
  if (in.size() > 1 && in[1]) {
    ONEBIT_RETURN_IF_ERROR(read_int_list(n, *in[1], "split (input 1)", &sizes));
    if (int64_t(sizes.size()) != parts)
      return fail(n, "split lists " + std::to_string(sizes.size()) + " sizes for " + std::to_string(parts) +
                         " outputs");
    CheckedInt sum = 0;
    for (int64_t s : sizes) {
      if (s < 0 || s > dim) return fail(n, "split " + shape_str(sizes) + " has an invalid size " + std::to_string(s));
      sum += s;
    }
    if (!sum.ok() || sum.value() != dim)
      return fail(n, "split " + shape_str(sizes) + " sums to " + (sum.ok() ? std::to_string(sum.value()) : "more than 2^63") +
                         ", not to the size " + std::to_string(dim) + " of axis " + std::to_string(axis));
  } else {
    if (dim % parts != 0)
      return fail(n, "axis " + std::to_string(axis) + " of size " + std::to_string(dim) + " does not split into " +
                         std::to_string(parts) + " equal parts");
    sizes.assign(size_t(parts), dim / parts);
  }
  int64_t outer, inner;
  outer_inner(x.shape, axis, &outer, &inner);
  int64_t at = 0;
  for (int64_t k = 0; k < parts; ++k) {
    std::vector<int64_t> shape = x.shape;
    shape[size_t(axis)] = sizes[size_t(k)];
    Tensor* y = &(*out)[size_t(k)];
    ONEBIT_RETURN_IF_ERROR(make_output(n, x.dtype, shape, y));
    if (y->elements() > 0) copy_axis_block(x, dim, at, y, sizes[size_t(k)], 0, sizes[size_t(k)], outer, inner);
    at += sizes[size_t(k)];
  }
  return Status::Ok();
}

// TopK (opset 11 on): the k largest (or smallest) along `axis`, values and int64 indices; equal values keep
// the lower index first, as ONNX specifies; NaN ranks above every number for largest = 1 (below for 0), as
// onnxruntime orders it. Folded only (ReCU's quantiles: torch.sort of the weights exports as TopK).
Status eval_topk(const Node& n, const Inputs& in, Outputs* out) {
  const Tensor& x = *in[0];
  const int64_t rank = int64_t(x.shape.size());
  if (rank == 0) return fail(n, "the input must have rank >= 1, not be a scalar");
  int64_t axis;
  ONEBIT_RETURN_IF_ERROR(normalize_axis(n, n.i("axis"), rank, &axis));
  std::vector<int64_t> ks;
  ONEBIT_RETURN_IF_ERROR(read_int_list(n, *in[1], "K (input 1)", &ks));
  const int64_t dim = x.shape[size_t(axis)];
  if (ks.size() != 1 || ks[0] < 0 || ks[0] > dim)
    return fail(n, "K must be one value in 0.." + std::to_string(dim) + " (the size of axis " + std::to_string(axis) + ")");
  const int64_t k = ks[0];
  std::vector<int64_t> shape = x.shape;
  shape[size_t(axis)] = k;
  Tensor *values = &(*out)[0], *indices = out->size() > 1 ? &(*out)[1] : nullptr;
  ONEBIT_RETURN_IF_ERROR(make_output(n, x.dtype, shape, values));
  Tensor scratch;
  if (indices == nullptr) indices = &scratch;
  ONEBIT_RETURN_IF_ERROR(make_output(n, DType::kInt64, shape, indices));
  if (values->elements() == 0) return Status::Ok();
  const bool largest = n.i("largest") != 0;
  int64_t outer, inner;
  outer_inner(x.shape, axis, &outer, &inner);
  std::vector<int64_t> order(static_cast<size_t>(dim));
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < inner; ++j) {
      const auto at = [&](int64_t d) { return size_t((o * dim + d) * inner + j); };
      const auto key = [&](int64_t d) { return x.as_float(int64_t(at(d))); };
      for (int64_t d = 0; d < dim; ++d) order[size_t(d)] = d;
      // A total order (value, then the lower index first), so a partial sort of the first k is exact: O(dim log k).
      const auto above = [](float a, float b) { return std::isnan(a) ? !std::isnan(b) : !std::isnan(b) && a > b; };
      std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int64_t a, int64_t b) {
        const float va = key(a), vb = key(b);
        if (largest ? above(va, vb) : above(vb, va)) return true;
        if (largest ? above(vb, va) : above(va, vb)) return false;
        return a < b;
      });
      for (int64_t d = 0; d < k; ++d) {
        const size_t dst = size_t((o * k + d) * inner + j);
        if (x.is_float()) values->f[dst] = x.f[at(order[size_t(d)])];
        else values->i[dst] = x.i[at(order[size_t(d)])];
        indices->i[dst] = order[size_t(d)];
      }
    }
  return Status::Ok();
}

}  // namespace onebit::converter::eval
