// What the op families share (ops/family.h): attribute-spec shorthands, shape and zero-fact helpers.
#include "ops/family.h"

#include "ir/checked_int.h"
#include "ir/spatial.h"

namespace onebit::converter::opdefs {

using K = Attr::Kind;
AttrSpec I(const char* n, int64_t d) { return {n, K::kInt, false, Attr::Int(d)}; }
AttrSpec F(const char* n, float d) { return {n, K::kFloat, false, Attr::Float(d)}; }
AttrSpec Is(const char* n) { return {n, K::kInts, false, Attr::Ints({})}; }
AttrSpec S(const char* n, const char* d) { return {n, K::kString, false, Attr::String(d)}; }
AttrSpec T(const char* n, Tensor d) {
  AttrSpec a{n, K::kTensor, false, Attr()};
  a.default_value.kind = K::kTensor;
  a.default_value.t = std::move(d);
  return a;
}
AttrSpec Req(AttrSpec a) {
  a.required = true;
  return a;
}
AttrSpec Ranged(AttrSpec a, int64_t lo, int64_t hi) {
  a.min = lo;
  a.max = hi;
  return a;
}
AttrSpec Axes(const char* n, int64_t lo) {
  AttrSpec a = Ranged(Is(n), lo, std::numeric_limits<int32_t>::max());
  a.nonempty = true;
  return a;
}
AttrSpec Note(AttrSpec a) {
  a.annotation = true;
  return a;
}


Status shape_error(const Node& n, const std::string& why) { return Status::Error(n.describe() + ": " + why); }

int64_t norm_axis(int64_t a, int64_t rank) { return a < 0 ? a + rank : a; }

Status infer_same_shape(const Graph& g, const Node& n, InferredShapes* out) {
  out->shapes.assign(n.outputs.size(), g.value(n.in(0)).shape);
  return Status::Ok();
}

Status window_input(const Node& n, const std::vector<int64_t>& x) {
  return x.size() < 3 ? shape_error(n, "input " + shape_str(x) + " has no spatial axes") : Status::Ok();
}

Status conv_out_channels(const Graph& g, const Node& n, int64_t group, int64_t* out_c) {
  const std::vector<int64_t>& x = g.value(n.in(0)).shape;
  const std::vector<int64_t>& w = g.value(n.in(1)).shape;
  ONEBIT_RETURN_IF_ERROR(window_input(n, x));
  if (w.size() != x.size())
    return shape_error(n, "weights " + shape_str(w) + " and input " + shape_str(x) + " differ in rank");
  *out_c = w[0];
  const CheckedInt grouped = CheckedInt(w[1]) * group;  // group comes from the file (ranged to int32 at import)
  if (group < 1 || x[1] % group != 0 || !grouped.ok() || grouped.value() != x[1] || *out_c % group != 0)
    return shape_error(n, "input channels " + std::to_string(x[1]) + ", weight " + shape_str(w) + " and group " +
                              std::to_string(group) + " do not fit together");
  return Status::Ok();
}

Status infer_window(const Graph& g, const Node& n, bool weights, InferredShapes* out) {
  const std::vector<int64_t>& x = g.value(n.in(0)).shape;
  std::vector<int64_t> kernel;
  int64_t out_c = x.size() > 1 ? x[1] : 0;
  if (weights) {
    ONEBIT_RETURN_IF_ERROR(conv_out_channels(g, n, n.i("group"), &out_c));
    const std::vector<int64_t>& w = g.value(n.in(1)).shape;
    kernel.assign(w.begin() + 2, w.end());
  } else {
    ONEBIT_RETURN_IF_ERROR(window_input(n, x));
    kernel = n.ints("kernel_shape");
  }
  Spatial sp;
  ONEBIT_RETURN_IF_ERROR(resolve_spatial(n, x, kernel, &sp));
  std::vector<int64_t> s = {x[0], out_c};
  s.insert(s.end(), sp.out.begin(), sp.out.end());
  out->shapes.assign(n.outputs.size(), s);
  return Status::Ok();
}

ValueFacts zeros_from(const Node& n, bool zeros) {
  ValueFacts f;
  f.zeros = zeros;
  if (zeros) f.origin = n.describe();
  return f;
}

ValueFacts zero_free(const Graph&, const Node&, const std::vector<ValueFacts>&) { return {}; }

ValueFacts linear_zero_facts(const Graph& g, const Node& n, const std::vector<ValueFacts>& in, size_t bias_slot) {
  const ValueId bias = n.in(bias_slot);
  const bool bias_zero = bias == kNoId || has_zero(g.constant(bias)) || !g.value(bias).is_constant();
  const ValueFacts& x = in[0];
  ValueFacts out;
  if ((x.zeros || x.discrete) && bias_zero) out = x.zeros ? x : zeros_from(n, true);
  out.discrete = x.discrete && g.value(n.in(1)).is_constant();
  return out;
}

}  // namespace onebit::converter::opdefs
