// Shape ops: reshapes, slices, concat, pad, transpose, gather, casts and the Shape / Size / Range family.
// Their shape functions need the shape-giving inputs constant (else the output stays unknown until folding
// makes them so). Flatten / Reshape / Squeeze / Unsqueeze, Concat and Pad on activations are emitted.
#include <algorithm>
#include <set>

#include "evaluator/eval_util.h"
#include "ir/checked_int.h"
#include "ir/shape_inference.h"
#include "ops/family.h"

namespace onebit::converter::opdefs {
namespace {

using namespace eval;

const std::vector<int64_t>& shape0(const Graph& g, const Node& n) { return g.value(n.in(0)).shape; }
Status one(InferredShapes* out, std::vector<int64_t> s) {
  out->shapes.assign(1, std::move(s));
  return Status::Ok();
}
Status unknown(InferredShapes* out) {
  out->known = false;
  return Status::Ok();
}

Status infer_dropout(const Graph& g, const Node& n, InferredShapes* out) {
  out->shapes.assign(n.outputs.size(), shape0(g, n));
  if (n.outputs.size() > 1) out->dtype = DType::kFloat;
  out->typed_outputs = 1;  // the mask is bool; nothing reads it here
  return Status::Ok();
}

Status infer_flatten(const Graph& g, const Node& n, InferredShapes* out) {
  const std::vector<int64_t>& x = shape0(g, n);
  const int64_t r = int64_t(x.size()), axis = norm_axis(n.i("axis"), r);
  if (axis < 0 || axis > r) return shape_error(n, "axis " + std::to_string(n.i("axis")) + " out of range for rank " + std::to_string(r));
  CheckedInt a = 1, b = 1;
  for (int64_t d = 0; d < r; ++d) (d < axis ? a : b) *= x[size_t(d)];
  if (!a.ok() || !b.ok()) return shape_error(n, "flattening " + shape_str(x) + " overflows int64");
  return one(out, {a.value(), b.value()});
}

Status infer_reshape(const Graph& g, const Node& n, InferredShapes* out) {
  const std::vector<int64_t>& x = shape0(g, n);
  const Tensor* t = g.constant(n.in(1));
  if (t == nullptr) return unknown(out);
  std::vector<int64_t> s;
  int64_t infer = -1;
  CheckedInt prod = 1;
  for (int64_t k = 0; k < t->elements(); ++k) {
    int64_t d = t->as_int(k);
    if (d == 0 && !n.i("allowzero")) {
      if (size_t(k) >= x.size()) return shape_error(n, "shape entry 0 at " + std::to_string(k) + " copies a dim the input lacks");
      d = x[size_t(k)];
    }
    if (d == -1) {
      if (infer >= 0) return shape_error(n, "shape has more than one -1");
      infer = k;
    } else if (d < 0) {
      return shape_error(n, "shape entry " + std::to_string(d) + " is invalid");
    } else {
      prod *= d;
    }
    s.push_back(d);
  }
  const int64_t total = shape_elements(x);
  if (!prod.ok()) return shape_error(n, "the product of the shape " + shape_str(s) + " overflows int64");
  if (infer >= 0) {
    if (prod.value() == 0 || total % prod.value() != 0) return shape_error(n, "cannot infer -1: " + std::to_string(total) + " elements into " + shape_str(s));
    s[size_t(infer)] = total / prod.value();
  } else if (prod.value() != total) {
    return shape_error(n, "reshapes " + std::to_string(total) + " elements " + shape_str(x) + " to " + shape_str(s));
  }
  return one(out, s);
}

Status infer_squeeze(const Graph& g, const Node& n, InferredShapes* out) {
  const std::vector<int64_t>& x = shape0(g, n);
  const bool squeeze = n.op == "Squeeze";
  const Tensor* t = n.in(1) == kNoId ? nullptr : g.constant(n.in(1));
  if (n.in(1) != kNoId && t == nullptr) return unknown(out);
  std::set<int64_t> axes;
  const int64_t rank = squeeze ? int64_t(x.size()) : int64_t(x.size()) + (t ? t->elements() : 0);
  for (int64_t k = 0; t && k < t->elements(); ++k) {
    const int64_t a = norm_axis(t->as_int(k), rank);
    if (a < 0 || a >= rank || !axes.insert(a).second)
      return shape_error(n, "axes entry " + std::to_string(t->as_int(k)) + " is out of range or repeated");
  }
  std::vector<int64_t> s;
  if (squeeze) {
    for (int64_t d = 0; d < rank; ++d) {
      const bool drop = axes.empty() ? x[size_t(d)] == 1 : axes.count(d) != 0;
      if (drop && x[size_t(d)] != 1) return shape_error(n, "squeezes axis " + std::to_string(d) + " of size " + std::to_string(x[size_t(d)]));
      if (!drop) s.push_back(x[size_t(d)]);
    }
  } else {
    size_t k = 0;
    for (int64_t d = 0; d < rank; ++d) s.push_back(axes.count(d) ? 1 : x[k++]);
  }
  return one(out, s);
}

Status infer_concat(const Graph& g, const Node& n, InferredShapes* out) {
  const std::vector<int64_t>& x = shape0(g, n);
  const int64_t r = int64_t(x.size()), axis = norm_axis(n.i("axis"), r);
  if (axis < 0 || axis >= r) return shape_error(n, "axis out of range");
  std::vector<int64_t> s = x;
  for (size_t k = 1; k < n.inputs.size(); ++k) {
    const auto& y = g.value(n.in(k)).shape;
    if (y.size() != x.size()) return shape_error(n, "inputs differ in rank");
    for (int64_t d = 0; d < r; ++d)
      if (d != axis && y[size_t(d)] != x[size_t(d)])
        return shape_error(n, "inputs " + shape_str(x) + " and " + shape_str(y) + " differ off the concat axis");
    const CheckedInt sum = CheckedInt(s[size_t(axis)]) + y[size_t(axis)];
    if (!sum.ok()) return shape_error(n, "the concatenated axis overflows int64");
    s[size_t(axis)] = sum.value();
  }
  return one(out, s);
}

Status infer_pad(const Graph& g, const Node& n, InferredShapes* out) {
  const std::vector<int64_t>& x = shape0(g, n);
  const Tensor* p = g.constant(n.in(1));
  const Tensor* ax = n.in(3) == kNoId ? nullptr : g.constant(n.in(3));
  if (p == nullptr || (n.in(3) != kNoId && ax == nullptr)) return unknown(out);
  const int64_t r = int64_t(x.size());
  std::vector<int64_t> axes;
  if (ax != nullptr)
    for (int64_t k = 0; k < ax->elements(); ++k) axes.push_back(norm_axis(ax->as_int(k), r));
  else
    for (int64_t d = 0; d < r; ++d) axes.push_back(d);
  if (p->elements() != 2 * int64_t(axes.size()))
    return shape_error(n, "pads has " + std::to_string(p->elements()) + " values; expected " + std::to_string(2 * axes.size()));
  std::vector<int64_t> s = x;
  for (size_t k = 0; k < axes.size(); ++k) {
    if (axes[k] < 0 || axes[k] >= r) return shape_error(n, "axes out of range");
    const int64_t begin = p->as_int(int64_t(k)), end = p->as_int(int64_t(k + axes.size()));
    const CheckedInt padded = CheckedInt(s[size_t(axes[k])]) + begin + end;
    if (!padded.ok())
      return shape_error(n, "pads " + std::to_string(begin) + " and " + std::to_string(end) + " of axis " +
                                std::to_string(axes[k]) + " overflow int64");
    if (padded.value() < 0) return shape_error(n, "pads crop axis " + std::to_string(axes[k]) + " below 0");
    s[size_t(axes[k])] = padded.value();
  }
  return one(out, s);
}

Status infer_slice(const Graph& g, const Node& n, InferredShapes* out) {
  const std::vector<int64_t>& x = shape0(g, n);
  for (size_t k = 1; k < n.inputs.size(); ++k)
    if (n.in(k) != kNoId && g.constant(n.in(k)) == nullptr) return unknown(out);
  const Tensor* st = g.constant(n.in(1));
  const Tensor* en = g.constant(n.in(2));
  const Tensor* ax = n.in(3) == kNoId ? nullptr : g.constant(n.in(3));
  const Tensor* sp = n.in(4) == kNoId ? nullptr : g.constant(n.in(4));
  const int64_t r = int64_t(x.size()), count = st->elements();
  if (en->elements() != count || (ax && ax->elements() != count) || (sp && sp->elements() != count))
    return shape_error(n, "starts, ends, axes and steps differ in length");
  std::vector<int64_t> s = x;
  for (int64_t k = 0; k < count; ++k) {
    const int64_t a = ax ? norm_axis(ax->as_int(k), r) : k;
    if (a < 0 || a >= r) return shape_error(n, "axis out of range");
    const int64_t dim = x[size_t(a)], step = sp ? sp->as_int(k) : 1;
    if (step == 0) return shape_error(n, "step 0");
    int64_t first;
    slice_axis(dim, st->as_int(k), en->as_int(k), step, &first, &s[size_t(a)]);
  }
  return one(out, s);
}

Status infer_transpose(const Graph& g, const Node& n, InferredShapes* out) {
  const std::vector<int64_t>& x = shape0(g, n);
  std::vector<int64_t> perm = n.ints("perm");
  if (perm.empty())
    for (size_t d = x.size(); d-- > 0;) perm.push_back(int64_t(d));
  if (perm.size() != x.size())
    return shape_error(n, "perm has " + std::to_string(perm.size()) + " entries for rank " + std::to_string(x.size()));
  std::vector<int64_t> s;
  std::set<int64_t> seen;
  for (int64_t p : perm) {
    if (p < 0 || p >= int64_t(x.size()) || !seen.insert(p).second) return shape_error(n, "perm is not a permutation");
    s.push_back(x[size_t(p)]);
  }
  return one(out, s);
}

Status infer_shape(const Graph& g, const Node& n, InferredShapes* out) {
  int64_t b, e;
  shape_op_range(n, int64_t(shape0(g, n).size()), &b, &e);
  out->dtype = DType::kInt64;
  return one(out, {e - b});
}

Status infer_size(const Graph&, const Node&, InferredShapes* out) {
  out->dtype = DType::kInt64;
  return one(out, {});
}

Status infer_cast(const Graph& g, const Node& n, InferredShapes* out) {
  const int64_t to = n.i("to");
  out->dtype = to == 9 ? DType::kBool : (to == 1 || to == 10 || to == 11 || to == 16) ? DType::kFloat : DType::kInt64;
  return one(out, shape0(g, n));
}

Status infer_expand(const Graph& g, const Node& n, InferredShapes* out) {
  const std::vector<int64_t>& x = shape0(g, n);
  const Tensor* t = g.constant(n.in(1));
  if (t == nullptr) return unknown(out);
  std::vector<int64_t> target, s;
  for (int64_t k = 0; k < t->elements(); ++k) target.push_back(t->as_int(k));
  if (!broadcast_shapes(x, target, &s)) return shape_error(n, "cannot expand " + shape_str(x) + " to " + shape_str(target));
  return one(out, s);
}

// TopK: values and indices of the input's shape with K along `axis` (K constant, else unknown).
Status infer_topk(const Graph& g, const Node& n, InferredShapes* out) {
  const std::vector<int64_t>& x = shape0(g, n);
  const int64_t r = int64_t(x.size()), axis = norm_axis(n.i("axis"), r);
  if (axis < 0 || axis >= r) return shape_error(n, "axis out of range");
  const Tensor* k = g.constant(n.in(1));
  if (k == nullptr) return unknown(out);
  if (k->elements() != 1 || k->as_int(0) < 0 || k->as_int(0) > x[size_t(axis)])
    return shape_error(n, "K must be one value in 0.." + std::to_string(x[size_t(axis)]));
  std::vector<int64_t> s = x;
  s[size_t(axis)] = k->as_int(0);
  out->shapes.assign(n.outputs.size(), s);
  out->typed_outputs = 1;  // the indices are int64
  return Status::Ok();
}

Status infer_gather(const Graph& g, const Node& n, InferredShapes* out) {
  const std::vector<int64_t>& x = shape0(g, n);
  const int64_t r = int64_t(x.size()), axis = norm_axis(n.i("axis"), r);
  if (axis < 0 || axis >= r) return shape_error(n, "axis out of range");
  const auto& idx = g.value(n.in(1)).shape;
  std::vector<int64_t> s(x.begin(), x.begin() + axis);
  s.insert(s.end(), idx.begin(), idx.end());
  s.insert(s.end(), x.begin() + axis + 1, x.end());
  return one(out, s);
}

// The shapes of the ops below are what constant folding allocates: known before it evaluates them, so its
// budget (rules/fold.cc) is checked before any memory is taken.
Status infer_tile(const Graph& g, const Node& n, InferredShapes* out) {
  const std::vector<int64_t>& x = shape0(g, n);
  const Tensor* reps = g.constant(n.in(1));
  if (reps == nullptr) return unknown(out);
  if (reps->elements() != int64_t(x.size()))
    return shape_error(n, "repeats has " + std::to_string(reps->elements()) + " entries for a rank-" + std::to_string(x.size()) + " input");
  std::vector<int64_t> s;
  for (size_t d = 0; d < x.size(); ++d) {
    const CheckedInt dim = CheckedInt(x[d]) * reps->as_int(int64_t(d));
    if (!dim.ok()) return shape_error(n, "repeats " + std::to_string(reps->as_int(int64_t(d))) + " of axis " + std::to_string(d) + " overflow int64");
    s.push_back(dim.value());
  }
  ONEBIT_RETURN_IF_ERROR(check_output_shape(n, s));  // only ever evaluated: the evaluator's limit holds
  return one(out, s);
}

Status infer_split(const Graph& g, const Node& n, InferredShapes* out) {
  const std::vector<int64_t>& x = shape0(g, n);
  const int64_t r = int64_t(x.size()), axis = norm_axis(n.i("axis"), r), parts = int64_t(n.outputs.size());
  if (axis < 0 || axis >= r) return shape_error(n, "axis out of range");
  const Tensor* split = n.in(1) == kNoId ? nullptr : g.constant(n.in(1));
  if (n.in(1) != kNoId && split == nullptr) return unknown(out);
  if (split != nullptr && split->elements() != parts)
    return shape_error(n, "split lists " + std::to_string(split->elements()) + " sizes for " + std::to_string(parts) + " outputs");
  if (split == nullptr && x[size_t(axis)] % parts != 0)
    return shape_error(n, "axis " + std::to_string(axis) + " does not split into " + std::to_string(parts) + " equal parts");
  for (int64_t k = 0; k < parts; ++k) {
    out->shapes.push_back(x);
    out->shapes.back()[size_t(axis)] = split != nullptr ? split->as_int(k) : x[size_t(axis)] / parts;
  }
  return Status::Ok();
}

Status infer_constant_of_shape(const Graph& g, const Node& n, InferredShapes* out) {
  const Tensor* t = g.constant(n.in(0));
  if (t == nullptr) return unknown(out);
  const auto it = n.attrs.find("value");
  const bool set = it != n.attrs.end() && !(it->second.t.f.empty() && it->second.t.i.empty());
  out->dtype = set ? it->second.t.dtype : DType::kFloat;
  std::vector<int64_t> s;
  for (int64_t k = 0; k < t->elements(); ++k) s.push_back(t->as_int(k));
  ONEBIT_RETURN_IF_ERROR(check_output_shape(n, s));  // only ever evaluated: the evaluator's limit holds
  return one(out, s);
}

Status infer_range(const Graph& g, const Node& n, InferredShapes* out) {
  const Tensor *s = g.constant(n.in(0)), *l = g.constant(n.in(1)), *d = g.constant(n.in(2));
  if (s == nullptr || l == nullptr || d == nullptr) return unknown(out);
  int64_t count;
  ONEBIT_RETURN_IF_ERROR(range_count(n, *s, *l, *d, &count));
  out->dtype = s->dtype;
  return one(out, {count});
}

Status infer_cast_like(const Graph& g, const Node& n, InferredShapes* out) {
  const DType to = g.value(n.in(1)).dtype;
  out->dtype = to == DType::kInt64 || to == DType::kBool ? to : DType::kFloat;
  return one(out, shape0(g, n));
}

ValueFacts pad_zeros(const Graph& g, const Node& n, const std::vector<ValueFacts>& in) {
  const Tensor* value = g.constant(n.in(2));
  const bool zero_pad = n.s("mode") == "constant" && (value == nullptr || value->as_float(0) == 0.0f);
  ValueFacts out = zero_pad ? zeros_from(n, true) : in[0];
  out.discrete = in[0].discrete;
  return out;
}

constexpr EmitFn kReshape = emit_by<&Emitter::emit_reshape>;

}  // namespace

std::vector<OpDef> shape_ops() {
  const std::vector<AttrSpec> none;
  // Set by rules/layout.cc on a flatten of a spatial map whose readers' weights it permuted.
  const AttrSpec nhwc = Note(I("nhwc_order", 0));
  return {
      // op              arity          attributes                                    shape            evaluate                zero   emit
      {"Flatten",         In(1),        {I("axis", 1), nhwc},                         infer_flatten,   eval_flatten,           nullptr, kReshape},
      {"Reshape",         In(2),        {I("allowzero", 0), nhwc},                    infer_reshape,   eval_reshape,           nullptr, kReshape},
      {"Squeeze",         In(1, 2),     {nhwc},                                       infer_squeeze,   eval_squeeze,           nullptr, kReshape},
      {"Unsqueeze",       In(2),        {nhwc},                                       infer_squeeze,   eval_unsqueeze,         nullptr, kReshape},
      {"Concat",          {1, kManyInputs, 1, 1}, {Req(I("axis", 0))},                infer_concat,    eval_concat,            nullptr, kEmitMisc},
      {"Pad",             In(2, 4),     {S("mode", "constant")},                      infer_pad,       nullptr,                pad_zeros, kEmitMisc},
      {"Slice",           In(3, 5),     none,                                         infer_slice,     eval_slice},
      {"Transpose",       In(1),        {Is("perm")},                                 infer_transpose, eval_transpose},
      {"Identity",        In(1),        none,                                         infer_same_shape, eval_identity},
      {"Dropout",         {1, 3, 1, 2}, {I("seed", 0), F("ratio", 0.5f)},             infer_dropout,   eval_dropout},
      {"Shape",           In(1),        {I("start", 0), I("end", std::numeric_limits<int64_t>::max())}, infer_shape, eval_shape},
      {"Size",            In(1),        none,                                         infer_size,      eval_size},
      {"Gather",          In(2),        {I("axis", 0)},                               infer_gather,    eval_gather},
      {"Expand",          In(2),        none,                                         infer_expand,    eval_expand},
      {"Tile",            In(2),        none,                                         infer_tile,      eval_tile},
      {"Split",           {1, 2, 1, kManyInputs}, {I("axis", 0)},                     infer_split,     eval_split},
      {"TopK",            {2, 2, 1, 2}, {I("axis", -1), I("largest", 1), I("sorted", 1)}, infer_topk,  eval_topk},
      {"ConstantOfShape", In(1),        {T("value", Tensor::floats({1}, {0.0f}))},    infer_constant_of_shape, eval_constant_of_shape},
      {"Range",           In(3),        none,                                         infer_range,     eval_range},
      {"Cast",            In(1),        {Req(I("to", 1))},                            infer_cast,      eval_cast},
      {"CastLike",        In(2),        none,                                         infer_cast_like, eval_cast},
  };
}

}  // namespace onebit::converter::opdefs
