#include "rules/zero_analysis.h"

#include <vector>

#include "ir/onebit_ops.h"
#include "rules/match.h"

namespace onebit::converter {
namespace {

using Facts = ValueFacts;

bool has_zero(const Tensor* t) {
  if (t == nullptr) return false;
  for (int64_t k = 0; k < t->elements(); ++k)
    if (t->as_float(k) == 0.0f) return true;
  return false;
}

Facts node_facts(const Graph& g, const Node& n, const ZeroFactsCache& facts) {
  auto in = [&](size_t k) -> Facts {
    const ValueId v = n.in(k);
    if (v == kNoId || !facts[size_t(v)]) return {};
    return *facts[size_t(v)];
  };
  const std::string& op = n.op;
  Facts out;
  auto source = [&](bool zeros) {
    out.zeros = zeros;
    if (zeros) out.origin = n.describe();
  };
  auto carry = [&](const Facts& f) {
    out.zeros = f.zeros;
    out.origin = f.origin;
  };
  if (op == "Relu") {
    source(true);
  } else if (op == "Clip") {
    float lo, hi;
    if (!clip_bounds(g, n, &lo, &hi)) { source(true); return out; }
    out.discrete = in(0).discrete;
    if (lo == 0.0f || hi == 0.0f) source(true);
    else if (lo < 0.0f && hi > 0.0f) carry(in(0));
  } else if (op == "Pad") {
    const Tensor* value = g.constant(n.in(2));
    const bool zero_pad = n.s("mode") == "constant" && (value == nullptr || value->as_float(0) == 0.0f);
    out.discrete = in(0).discrete;
    if (zero_pad) source(true);
    else carry(in(0));
  } else if (op == "Sign" || op == ops::kDequantize) {
    carry(op == "Sign" ? in(0) : Facts{});
    out.discrete = true;
    // Dequantized k-bit levels with 0 among them (Unipolar, Ternary) hold exact zeros.
    if (op == ops::kDequantize && g.value(n.in(0)).dtype == DType::kLevels && g.value(n.in(0)).levels.has_zero()) {
      const Node* q = g.producer(n.in(0));
      out.zeros = true;
      out.origin = (q ? q->describe() : n.describe()) + " (k-bit levels include 0)";
    }
  } else if (op == ops::kQuantize || op == ops::kQuantizeLevels) {
    out.discrete = true;
  } else if (op == "Add" || op == "Sub") {
    const Facts a = in(0), b = in(1);
    const bool ca = g.value(n.in(0)).is_constant(), cb = g.value(n.in(1)).is_constant();
    out.discrete = a.discrete && b.discrete;
    if (a.zeros && b.zeros) carry(a);
    else if (a.discrete && b.discrete && !ca && !cb) source(true);
  } else if (op == "Mul") {
    const Facts a = in(0), b = in(1);
    out.discrete = a.discrete && b.discrete;
    carry(a.zeros ? a : b);
  } else if (op == "Div") {
    out.discrete = in(0).discrete && in(1).discrete;
    carry(in(0));
  } else if (op == "BatchNormalization") {
    std::vector<float> scale, shift;
    bool maps_zero = true;
    if (batch_norm_affine(g, n, &scale, &shift)) {
      maps_zero = false;
      for (float s : shift) maps_zero = maps_zero || s == 0.0f;
    }
    out.discrete = in(0).discrete;
    if (in(0).zeros && maps_zero) carry(in(0));
  } else if (op == "Conv" || op == "Gemm" || op == "MatMul" || op == ops::kBinaryConv2D || op == ops::kBinaryFullyConnected) {
    const size_t bias_slot = (op == ops::kBinaryConv2D || op == ops::kBinaryFullyConnected) ? 3 : 2;
    const ValueId bias = n.in(bias_slot);
    const bool bias_zero = bias == kNoId || has_zero(g.constant(bias)) || !g.value(bias).is_constant();
    const Facts x = in(0);
    out.discrete = x.discrete && g.value(n.in(1)).is_constant();
    if ((x.zeros || x.discrete) && bias_zero) {
      if (x.zeros) carry(x);
      else source(true);
    }
  } else if (op == "Sigmoid" || op == "Exp" || op == "Softmax" || op == "HardSigmoid") {
    // Never exactly 0 for finite inputs.
  } else {
    // Reshapes, slices, concat, pools, PRelu, Neg, Tanh, ...: zeros anywhere in an input may come through.
    out.discrete = true;
    for (size_t k = 0; k < n.inputs.size(); ++k) {
      if (n.in(k) == kNoId) continue;
      const Facts f = in(k);
      if (f.zeros && !out.zeros) carry(f);
      if (k == 0) out.discrete = f.discrete;
    }
  }
  return out;
}

Facts source_facts(const Graph& g, ValueId v) {
  Facts f;
  const Tensor* t = g.constant(v);
  if (t != nullptr) {
    f.discrete = true;
    f.zeros = has_zero(t);
    f.origin = "constant '" + g.value(v).name + "'";
  }
  return f;  // graph inputs: assumed continuous
}

}  // namespace

bool may_hold_zeros(const Graph& g, ValueId target, std::string* origin, ZeroFactsCache* cache) {
  ZeroFactsCache& facts = *cache;
  if (facts.size() < g.value_count()) facts.resize(g.value_count());
  // Iterative post-order over producers: a value is computed once all its producer's inputs are.
  std::vector<ValueId> stack = {target};
  while (!stack.empty()) {
    const ValueId v = stack.back();
    if (facts[size_t(v)]) {
      stack.pop_back();
      continue;
    }
    const Node* p = g.producer(v);
    if (p == nullptr || p->dead) {
      facts[size_t(v)] = source_facts(g, v);
      stack.pop_back();
      continue;
    }
    bool ready = true;
    for (ValueId in : p->inputs)
      if (in != kNoId && !facts[size_t(in)]) {
        ready = false;
        stack.push_back(in);
      }
    if (!ready) continue;
    const Facts f = node_facts(g, *p, facts);
    for (ValueId o : p->outputs)
      if (o != kNoId) facts[size_t(o)] = f;
    stack.pop_back();
  }
  *origin = facts[size_t(target)]->origin;
  return facts[size_t(target)]->zeros;
}

}  // namespace onebit::converter
