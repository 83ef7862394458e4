// Reductions over axes (Reduce*), Softmax / LogSoftmax over one axis, and BatchNormalization (a per-channel
// affine). Softmax, LogSoftmax and BatchNormalization on activations are emitted; all fold.
#include <set>

#include "evaluator/eval_util.h"
#include "ops/family.h"
#include "rules/match.h"

namespace onebit::converter::opdefs {
namespace {

using namespace eval;

// Axes are input 1 in canonical form (empty/absent = all axes unless noop_with_empty_axes).
Status infer_reduce(const Graph& g, const Node& n, InferredShapes* out) {
  const std::vector<int64_t>& x = g.value(n.in(0)).shape;
  const Tensor* t = n.in(1) == kNoId ? nullptr : g.constant(n.in(1));
  if (n.in(1) != kNoId && t == nullptr) {
    out->known = false;
    return Status::Ok();
  }
  const int64_t r = int64_t(x.size());
  std::set<int64_t> axes;
  for (int64_t k = 0; t && k < t->elements(); ++k) {
    const int64_t a = norm_axis(t->as_int(k), r);
    if (a < 0 || a >= r) return shape_error(n, "axis out of range");
    axes.insert(a);
  }
  if (axes.empty() && n.i("noop_with_empty_axes")) {
    out->shapes.assign(1, x);
    return Status::Ok();
  }
  std::vector<int64_t> s;
  for (int64_t d = 0; d < r; ++d) {
    const bool reduced = axes.empty() || axes.count(d);
    if (!reduced) s.push_back(x[size_t(d)]);
    else if (n.i("keepdims")) s.push_back(1);
  }
  out->shapes.assign(1, s);
  return Status::Ok();
}

// Zeros come through when some channel maps 0 to 0 (a zero shift), or when the affine is not known.
ValueFacts batch_norm_zeros(const Graph& g, const Node& n, const std::vector<ValueFacts>& in) {
  std::vector<float> scale, shift;
  bool maps_zero = true;
  if (batch_norm_affine(g, n, &scale, &shift)) {
    maps_zero = false;
    for (float s : shift) maps_zero = maps_zero || s == 0.0f;
  }
  ValueFacts out;
  if (in[0].zeros && maps_zero) out = in[0];
  out.discrete = in[0].discrete;
  return out;
}


}  // namespace

std::vector<OpDef> reduce_ops() {
  const std::vector<AttrSpec> keep = {I("keepdims", 1), I("noop_with_empty_axes", 0)};
  return {
      // op               arity         attributes          shape             evaluate        zero facts        emit
      {"ReduceMean",      In(1, 2),     keep,               infer_reduce,     eval_reduce},
      {"ReduceSum",       In(1, 2),     keep,               infer_reduce,     eval_reduce},
      {"ReduceMax",       In(1, 2),     keep,               infer_reduce,     eval_reduce},
      {"ReduceMin",       In(1, 2),     keep,               infer_reduce,     eval_reduce},
      {"ReduceProd",      In(1, 2),     keep,               infer_reduce,     eval_reduce},
      {"ReduceL1",        In(1, 2),     keep,               infer_reduce,     eval_reduce},
      {"ReduceL2",        In(1, 2),     keep,               infer_reduce,     eval_reduce},
      {"ReduceSumSquare", In(1, 2),     keep,               infer_reduce,     eval_reduce},
      // The axis default is opset-dependent: the importer sets it.
      {"Softmax",         In(1),        {I("axis", -1)},    infer_same_shape, eval_softmax,   zero_free,        kEmitMisc},
      {"LogSoftmax",      In(1),        {I("axis", -1)},    infer_same_shape, eval_softmax,   nullptr,          kEmitMisc},
      {"BatchNormalization", {5, 5, 1, 3}, {F("epsilon", 1e-5f), F("momentum", 0.9f), I("training_mode", 0), I("spatial", 1)},
                                                            infer_same_shape, eval_batchnorm, batch_norm_zeros, kEmitActivation},
  };
}

}  // namespace onebit::converter::opdefs
