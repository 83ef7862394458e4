// The rewrite driver: rounds of (shape inference, every rule over every live node in topological order)
// until a round changes nothing. Each round is linear in the graph; the number of rounds is bounded by
// the longest chain of rules that enable one another (kMaxRounds guards against a rule that re-matches
// its own output, which would be a bug).
#include <set>

#include "ir/shape_inference.h"
#include "rules/rule.h"

namespace onebit::converter {
namespace {
constexpr int kMaxRounds = 200;
}

const Rule* find_rule(const std::string& name) {
  for (const auto& r : all_rules())
    if (name == r->name()) return r.get();
  return nullptr;
}

Status rewrite_once(Graph* graph, const RewriteOptions& o, RewriteLog* log, bool* changed) {
  Graph& g = *graph;
  *changed = false;
  // Nodes whose results nothing reads any more would look like extra users to the fusion rules.
  for (const std::string& n : g.remove_dead()) log->note(n.substr(0, n.rfind(" (")), "removed (no output depends on it)");
  Status s = infer_shapes(&g);
  if (!s.ok()) return s;
  std::vector<NodeId> order;
  std::string cycle;
  if (!g.topo_order(&order, &cycle)) return Status::Error(cycle + ": the graph has a cycle");
  for (NodeId id : order) {
    for (const auto& rule : all_rules()) {
      if (g.node(id).dead) break;
      const std::vector<std::string> targets = rule->targets();
      bool targeted = targets.empty();
      for (const std::string& t : targets) targeted = targeted || t == g.node(id).op;
      if (!targeted || !rule->match(g, id, o)) continue;
      s = rule->apply(g, id, o, log);
      if (!s.ok()) return s;
      ++log->fired[rule->summary()];
      *changed = true;
      // Shapes of the values this rule made are needed by the next rules on later nodes.
      s = infer_shapes(&g);
      if (!s.ok()) return s;
    }
  }
  return Status::Ok();
}

Status rewrite_to_fixed_point(Graph* g, const RewriteOptions& o, RewriteLog* log) {
  for (int round = 0; round < kMaxRounds; ++round) {
    bool changed = false;
    Status s = rewrite_once(g, o, log, &changed);
    if (!s.ok()) return s;
    if (!changed) {
      s = infer_shapes(g);
      if (!s.ok()) return s;
      for (const std::string& n : g->remove_dead()) log->note(n.substr(0, n.rfind(" (")), "removed (no output depends on it)");
      return Status::Ok();
    }
  }
  return Status::Error("internal: rewrite rules did not reach a fixed point in " + std::to_string(kMaxRounds) + " rounds");
}

}  // namespace onebit::converter
