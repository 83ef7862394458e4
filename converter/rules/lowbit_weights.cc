// Low-bit weights.
//  split_weight_levels (lowbit.h): constant weights whose every output channel is ±s (1 bit), or takes the
//    odd levels {-3, -1, 1, 3}·s (2 bits: DoReFa's w_q = 2 round(((tanh w / 2 max|tanh w|) + 1/2) n) / n - 1
//    with n = 3, computed in forward and constant-folded, or stored precomputed) -> level values + s per
//    channel. binary_conv / binary_fully_connected (rules/binary_layers.cc) use it for layers on bits or
//    k-bit levels; the layer's weight_bits is the largest a channel needs.
//  binary_weights_float_input: BinaryConnect / BWN: a float Conv / Gemm / MatMul on a FLOAT activation whose
//    constant weights are ±alpha_o per output channel (alpha * sign(W), alpha per channel or per tensor) is
//    marked binary_weights = 1: the emitter stores 1 bit per weight plus alpha (conv2d / fully_connected
//    with Weights::binary), the runtime computes in float. A late rule: it runs once everything
//    else is final, so a layer whose input is still becoming binary / k-bit is left to the binary rules.
#include <algorithm>
#include <cmath>

#include "ir/onebit_ops.h"
#include "rules/lowbit.h"
#include "rules/match.h"
#include "rules/rule_util.h"

namespace onebit::converter {

int split_weight_levels(const std::vector<float>& w, int64_t out, int max_bits, std::vector<float>* levels,
                        std::vector<float>* scale, std::string* why) {
  if (split_sign_magnitude(w, out, levels, scale, why)) return 1;
  if (max_bits < 2) return 0;
  const std::string why1 = *why;
  const size_t per = w.size() / size_t(out);
  levels->assign(w.size(), 0.0f);
  scale->assign(size_t(out), 0.0f);
  for (size_t o = 0; o < size_t(out); ++o) {
    float mmax = 0, mmin = INFINITY;
    for (size_t i = 0; i < per; ++i) {
      const float a = std::fabs(w[o * per + i]);
      mmax = std::max(mmax, a);
      mmin = std::min(mmin, a);
    }
    if (!(mmin > 0)) {
      *why = why1;
      return 0;
    }
    // One magnitude: ±s (levels ±1); two: s and 3s (levels ±1, ±3).
    const bool single = std::fabs(mmax - mmin) <= 1e-5f * mmax;
    const double s = single ? double(mmax) : double(mmax) / 3.0;
    for (size_t i = 0; i < per; ++i) {
      const float v = w[o * per + i];
      const double r = std::fabs(double(v)) / s;
      const double l = std::fabs(r - 1) <= 1e-4 ? 1 : std::fabs(r - 3) <= 3e-4 ? 3 : 0;
      if (l == 0) {
        *why = "output channel " + std::to_string(o) + " has weight " + std::to_string(v) +
               ", not ±s or one of the 2-bit levels {-3, -1, 1, 3}·s (s = " + std::to_string(s) + ")";
        return 0;
      }
      (*levels)[o * per + i] = float(v < 0 ? -l : l);
    }
    (*scale)[o] = float(s);
  }
  return 2;
}

namespace {

bool bwn_match(const Graph& g, NodeId id, const RewriteOptions&) {
  const Node& n = g.node(id);
  if (n.i("binary_weights")) return false;
  const ValueId x = n.in(0);
  const auto* xs = known_shape(g, x);
  if (x == kNoId || xs == nullptr || g.value(x).is_constant() || g.value(x).dtype != DType::kFloat) return false;
  // Layers reading a Dequantize are the binary rules' (or the audit's) business.
  if (producer_of(g, x, ops::kDequantize) != nullptr) return false;
  std::vector<float> w, s, m;
  std::string why;
  int64_t out = 0, k = 0;
  if (n.op == "Conv") {
    const Tensor* t = g.constant(n.in(1));
    if (t == nullptr || !t->is_float() || t->shape.size() != 4 || xs->size() != 4) return false;
    if (n.in(2) != kNoId && g.constant(n.in(2)) == nullptr) return false;
    w = t->f;
    out = t->shape[0];
  } else {
    if (xs->size() != 2 || !fc_weight_matrix(g, n, &w, &out, &k)) return false;
    if (n.op == "Gemm" && n.in(2) != kNoId && g.constant(n.in(2)) == nullptr) return false;
  }
  return split_sign_magnitude(w, out, &s, &m, &why);
}

Status bwn_apply(Graph& g, NodeId id, const RewriteOptions&, RewriteLog*) {
  g.node(id).attrs["binary_weights"] = Attr::Int(1);
  return Status::Ok();
}

}  // namespace

void add_lowbit_weight_rules(RuleList* rules) {
  add_rule(rules, "binary_weights_float_input", "float layer with ±alpha weights -> 1-bit weights + scale (BWN)",
           {"Conv", "Gemm", "MatMul"}, bwn_match, bwn_apply, /*late=*/true);
}

}  // namespace onebit::converter
