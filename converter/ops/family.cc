// What the op families share (ops/family.h): attribute-spec shorthands, shape and zero-fact helpers.
#include "ops/family.h"

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

Status infer_window(const Graph& g, const Node& n, bool weights, bool explicit_2d, InferredShapes* out) {
  const std::vector<int64_t>& x = g.value(n.in(0)).shape;
  std::vector<int64_t> kernel;
  int64_t out_c = x.size() > 1 ? x[1] : 0;
  if (x.size() < 3) return shape_error(n, "input " + shape_str(x) + " has no spatial axes");
  if (weights) {
    const std::vector<int64_t>& w = g.value(n.in(1)).shape;
    if (w.size() != x.size()) return shape_error(n, "weights " + shape_str(w) + " and input " + shape_str(x) + " differ in rank");
    kernel.assign(w.begin() + 2, w.end());
    out_c = w[0];
    const int64_t group = n.i("group");
    if (group < 1 || x[1] % group != 0 || w[1] * group != x[1] || out_c % group != 0)
      return shape_error(n, "input channels " + std::to_string(x[1]) + ", weight " + shape_str(w) + " and group " +
                                std::to_string(group) + " do not fit together");
  } else {
    kernel = n.ints("kernel_shape");
  }
  std::vector<int64_t> s = {x[0], out_c};
  if (explicit_2d) {
    // onebit ops carry explicit 2-D geometry (pads as top, left, bottom, right).
    const auto& p = n.ints("pads");
    for (size_t d = 0; d < 2; ++d)
      s.push_back(core::window_output_size(x[d + 2], p[d], p[d + 2], kernel[d], n.ints("strides")[d],
                                           weights ? n.ints("dilations")[d] : 1));
    out->shapes.assign(n.outputs.size(), s);
    return Status::Ok();
  }
  Spatial sp;
  ONEBIT_RETURN_IF_ERROR(resolve_spatial(n, x, kernel, &sp));
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
