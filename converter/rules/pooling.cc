// Geometry normalizations, so the emitter and the binary rules see explicit, floor-mode windows:
//  explicit_auto_pad: auto_pad = SAME_UPPER / SAME_LOWER / VALID -> explicit pads (input shape known).
//  ceil_mode_equal: ceil_mode = 1 on a pool whose ceil and floor output sizes are equal -> ceil_mode = 0.
//  strided_slice_to_pool: Slice x[:, :, ::s, ::t] of a feature map (starts 0, ends past the end) ->
//    MaxPool(kernel 1x1, strides s, t): the "option A" ResNet shortcut's subsampling. Output size
//    ceil(H / s) = floor((H - 1) / s) + 1 either way.
//  pad_into_average_pool: Pad(x, 0 on H and W) -> AveragePool without pads = AveragePool with those pads
//    and count_include_pad = 1 (what PyTorch exports for AvgPool2d(padding=p, count_include_pad=True)).
#include "ir/spatial.h"
#include "rules/match.h"
#include "rules/rule_util.h"

namespace onebit::converter {
namespace {

bool auto_pad_match(const Graph& g, NodeId id, const RewriteOptions&) {
  const Node& n = g.node(id);
  const std::string& a = n.s("auto_pad");
  if (a == "NOTSET" || a.empty() || !known_shape(g, n.in(0))) return false;
  return n.op != "Conv" || g.constant(n.in(1)) != nullptr;
}

Status auto_pad_apply(Graph& g, NodeId id, const RewriteOptions&, RewriteLog*) {
  Node& n = g.node(id);
  std::vector<int64_t> kernel = n.ints("kernel_shape");
  if (n.op == "Conv") {
    const auto& w = g.constant(n.in(1))->shape;
    kernel.assign(w.begin() + 2, w.end());
  }
  Spatial sp;
  ONEBIT_RETURN_IF_ERROR(resolve_spatial(n, *known_shape(g, n.in(0)), kernel, &sp));
  std::vector<int64_t> pads = sp.pad_begin;
  pads.insert(pads.end(), sp.pad_end.begin(), sp.pad_end.end());
  n.attrs["pads"] = Attr::Ints(pads);
  n.attrs["auto_pad"] = Attr::String("NOTSET");
  return Status::Ok();
}

bool ceil_match(const Graph& g, NodeId id, const RewriteOptions&) {
  const Node& n = g.node(id);
  Spatial sp;
  return n.i("ceil_mode") && known_shape(g, n.in(0)) &&
         resolve_spatial(n, *known_shape(g, n.in(0)), n.ints("kernel_shape"), &sp).ok() && !sp.ceil_differs;
}

Status ceil_apply(Graph& g, NodeId id, const RewriteOptions&, RewriteLog*) {
  g.node(id).attrs["ceil_mode"] = Attr::Int(0);
  return Status::Ok();
}

// Strides (H, W) of a Slice that only subsamples H and W of a rank-4 tensor; false otherwise.
bool subsample(const Graph& g, const Node& n, int64_t* sh, int64_t* sw) {
  const auto* xs = known_shape(g, n.in(0));
  if (xs == nullptr || xs->size() != 4 || g.value(n.in(0)).dtype != DType::kFloat) return false;
  const Tensor* st = g.constant(n.in(1));
  const Tensor* en = g.constant(n.in(2));
  const Tensor* ax = n.in(3) == kNoId ? nullptr : g.constant(n.in(3));
  const Tensor* sp = n.in(4) == kNoId ? nullptr : g.constant(n.in(4));
  if (!st || !en || (n.in(3) != kNoId && !ax) || (n.in(4) != kNoId && !sp)) return false;
  *sh = *sw = 1;
  for (int64_t k = 0; k < st->elements(); ++k) {
    int64_t a = ax ? ax->as_int(k) : k;
    if (a < 0) a += 4;
    const int64_t dim = (*xs)[size_t(a)], step = sp ? sp->as_int(k) : 1;
    int64_t b = st->as_int(k);
    if (b < 0) b += dim;
    if (step < 1 || b > 0 || en->as_int(k) < dim) return false;
    if (a == 2) *sh = step;
    else if (a == 3) *sw = step;
    else if (step != 1) return false;
  }
  return *sh > 1 || *sw > 1;
}

bool slice_match(const Graph& g, NodeId id, const RewriteOptions&) {
  int64_t sh, sw;
  return subsample(g, g.node(id), &sh, &sw);
}

Status slice_apply(Graph& g, NodeId id, const RewriteOptions&, RewriteLog*) {
  int64_t sh, sw;
  subsample(g, g.node(id), &sh, &sw);
  const std::string name = g.node(id).name;
  const ValueId x = g.node(id).in(0), out = g.node(id).out();
  g.kill(id);
  const NodeId p = g.add_node("MaxPool", name, {x}, {out});
  Node& n = g.node(p);
  n.attrs = {{"auto_pad", Attr::String("NOTSET")}, {"kernel_shape", Attr::Ints({1, 1})}, {"pads", Attr::Ints({0, 0, 0, 0})},
             {"strides", Attr::Ints({sh, sw})}, {"dilations", Attr::Ints({1, 1})}, {"ceil_mode", Attr::Int(0)},
             {"storage_order", Attr::Int(0)}};
  return Status::Ok();
}

bool avg_pad_match(const Graph& g, NodeId id, const RewriteOptions&) {
  const Node& n = g.node(id);
  const Node* pad = producer_of(g, n.in(0), "Pad");
  if (pad == nullptr || n.s("auto_pad") != "NOTSET" || n.i("ceil_mode")) return false;
  for (int64_t p : n.ints("pads"))
    if (p != 0) return false;
  const Tensor* pads = g.constant(pad->in(1));
  const Tensor* value = pad->in(2) == kNoId ? nullptr : g.constant(pad->in(2));
  if (pads == nullptr || pad->in(3) != kNoId || pad->s("mode") != "constant" || pads->elements() != 8) return false;
  if (pad->in(2) != kNoId && (value == nullptr || value->as_float(0) != 0.0f)) return false;
  for (int k : {0, 1, 4, 5})
    if (pads->as_int(k) != 0) return false;
  for (int k : {2, 3, 6, 7})
    if (pads->as_int(k) < 0) return false;
  return true;
}

Status avg_pad_apply(Graph& g, NodeId id, const RewriteOptions&, RewriteLog* log) {
  const Node* pad = g.producer(g.node(id).in(0));
  const Tensor& p = *g.constant(pad->in(1));
  log->note(pad->name, "folded into AvgPool2D '" + g.node(id).name + "' (count_include_pad)");
  const ValueId x = pad->in(0);
  Node& n = g.node(id);
  n.attrs["pads"] = Attr::Ints({p.as_int(2), p.as_int(3), p.as_int(6), p.as_int(7)});
  n.attrs["count_include_pad"] = Attr::Int(1);
  g.set_input(id, 0, x);
  return Status::Ok();
}

}  // namespace

void add_pooling_rules(RuleList* rules) {
  add_rule(rules, "explicit_auto_pad", "auto_pad made explicit", {"Conv", "MaxPool", "AveragePool"}, auto_pad_match,
           auto_pad_apply);
  add_rule(rules, "ceil_mode_equal", "ceil_mode dropped where it equals floor", {"MaxPool", "AveragePool"}, ceil_match,
           ceil_apply);
  add_rule(rules, "strided_slice_to_pool", "strided Slice -> 1x1 MaxPool with strides", {"Slice"}, slice_match, slice_apply);
  add_rule(rules, "pad_into_average_pool", "zero Pad folded into AveragePool", {"AveragePool"}, avg_pad_match, avg_pad_apply);
}

}  // namespace onebit::converter
