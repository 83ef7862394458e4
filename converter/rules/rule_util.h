// Defining a rule from two functions, and the per-file registration hooks all_rules() collects.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "rules/rule.h"

namespace onebit::converter {

using MatchFn = std::function<bool(const Graph&, NodeId, const RewriteOptions&)>;
using ApplyFn = std::function<Status(Graph&, NodeId, const RewriteOptions&, RewriteLog*)>;

class FnRule : public Rule {
 public:
  FnRule(const char* name, const char* summary, std::vector<std::string> targets, MatchFn m, ApplyFn a, bool late = false)
      : name_(name), summary_(summary), targets_(std::move(targets)), match_(std::move(m)), apply_(std::move(a)), late_(late) {}
  bool late() const override { return late_; }
  const char* name() const override { return name_; }
  const char* summary() const override { return summary_; }
  std::vector<std::string> targets() const override { return targets_; }
  bool match(const Graph& g, NodeId n, const RewriteOptions& o) const override { return match_(g, n, o); }
  Status apply(Graph& g, NodeId n, const RewriteOptions& o, RewriteLog* log) const override { return apply_(g, n, o, log); }

 private:
  const char* name_;
  const char* summary_;
  std::vector<std::string> targets_;
  MatchFn match_;
  ApplyFn apply_;
  bool late_;
};

using RuleList = std::vector<std::unique_ptr<Rule>>;
inline void add_rule(RuleList* rules, const char* name, const char* summary, std::vector<std::string> targets, MatchFn m,
                     ApplyFn a, bool late = false) {
  rules->push_back(std::make_unique<FnRule>(name, summary, std::move(targets), std::move(m), std::move(a), late));
}

// One per file under rules/.
void add_fold_rules(RuleList* rules);            // fold.cc
void add_simplify_rules(RuleList* rules);        // simplify.cc
void add_pooling_rules(RuleList* rules);         // pooling.cc
void add_activation_rules(RuleList* rules);      // binary_activation.cc
void add_binary_layer_rules(RuleList* rules);    // binary_layers.cc
void add_output_transform_rules(RuleList* rules);  // output_transform.cc
void add_layout_rules(RuleList* rules);          // layout.cc
void add_lowbit_activation_rules(RuleList* rules);  // lowbit_activation.cc
void add_lowbit_weight_rules(RuleList* rules);      // lowbit_weights.cc
void add_qdq_rules(RuleList* rules);                // qdq.cc
void add_offset_weight_rules(RuleList* rules);      // offset_weights.cc
void add_float_fusion_rules(RuleList* rules);       // float_fusion.cc
void add_binary_fusion_rules(RuleList* rules);      // binary_fusion.cc
void add_float_lowering_rules(RuleList* rules);     // float_lowering.cc

/// Replaces node `n` (single output) by making its users read `v` instead, then kills it.
void bypass(Graph& g, NodeId n, ValueId v);

}  // namespace onebit::converter
