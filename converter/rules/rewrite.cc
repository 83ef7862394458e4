// The rewrite driver: rounds of (shape inference, every rule over every live node in topological order)
// until a round changes nothing. Each round is linear in the graph; the number of rounds is bounded by
// the longest chain of rules that enable one another (kMaxRounds guards against a rule that re-matches
// its own output, which would be a bug).
#include <map>
#include <set>

#include "ir/shape_inference.h"
#include "rules/rule.h"

namespace onebit::converter {
namespace {
constexpr int kMaxRounds = 200;
constexpr size_t kMaxFiringsPerNode = 100000;
}

const Rule* find_rule(const std::string& name) {
  for (const auto& r : all_rules())
    if (name == r->name()) return r.get();
  return nullptr;
}

Status rewrite_once(Graph* graph, const RewriteOptions& o, RewriteLog* log, bool* changed, bool include_late) {
  Graph& g = *graph;
  *changed = false;
  // Nodes whose results nothing reads any more would look like extra users to the fusion rules.
  for (const std::string& n : g.remove_dead()) log->note(n.substr(0, n.rfind(" (")), "removed (no output depends on it)");
  ONEBIT_RETURN_IF_ERROR(infer_shapes(&g));
  std::vector<NodeId> order;
  std::string cycle;
  if (!g.topo_order(&order, &cycle)) return Status::Error(cycle + ": the graph has a cycle");
  // Rules by target op, each list in priority order; rules with no targets apply to every op.
  std::map<std::string, std::vector<const Rule*>> by_op;
  std::vector<const Rule*> any_op;
  for (const auto& rule : all_rules()) {
    if (rule->late() && !include_late) continue;
    const std::vector<std::string> targets = rule->targets();
    if (targets.empty()) any_op.push_back(rule.get());
    for (const std::string& t : targets) by_op[t].push_back(rule.get());
  }
  std::vector<NodeId> added;
  for (NodeId id : order) {
    const auto it = by_op.find(g.node(id).op);
    std::vector<const Rule*> rules = any_op;
    if (it != by_op.end()) rules.insert(rules.end(), it->second.begin(), it->second.end());
    // Rules that fire on this node may fire on it again (a binary conv absorbs one follower per firing):
    // keep trying them here, so a chain of foldable followers takes one round, not one round each.
    for (size_t k = 0, tries = 0; k < rules.size(); ++k) {
      const Rule* rule = rules[k];
      if (g.node(id).dead) break;
      if (!rule->match(g, id, o)) continue;
      if (++tries > kMaxFiringsPerNode)
        return Status::Error(g.node(id).describe() + ": internal: rule '" + rule->name() + "' keeps matching");
      const size_t before = g.node_count();
      ONEBIT_RETURN_IF_ERROR(rule->apply(g, id, o, log));
      ++log->fired[rule->summary()];
      *changed = true;
      // Shapes of what the rule made (nodes are appended producers first) for the rules on later nodes;
      // the rest of the graph keeps its values and shapes (rewrites preserve them).
      added.clear();
      if (!g.node(id).dead) added.push_back(id);
      for (size_t n = before; n < g.node_count(); ++n) added.push_back(NodeId(n));
      ONEBIT_RETURN_IF_ERROR(infer_shapes_of(&g, added));
      if (!g.node(id).dead) k = size_t(-1);  // start over on this node (++k makes it 0)
    }
  }
  return Status::Ok();
}

Status rewrite_to_fixed_point(Graph* g, const RewriteOptions& o, RewriteLog* log) {
  bool late = false;  // late rules join once the others changed nothing
  for (int round = 0; round < kMaxRounds; ++round) {
    bool changed = false;
    ONEBIT_RETURN_IF_ERROR(rewrite_once(g, o, log, &changed, late));
    // A round that changed nothing began with dead-node removal and shape inference: the graph is final.
    if (!changed && late) return Status::Ok();
    late = !changed;
  }
  return Status::Error("internal: rewrite rules did not reach a fixed point in " + std::to_string(kMaxRounds) + " rounds");
}

}  // namespace onebit::converter
