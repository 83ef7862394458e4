#include "rules/rule_util.h"

namespace onebit::converter {

void bypass(Graph& g, NodeId n, ValueId v) {
  const ValueId out = g.node(n).out();
  g.replace_uses(out, v);
  g.kill(n);
}

// The one place rules are registered: every family's rules, in the order the driver tries them on a node.
const std::vector<std::unique_ptr<Rule>>& all_rules() {
  static const RuleList rules = [] {
    RuleList r;
    add_fold_rules(&r);
    add_simplify_rules(&r);
    add_pooling_rules(&r);
    add_activation_rules(&r);
    add_lowbit_activation_rules(&r);
    add_qdq_rules(&r);
    add_binary_layer_rules(&r);
    add_lowbit_weight_rules(&r);
    add_offset_weight_rules(&r);
    add_output_transform_rules(&r);
    add_layout_rules(&r);
    add_float_fusion_rules(&r);
    add_binary_fusion_rules(&r);
    add_float_lowering_rules(&r);
    return r;
  }();
  return rules;
}

}  // namespace onebit::converter
