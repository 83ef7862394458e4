// offset_weight_conv: a Conv on a k-bit activation whose constant weights are, per output channel,
// integer levels on a uniform grid, w = d_o * L with L in [lo_o, lo_o + n_o - 1], n_o <= 16 (1 .. 4 bits),
// but not the symmetric ±s / {-3, -1, 1, 3}·s that binary_conv takes: LSQ's signed 2-bit {-2, -1, 0, 1}·s,
// an unsigned {0, 1, 2, 3}·s, any zero point (QuantizeLinear weights, rules/qdq.cc, after any clamp).
//
// The runtime's weights are Binary (±1) or 2-bit Bipolar {-3, -1, 1, 3} planes with no zero level
// (schema BinaryConv2DOptions, kernels/bconv/bconv-levels.cc), so the rule rewrites the conv exactly into
// those. Write q = L - lo in 2-bit digits, q = sum_p 4^p q_p, and each digit as odd levels
// O_p = 2 q_p - k_p (k_p = 3 for a 2-bit digit in {-3, -1, 1, 3}, k_p = 1 for a 1-bit top digit in {-1, 1}):
//     w = d L = sum_p (d 4^p / 2) O_p  +  d (lo + sum_p 4^p k_p / 2) = sum_p a_p O_p + c.
// The conv is linear in w, so conv(x, w)_o = sum_p a_po conv(x, O_p)_o + c_o T, where T = conv(x, 1) is the
// sum of the input levels over the window (zero padding pads 0, the levels' own padding: the same in both).
// Each conv(x, a_p O_p) is a 1- or 2-bit BinaryConv2D (binary_conv); T is a BinaryConv2D with one output
// channel per group and +1 weights, spread to the channels by a 1x1 float Conv of weights c_o (one weight per
// channel, never 0 on a grid: binary_weights_float_input stores it as a sign and a float32 alpha, so
// --float16-weights and --int8-float-layers, which touch only plain float layers, leave it exact); the sums are
// Adds that residual_into_binary_conv folds into the convs' output transforms (y = m D + b + r). Equal to the
// float conv up to float rounding (D and T are exact integers). Cost: one extra 1-output-channel binary conv
// and an out_c-MAC-per-pixel float 1x1 conv per layer (and a second binary conv for 3- and 4-bit weights).
// A late rule, before the float fusions: a conv whose weights split symmetrically is binary_conv's.
#include <algorithm>
#include <cmath>

#include "ir/onebit_ops.h"
#include "rules/lowbit.h"
#include "rules/match.h"
#include "rules/rule_util.h"

namespace onebit::converter {
namespace {

// Integer grid of one output channel: w[i] = step * (lo + q[i]), q in [0, count). False if there is none with
// at most 16 levels.
bool channel_grid(const float* w, size_t n, double* step, int* lo, int* count, std::vector<int>* q) {
  double m = INFINITY;
  for (size_t i = 0; i < n; ++i)
    if (w[i] != 0) m = std::min(m, std::fabs(double(w[i])));
  q->assign(n, 0);
  if (!std::isfinite(m)) return *step = 0, *lo = 0, *count = 1, true;  // all zero: step set by the caller
  for (int j = 1; j <= 15; ++j) {
    const double d = m / j;
    double lmin = INFINITY, lmax = -INFINITY;
    bool on_grid = true;
    for (size_t i = 0; i < n && on_grid; ++i) {
      const double r = double(w[i]) / d, l = std::round(r);
      on_grid = std::fabs(r - l) <= 1e-4 * std::max(1.0, std::fabs(l));
      lmin = std::min(lmin, l);
      lmax = std::max(lmax, l);
    }
    if (!on_grid || lmax - lmin > 15) continue;
    *step = d;
    *lo = int(lmin);
    *count = int(lmax - lmin) + 1;
    for (size_t i = 0; i < n; ++i) (*q)[i] = int(std::round(double(w[i]) / d) - lmin);
    return true;
  }
  return false;
}

struct OffsetPlan {
  std::vector<std::vector<float>> planes;  // per digit p: a_po * O_p, the conv's weight shape
  std::vector<float> correction;           // c_o
  int bits = 0;
};

// The conv input is a Dequantize of k-bit levels, directly or through a Pad (binary_conv checks it). Not of
// bits: a conv on a Sign whose weights are not ±s stays an error there (tests/converter/rules_binary_layers_test.cc),
// though the same split would convert it.
bool levels_input(const Graph& g, ValueId x) {
  const Node* pad = producer_of(g, x, "Pad");
  const Node* deq = producer_of(g, pad ? pad->in(0) : x, ops::kDequantize);
  return deq != nullptr && g.value(deq->in(0)).dtype == DType::kLevels;
}

bool offset_plan(const Graph& g, const Node& n, OffsetPlan* plan) {
  const Tensor* w = g.constant(n.in(1));
  if (n.op != "Conv" || !levels_input(g, n.in(0)) || w == nullptr || !w->is_float() || w->shape.size() != 4 ||
      known_shape(g, n.in(0)) == nullptr || n.i("binary_weights"))
    return false;
  if (n.in(2) != kNoId && g.constant(n.in(2)) == nullptr) return false;
  const int64_t out = w->shape[0];
  const size_t per = w->f.size() / size_t(out);
  std::vector<float> levels, scale;
  std::string why;
  if (out <= 0 || split_weight_levels(w->f, out, 2, &levels, &scale, &why) > 0) return false;  // binary_conv's
  std::vector<double> step(static_cast<size_t>(out));
  std::vector<int> lo(static_cast<size_t>(out)), count(static_cast<size_t>(out));
  std::vector<std::vector<int>> q(static_cast<size_t>(out));
  double some_step = 0;
  for (size_t o = 0; o < size_t(out); ++o) {
    if (!channel_grid(&w->f[o * per], per, &step[o], &lo[o], &count[o], &q[o])) return false;
    some_step = std::max(some_step, step[o]);
  }
  int levels_max = 2;
  for (int c : count) levels_max = std::max(levels_max, c);
  plan->bits = 1;
  while ((1 << plan->bits) < levels_max) ++plan->bits;
  const int digits = (plan->bits + 1) / 2;
  plan->planes.assign(size_t(digits), std::vector<float>(w->f.size()));
  plan->correction.assign(size_t(out), 0.0f);
  for (size_t o = 0; o < size_t(out); ++o) {
    // An all-zero channel: levels 0 on any grid (its planes and correction cancel up to float rounding).
    const double d = step[o] > 0 ? step[o] : (some_step > 0 ? some_step : 1.0);
    double c = double(lo[o]);
    for (int p = 0; p < digits; ++p) {
      const int k = 2 * p + 1 < plan->bits ? 3 : 1;  // a 2-bit digit, or the 1-bit top digit of an odd width
      const double a = d * double(1 << (2 * p)) / 2;
      c += double(1 << (2 * p)) * k / 2.0;
      for (size_t i = 0; i < per; ++i) {
        const int digit = (q[o][i] >> (2 * p)) & 3;
        plan->planes[size_t(p)][o * per + i] = float(a * (2 * digit - k));
      }
    }
    plan->correction[o] = float(d * c);
  }
  return true;
}

bool offset_match(const Graph& g, NodeId id, const RewriteOptions&) {
  OffsetPlan plan;
  return offset_plan(g, g.node(id), &plan);
}

// A copy of conv `n`'s geometry (kernel, pads, strides, dilations, group) on new inputs and output.
NodeId conv_like(Graph& g, const Node& n, const std::string& name, const std::vector<ValueId>& in, ValueId out) {
  const NodeId c = g.add_node("Conv", name, in, {out});
  for (const char* a : {"auto_pad", "kernel_shape", "pads", "strides", "dilations", "group"})
    if (n.has(a)) g.node(c).attrs[a] = n.attrs.at(a);
  return c;
}

// A BatchNormalization that alone reads the conv: y = scale * conv + shift per channel, folded into the
// planes, the offset and the bias below (the float fusion would fold it into a float conv's weights; here the
// pieces are scaled instead, so the grid stays exact). False if there is none.
bool following_batch_norm(const Graph& g, const Node& n, int64_t out_c, std::vector<float>* scale, std::vector<float>* shift) {
  const NodeId u = g.sole_user(n.out());
  const Node* bn = u == kNoId ? nullptr : &g.node(u);
  return bn != nullptr && bn->op == "BatchNormalization" && bn->in(0) == n.out() && !n.has("clamp_min") && !n.has("clamp_max") &&
         batch_norm_affine(g, *bn, scale, shift) && int64_t(scale->size()) == out_c;
}

Status offset_apply(Graph& g, NodeId id, const RewriteOptions&, RewriteLog* log) {
  OffsetPlan plan;
  offset_plan(g, g.node(id), &plan);
  Node n = g.node(id);  // a copy: the graph's node vector grows below
  const std::vector<int64_t> wshape = g.constant(n.in(1))->shape;
  const int64_t group = n.i("group"), out_c = wshape[0];
  const float lo = n.has("clamp_min") ? n.f("clamp_min") : -INFINITY, hi = n.has("clamp_max") ? n.f("clamp_max") : INFINITY;
  std::vector<float> scale, shift;
  if (following_batch_norm(g, n, out_c, &scale, &shift)) {
    const size_t per = plan.planes[0].size() / size_t(out_c);
    std::vector<float> bias = n.in(2) == kNoId ? std::vector<float>(size_t(out_c), 0.0f) : g.constant(n.in(2))->to_floats();
    for (size_t o = 0; o < size_t(out_c); ++o) {
      for (auto& plane : plan.planes)
        for (size_t i = 0; i < per; ++i) plane[o * per + i] *= scale[o];
      plan.correction[o] *= scale[o];
      bias[o] = scale[o] * bias[o] + shift[o];
    }
    const NodeId bn = g.sole_user(n.out());
    log->note(g.node(bn).name, "folded into the weight planes of '" + n.name + "'");
    const ValueId bn_out = g.node(bn).out();
    g.kill(bn);
    if (n.inputs.size() < 3) n.inputs.resize(3, kNoId);
    n.inputs[2] = vector_constant(g, n.name + "/bias", bias);
    n.outputs[0] = bn_out;
  }
  g.kill(id);
  // T: the window sum of the input levels, one channel per group.
  const ValueId t = g.add_value(n.name + "/window_sum");
  std::vector<int64_t> ones_shape = wshape;
  ones_shape[0] = group;
  const int64_t ones_count = shape_elements(ones_shape);
  conv_like(g, n, n.name + "/window_sum", {n.in(0), g.add_constant(n.name + "/ones", Tensor::floats(ones_shape, std::vector<float>(size_t(ones_count), 1.0f)))}, t);
  // c_o * T: a 1x1 conv from each group's sum to the group's output channels.
  ValueId sum = g.add_value(n.name + "/offset");
  const NodeId cc = g.add_node("Conv", n.name + "/offset", {t, g.add_constant(n.name + "/offset_w", Tensor::floats({out_c, 1, 1, 1}, plan.correction))}, {sum});
  g.node(cc).attrs["group"] = Attr::Int(group);
  g.node(cc).attrs["kernel_shape"] = Attr::Ints({1, 1});
  // The digit planes, each a binary conv, summed onto it (the bias on the first).
  for (size_t p = 0; p < plan.planes.size(); ++p) {
    const std::string name = plan.planes.size() == 1 ? n.name : n.name + "/digit" + std::to_string(p);
    std::vector<ValueId> in = {n.in(0), g.add_constant(name + "/levels", Tensor::floats(wshape, plan.planes[p]))};
    if (p == 0 && n.in(2) != kNoId) in.push_back(n.in(2));
    const ValueId y = g.add_value(name + "/planes");
    conv_like(g, n, name, in, y);
    const bool last = p + 1 == plan.planes.size();
    const bool clamp = lo > -INFINITY || hi < INFINITY;
    const ValueId s = last && !clamp ? n.out() : g.add_value(name + "/sum");
    g.add_node("Add", name + "/add", {y, sum}, {s});
    sum = s;
  }
  if (lo > -INFINITY || hi < INFINITY)  // a clamp float_fusion had put on the conv applies to the whole sum
    g.add_node("Clip", n.name + "/clamp", {sum, g.add_constant(n.name + "/clamp_lo", Tensor::scalar(lo)), g.add_constant(n.name + "/clamp_hi", Tensor::scalar(hi))}, {n.out()});
  log->note(n.name, "split into " + std::to_string(plan.bits) + "-bit weight planes and a window-sum offset");
  return Status::Ok();
}

}  // namespace

void add_offset_weight_rules(RuleList* rules) {
  add_rule(rules, "offset_weight_conv", "Conv with k-bit weights with a zero level -> binary weight planes + offset",
           {"Conv"}, offset_match, offset_apply, /*late=*/true);
}

}  // namespace onebit::converter
