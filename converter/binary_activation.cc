#include "binary_activation.h"

namespace onebit::converter {

Status detect_binary_activations(const Graph& g, Plan* plan) {
  for (const Node& n : g.nodes) {
    if (n.op_type == "Sign") {
      if (n.inputs.size() != 1 || g.is_constant(n.inputs[0])) continue;
      QuantizeSpec q;
      q.sign_node = n.name;
      q.source = n.inputs[0];
      for (const Node* p = g.producer(q.source); p != nullptr && p->op_type == "Clip"; p = g.producer(q.source)) {
        float lo, hi;
        Status s = clip_bounds(g, *p, &lo, &hi);
        if (!s.ok()) return s;
        if (!(lo < 0 && hi > 0)) break;
        q.fused.push_back(p->name);
        q.source = p->inputs[0];
      }
      plan->binary_values.insert(n.outputs[0]);
      plan->quantizes[n.name] = q;
    } else if (n.op_type == "MaxPool" && plan->binary_values.count(n.inputs[0]) != 0 && n.outputs.size() == 1 &&
               n.get_int("ceil_mode", 0) == 0 && n.get_int("storage_order", 0) == 0) {
      bool unit_dilation = true;
      for (int64_t d : n.get_ints("dilations")) unit_dilation = unit_dilation && d == 1;
      if (!unit_dilation) continue;
      plan->binary_max_pools.insert(n.name);
      plan->binary_values.insert(n.outputs[0]);
    }
  }
  return Status::Ok();
}

}  // namespace onebit::converter
