#include "rules/zero_analysis.h"

#include <vector>

#include "ops/op_def.h"

namespace onebit::converter {

bool has_zero(const Tensor* t) {
  if (t == nullptr) return false;
  for (int64_t k = 0; k < t->elements(); ++k)
    if (t->as_float(k) == 0.0f) return true;
  return false;
}

namespace {

using Facts = ValueFacts;

// The node's entry in the op table (ops/) decides; without a zero-fact function zeros anywhere in an input may
// come through (reshapes, slices, concat, pools, PRelu, Neg, Tanh, ...) and the output is discrete when
// input 0 is.
Facts node_facts(const Graph& g, const Node& n, const ZeroFactsCache& facts) {
  std::vector<Facts> in(n.inputs.size());
  for (size_t k = 0; k < n.inputs.size(); ++k)
    if (n.in(k) != kNoId && facts[size_t(n.in(k))]) in[k] = *facts[size_t(n.in(k))];
  const OpDef* def = find_op(n.op);
  if (def != nullptr && def->zeros != nullptr) return def->zeros(g, n, in);
  Facts out;
  out.discrete = true;
  for (size_t k = 0; k < n.inputs.size(); ++k) {
    if (n.in(k) == kNoId) continue;
    if (in[k].zeros && !out.zeros) {
      out.zeros = true;
      out.origin = in[k].origin;
    }
    if (k == 0) out.discrete = in[k].discrete;
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
