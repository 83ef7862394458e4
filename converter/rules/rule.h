// Rewrite rules over the IR, in the style of onnxruntime's RewriteRule: each rule names the op types it
// targets, `match` checks structure and conditions without touching the graph, `apply` rewrites. The
// driver (rules/rewrite.cc) runs them to a fixed point, re-inferring shapes and folding constants after
// every round. A rule that matches must change the graph (or the driver would loop); apply may still fail
// with an error naming the node (a pattern that is recognizably binary but cannot be converted).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ir/graph.h"
#include "onebit/status.h"
#include "rules/zero_analysis.h"

namespace onebit::converter {

/// A Sign whose input can hold exact zeros: a ternary QuantizeLevels (exact, the default), sign(0) = +1
/// (binary, what training with torch.where(x >= 0, 1, -1) computed), or a conversion error.
enum class SignZero { kError, kPlusOne, kTernary };

/// Constant folding's default budget (RewriteOptions::max_fold_bytes): 256 MiB of folded constants alive at
/// once, so a conversion stays well under 1 GB whatever the file asks to fold.
constexpr int64_t kDefaultMaxFoldBytes = int64_t(256) << 20;
/// Element operations (elements read and written, multiply-adds) all folds together may cost, per byte of
/// the budget: 2^28 by default, about 2 s at most (fresh pages of big tensors dominate); a ResNet-18 that
/// binarizes its weights in the graph (ReActNet style, ~12 operations per weight) needs ~1.4e8.
constexpr int64_t kFoldWorkPerByte = 1;

struct RewriteOptions {
  SignZero sign_zero = SignZero::kTernary;
  /// Constant folding's budget (rules/fold.cc): bytes of folded constants alive at once, and
  /// kFoldWorkPerByte times as many element operations over the conversion; both checked before a node is
  /// evaluated. onebit-convert --max-fold-bytes.
  int64_t max_fold_bytes = kDefaultMaxFoldBytes;
  /// The model is emitted as its float reference: fusions that only change how the runtime computes (a binary
  /// conv writing its Quantize's bits too) are left out, so the reference keeps one operator per node.
  bool float_reference = false;
};

/// What the rewrites did, for the summary.
struct RewriteLog {
  std::map<std::string, int> fired;                  // rule summary text -> count
  std::map<std::string, std::string> node_fate;      // ONNX node name -> what it became / was folded into
  std::vector<std::string> folded;                   // "name (Op)" evaluated at conversion time
  std::vector<std::string> warnings;
  ZeroFactsCache zero_facts;  // analysis cache of rules/zero_analysis.h for this conversion
  /// What constant folding holds and has spent against RewriteOptions::max_fold_bytes (rules/fold.cc).
  struct FoldLedger {
    std::vector<std::pair<ValueId, int64_t>> alive;  // folded values still read, and their bytes
    int64_t bytes_alive = 0;
    int64_t work_done = 0;
  } fold;

  void note(const std::string& node, const std::string& fate) {
    std::string& s = node_fate[node];
    if (s.empty()) s = fate;
  }
};

class Rule {
 public:
  virtual ~Rule() = default;
  /// Short id for tests ("straight_through_residue").
  virtual const char* name() const = 0;
  /// Phrase for the summary ("straight-through residue removed").
  virtual const char* summary() const = 0;
  virtual std::vector<std::string> targets() const = 0;
  virtual bool match(const Graph& g, NodeId n, const RewriteOptions& o) const = 0;
  virtual Status apply(Graph& g, NodeId n, const RewriteOptions& o, RewriteLog* log) const = 0;
  /// Late rules run only once the other rules have reached a fixed point (a decision that must see the
  /// final form of its neighbours, e.g. a float layer's input that may still become binary).
  virtual bool late() const { return false; }
};

/// Every rule, in priority order (simplifications before recognitions before fusions).
const std::vector<std::unique_ptr<Rule>>& all_rules();
/// The rule with this name, or nullptr (for tests).
const Rule* find_rule(const std::string& name);

/// Fold constants, infer shapes and apply all rules until nothing changes; then remove dead nodes.
Status rewrite_to_fixed_point(Graph* g, const RewriteOptions& o, RewriteLog* log);

/// One round (for tests): dead-node removal + shape inference, then every rule on every node once (late
/// rules only with include_late). *changed says whether anything fired.
Status rewrite_once(Graph* g, const RewriteOptions& o, RewriteLog* log, bool* changed, bool include_late = true);

}  // namespace onebit::converter
