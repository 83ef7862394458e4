// Shape and constant plumbing of the reference (reference.h): Constant, ConstantOfShape, Flatten, Reshape, Expand, Concat,
// Transpose, Squeeze, Unsqueeze, Shape, Gather, Slice, Pad (constant mode), TopK (ReCU's torch.sort of its weights).
#include <algorithm>
#include <cstdint>

#include "verify/reference_ops.h"

namespace onebit::converter {
namespace {

Status constant(RefNode& n) {
  for (const auto& a : n.node.attribute()) {
    RefTensor& y = n.out[0];
    if (a.name() == "value") return tensor_from_proto(a.t(), &y);
    if (a.name() == "value_float") y = RefTensor{{}, {double(a.f())}, onnx::TensorProto::FLOAT};
    else if (a.name() == "value_int") y = RefTensor{{}, {double(a.i())}, onnx::TensorProto::INT64};
    else if (a.name() == "value_floats") y = RefTensor{{a.floats_size()}, {a.floats().begin(), a.floats().end()}, 1};
    else if (a.name() == "value_ints") y = RefTensor{{a.ints_size()}, {a.ints().begin(), a.ints().end()}, 7};
    else continue;
    return Status::Ok();
  }
  return n.error("no value attribute the verifier reads");
}

// Same data, new shape.
Status reshaped(RefNode& n, std::vector<int64_t> shape) {
  const RefTensor& x = *n.in[0];
  if (element_count(shape) != int64_t(x.size())) return n.error("the new shape does not hold the input's elements");
  n.out[0] = x;
  n.out[0].shape = std::move(shape);
  return Status::Ok();
}

Status flatten(RefNode& n) {
  const RefTensor* x;
  ONEBIT_RETURN_IF_ERROR(n.input(0, &x));
  size_t axis = 0;
  const int64_t a = n.i("axis", 1);
  if (a != int64_t(x->shape.size())) ONEBIT_RETURN_IF_ERROR(normalize_axis(n, a, x->shape.size(), &axis));
  else axis = x->shape.size();
  int64_t outer = 1;
  for (size_t k = 0; k < axis; ++k) outer *= x->shape[k];
  return reshaped(n, {outer, outer ? int64_t(x->size()) / outer : 0});
}

Status reshape(RefNode& n) {
  const RefTensor *x, *s;
  ONEBIT_RETURN_IF_ERROR(n.input(0, &x));
  ONEBIT_RETURN_IF_ERROR(n.input(1, &s));
  std::vector<int64_t> shape;
  int infer = -1;
  int64_t known = 1;
  const bool allowzero = n.i("allowzero", 0) != 0;
  for (size_t k = 0; k < s->size(); ++k) {
    int64_t d = as_int64(s->data[k]);
    if (d == 0 && !allowzero) {
      if (k >= x->shape.size()) return n.error("a 0 in the shape copies a dimension the input lacks");
      d = x->shape[k];
    }
    if (d == -1) {
      if (infer >= 0) return n.error("two -1 dimensions");
      infer = int(k);
      d = 1;
    } else if (d < 0 || d > (int64_t(1) << 31)) {
      return n.error("dimension " + std::to_string(d) + " in the shape");
    } else {
      known *= d;
      if (known > (int64_t(1) << 40)) return n.error("the shape holds more than 2^40 elements");
    }
    shape.push_back(d);
  }
  if (infer >= 0) {
    if (known == 0 || int64_t(x->size()) % known != 0) return n.error("-1 cannot be inferred");
    shape[size_t(infer)] = int64_t(x->size()) / known;
  }
  return reshaped(n, shape);
}

Status expand(RefNode& n) {
  const RefTensor *x, *s;
  ONEBIT_RETURN_IF_ERROR(n.input(0, &x));
  ONEBIT_RETURN_IF_ERROR(n.input(1, &s));
  const std::vector<int64_t> want = ints_of(*s);
  const size_t rank = std::max(want.size(), x->shape.size());
  std::vector<int64_t> xs(rank, 1), shape(rank, 1);
  std::copy(x->shape.begin(), x->shape.end(), xs.begin() + long(rank - x->shape.size()));
  std::copy(want.begin(), want.end(), shape.begin() + long(rank - want.size()));
  for (size_t k = 0; k < rank; ++k) {
    if (shape[k] == 1) shape[k] = xs[k];
    else if (xs[k] != 1 && xs[k] != shape[k]) return n.error("shape does not broadcast");
  }
  const std::vector<int64_t> xst = strides_of(xs), yst = strides_of(shape);
  RefTensor& y = n.out[0];
  y.shape = shape;
  y.onnx_type = x->onnx_type;
  y.data.resize(size_t(element_count(shape)));
  for (int64_t e = 0; e < int64_t(y.size()); ++e) {
    int64_t src = 0;
    for (size_t k = 0; k < rank; ++k)
      if (xs[k] != 1) src += (e / yst[k] % shape[k]) * xst[k];
    y.data[size_t(e)] = x->data[size_t(src)];
  }
  return Status::Ok();
}

Status concat(RefNode& n) {
  const RefTensor* first;
  ONEBIT_RETURN_IF_ERROR(n.input(0, &first));
  size_t axis;
  ONEBIT_RETURN_IF_ERROR(normalize_axis(n, n.i("axis", 0), first->shape.size(), &axis));
  RefTensor& y = n.out[0];
  y.shape = first->shape;
  y.shape[axis] = 0;
  for (const RefTensor* x : n.in) {
    if (!x || x->shape.size() != first->shape.size()) return n.error("inputs of different ranks");
    for (size_t k = 0; k < x->shape.size(); ++k)
      if (k != axis && x->shape[k] != first->shape[k]) return n.error("inputs differ outside the axis");
    y.shape[axis] += x->shape[axis];
  }
  int64_t outer = 1;
  for (size_t k = 0; k < axis; ++k) outer *= y.shape[k];
  y.onnx_type = first->onnx_type;
  y.data.clear();
  for (int64_t o = 0; o < outer; ++o)
    for (const RefTensor* x : n.in) {
      const int64_t block = outer ? int64_t(x->size()) / outer : 0;
      y.data.insert(y.data.end(), x->data.begin() + long(o * block), x->data.begin() + long((o + 1) * block));
    }
  return Status::Ok();
}

Status transpose(RefNode& n) {
  const RefTensor* x;
  ONEBIT_RETURN_IF_ERROR(n.input(0, &x));
  const size_t rank = x->shape.size();
  std::vector<int64_t> perm(rank);
  for (size_t k = 0; k < rank; ++k) perm[k] = int64_t(rank - 1 - k);
  perm = n.ints("perm", perm);
  if (perm.size() != rank) return n.error("perm does not match the rank");
  RefTensor& y = n.out[0];
  y.shape.resize(rank);
  for (size_t k = 0; k < rank; ++k) {
    if (perm[k] < 0 || perm[k] >= int64_t(rank)) return n.error("bad perm");
    y.shape[k] = x->shape[size_t(perm[k])];
  }
  const std::vector<int64_t> xs = strides_of(x->shape), ys = strides_of(y.shape);
  y.onnx_type = x->onnx_type;
  y.data.resize(x->size());
  for (int64_t e = 0; e < int64_t(y.size()); ++e) {
    int64_t src = 0;
    for (size_t k = 0; k < rank; ++k) src += (e / ys[k] % y.shape[k]) * xs[size_t(perm[k])];
    y.data[size_t(e)] = x->data[size_t(src)];
  }
  return Status::Ok();
}

// Axes of Squeeze / Unsqueeze: an attribute before opset 13, an input from 13 on.
std::vector<int64_t> axes_of(const RefNode& n) {
  if (n.opset < 13 || n.in.size() < 2 || !n.in[1]) return n.ints("axes", {});
  return ints_of(*n.in[1]);
}

Status squeeze(RefNode& n) {
  const RefTensor* x;
  ONEBIT_RETURN_IF_ERROR(n.input(0, &x));
  std::vector<bool> drop(x->shape.size(), false);
  const std::vector<int64_t> axes = axes_of(n);
  for (size_t k = 0; k < x->shape.size(); ++k) drop[k] = axes.empty() && x->shape[k] == 1;
  for (int64_t a : axes) {
    size_t k;
    ONEBIT_RETURN_IF_ERROR(normalize_axis(n, a, x->shape.size(), &k));
    drop[k] = true;
  }
  std::vector<int64_t> shape;
  for (size_t k = 0; k < x->shape.size(); ++k)
    if (!drop[k]) shape.push_back(x->shape[k]);
  return reshaped(n, shape);
}

Status unsqueeze(RefNode& n) {
  const RefTensor* x;
  ONEBIT_RETURN_IF_ERROR(n.input(0, &x));
  const std::vector<int64_t> axes = axes_of(n);
  const size_t rank = x->shape.size() + axes.size();
  std::vector<bool> added(rank, false);
  for (int64_t a : axes) {
    size_t k;
    ONEBIT_RETURN_IF_ERROR(normalize_axis(n, a, rank, &k));
    added[k] = true;
  }
  std::vector<int64_t> shape;
  size_t from = 0;
  for (size_t k = 0; k < rank; ++k) shape.push_back(added[k] ? 1 : x->shape.at(from++));
  return reshaped(n, shape);
}

Status constant_of_shape(RefNode& n) {
  const RefTensor* s;
  ONEBIT_RETURN_IF_ERROR(n.input(0, &s));
  RefTensor value{{1}, {0.0}, onnx::TensorProto::FLOAT};
  for (const auto& a : n.node.attribute())
    if (a.name() == "value") ONEBIT_RETURN_IF_ERROR(tensor_from_proto(a.t(), &value));
  if (value.size() != 1) return n.error("value must hold one element");
  const std::vector<int64_t> shape = ints_of(*s);
  for (int64_t d : shape)
    if (d < 0 || d > (int64_t(1) << 31)) return n.error("bad dimension");
  n.out[0] = RefTensor{shape, std::vector<double>(size_t(element_count(shape)), value.data[0]), value.onnx_type};
  return Status::Ok();
}

Status shape_op(RefNode& n) {
  const RefTensor* x;
  ONEBIT_RETURN_IF_ERROR(n.input(0, &x));
  n.out[0] = RefTensor{{int64_t(x->shape.size())}, {x->shape.begin(), x->shape.end()}, onnx::TensorProto::INT64};
  return Status::Ok();
}

Status gather(RefNode& n) {
  const RefTensor *x, *idx;
  ONEBIT_RETURN_IF_ERROR(n.input(0, &x));
  ONEBIT_RETURN_IF_ERROR(n.input(1, &idx));
  size_t axis;
  ONEBIT_RETURN_IF_ERROR(normalize_axis(n, n.i("axis", 0), x->shape.size(), &axis));
  int64_t outer = 1, inner = 1;
  for (size_t k = 0; k < axis; ++k) outer *= x->shape[k];
  for (size_t k = axis + 1; k < x->shape.size(); ++k) inner *= x->shape[k];
  const int64_t dim = x->shape[axis];
  RefTensor& y = n.out[0];
  y.shape.assign(x->shape.begin(), x->shape.begin() + long(axis));
  y.shape.insert(y.shape.end(), idx->shape.begin(), idx->shape.end());
  y.shape.insert(y.shape.end(), x->shape.begin() + long(axis) + 1, x->shape.end());
  y.onnx_type = x->onnx_type;
  y.data.clear();
  for (int64_t o = 0; o < outer; ++o)
    for (double iv : idx->data) {
      int64_t i = as_int64(iv);
      if (i < 0) i += dim;
      if (i < 0 || i >= dim) return n.error("index out of range");
      const auto at = x->data.begin() + long((o * dim + i) * inner);
      y.data.insert(y.data.end(), at, at + long(inner));
    }
  return Status::Ok();
}

// TopK (opset 10 on: K an input): values and int64 indices of the K largest (smallest) along `axis`, equal
// values in index order.
Status topk(RefNode& n) {
  const RefTensor *x, *kt;
  ONEBIT_RETURN_IF_ERROR(n.input(0, &x));
  ONEBIT_RETURN_IF_ERROR(n.input(1, &kt));
  size_t axis;
  ONEBIT_RETURN_IF_ERROR(normalize_axis(n, n.i("axis", -1), x->shape.size(), &axis));
  const int64_t dim = x->shape[axis], k = kt->data.size() == 1 ? as_int64(kt->data[0]) : -1;
  if (k < 0 || k > dim) return n.error("K must be one value in 0.." + std::to_string(dim));
  const bool largest = n.i("largest", 1) != 0;
  int64_t outer = 1, inner = 1;
  for (size_t a = 0; a < axis; ++a) outer *= x->shape[a];
  for (size_t a = axis + 1; a < x->shape.size(); ++a) inner *= x->shape[a];
  std::vector<int64_t> shape = x->shape;
  shape[axis] = k;
  n.out[0] = RefTensor{shape, std::vector<double>(size_t(outer * k * inner)), x->onnx_type};
  if (n.out.size() > 1) n.out[1] = RefTensor{shape, std::vector<double>(size_t(outer * k * inner)), 7};  // INT64
  std::vector<std::pair<double, int64_t>> column(static_cast<size_t>(dim));
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < inner; ++j) {
      for (int64_t d = 0; d < dim; ++d) column[size_t(d)] = {x->data[size_t((o * dim + d) * inner + j)], d};
      std::stable_sort(column.begin(), column.end(), [largest](const auto& a, const auto& b) {
        return largest ? a.first > b.first : a.first < b.first;
      });
      for (int64_t d = 0; d < k; ++d) {
        const size_t at = size_t((o * k + d) * inner + j);
        n.out[0].data[at] = column[size_t(d)].first;
        if (n.out.size() > 1) n.out[1].data[at] = double(column[size_t(d)].second);
      }
    }
  return Status::Ok();
}

Status pad(RefNode& n) {
  const RefTensor* x;
  ONEBIT_RETURN_IF_ERROR(n.input(0, &x));
  if (n.s("mode", "constant") != "constant") return n.error("only mode 'constant' is evaluated");
  std::vector<int64_t> pads = n.ints("pads", {});
  double value = n.f("value", 0.0);
  if (n.opset >= 11) {
    const RefTensor* p;
    ONEBIT_RETURN_IF_ERROR(n.input(1, &p));
    pads = ints_of(*p);
    value = n.in.size() > 2 && n.in[2] ? n.in[2]->data.at(0) : 0.0;
  }
  const size_t rank = x->shape.size();
  if (pads.size() != 2 * rank) return n.error("pads do not match the rank");
  for (int64_t p : pads)
    if (p < -(int64_t(1) << 31) || p > (int64_t(1) << 31)) return n.error("pad " + std::to_string(p));
  RefTensor& y = n.out[0];
  y.shape = x->shape;
  for (size_t k = 0; k < rank; ++k) y.shape[k] += pads[k] + pads[k + rank];
  for (int64_t d : y.shape)
    if (d < 0) return n.error("pads make a negative dimension");
  y.onnx_type = x->onnx_type;
  y.data.assign(size_t(element_count(y.shape)), value);
  const std::vector<int64_t> xs = strides_of(x->shape), ys = strides_of(y.shape);
  for (int64_t e = 0; e < int64_t(x->size()); ++e) {
    int64_t dst = 0;
    bool inside = true;
    for (size_t k = 0; k < rank; ++k) {
      const int64_t c = e / xs[k] % x->shape[k] + pads[k];
      inside = inside && c >= 0 && c < y.shape[k];
      dst += c * ys[k];
    }
    if (inside) y.data[size_t(dst)] = x->data[size_t(e)];  // negative pads crop
  }
  return Status::Ok();
}

Status slice(RefNode& n) {
  const RefTensor* x;
  ONEBIT_RETURN_IF_ERROR(n.input(0, &x));
  const auto list = [&](size_t k, const char* attr) {
    if (n.opset < 10) return n.ints(attr, {});
    return k < n.in.size() && n.in[k] ? ints_of(*n.in[k]) : std::vector<int64_t>();
  };
  const std::vector<int64_t> starts = list(1, "starts"), ends = list(2, "ends");
  std::vector<int64_t> axes = list(3, "axes"), steps = list(4, "steps");
  const size_t rank = x->shape.size();
  if (axes.empty())
    for (size_t k = 0; k < starts.size(); ++k) axes.push_back(int64_t(k));
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
    return n.error("starts / ends / axes / steps differ in length");
  std::vector<int64_t> first(rank, 0), step(rank, 1), count = x->shape;
  for (size_t i = 0; i < starts.size(); ++i) {
    size_t a;
    ONEBIT_RETURN_IF_ERROR(normalize_axis(n, axes[i], rank, &a));
    const int64_t dim = x->shape[a], st = steps[i];
    if (st == 0) return n.error("step 0");
    // ONNX: negative indices count from the end, then clamp to [0, dim] (step > 0) or [-1, dim - 1] (step < 0).
    int64_t b = starts[i] < 0 ? std::max<int64_t>(starts[i], -dim) + dim : starts[i];
    int64_t e = ends[i] < 0 ? std::max<int64_t>(ends[i], -dim - 1) + dim : ends[i];
    if (st > 0) {
      b = std::min(b, dim);
      e = std::min(e, dim);
      count[a] = e > b ? (e - b - 1) / st + 1 : 0;
    } else {
      b = std::min(b, dim - 1);
      e = std::min(e, dim - 1);
      count[a] = b <= e ? 0 : st == INT64_MIN ? 1 : (b - e - 1) / -st + 1;
    }
    first[a] = b;
    step[a] = st;
  }
  const std::vector<int64_t> xs = strides_of(x->shape), ys = strides_of(count);
  RefTensor& y = n.out[0];
  y.shape = count;
  y.onnx_type = x->onnx_type;
  y.data.resize(size_t(element_count(count)));
  for (int64_t e = 0; e < int64_t(y.size()); ++e) {
    int64_t src = 0;
    for (size_t k = 0; k < rank; ++k) src += (first[k] + (e / ys[k] % count[k]) * step[k]) * xs[k];
    y.data[size_t(e)] = x->data[size_t(src)];
  }
  return Status::Ok();
}

}  // namespace

void add_shape_ops(RefOpTable* t) {
  RefOpTable& m = *t;
  m["Constant"] = constant;
  m["Flatten"] = flatten;
  m["Reshape"] = reshape;
  m["Expand"] = expand;
  m["Concat"] = concat;
  m["Transpose"] = transpose;
  m["Squeeze"] = squeeze;
  m["Unsqueeze"] = unsqueeze;
  m["Shape"] = shape_op;
  m["ConstantOfShape"] = constant_of_shape;
  m["Gather"] = gather;
  m["Pad"] = pad;
  m["TopK"] = topk;
  m["Slice"] = slice;
}

}  // namespace onebit::converter
