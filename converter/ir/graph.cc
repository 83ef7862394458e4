#include "ir/graph.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "ops/op_def.h"

namespace onebit::converter {

std::string Node::describe() const { return "node '" + name + "' (" + op + ")"; }

namespace {

[[noreturn]] void attribute_bug(const Node& n, const std::string& a, const char* why) {
  // A programming error (a typo'd name, a rule that forgot to declare what it sets), never a model problem.
  std::fprintf(stderr, "onebit-convert: internal error: %s reads attribute '%s' %s\n", n.describe().c_str(), a.c_str(), why);
  std::abort();
}

// The attribute as set on the node, else the default its op-table entry declares; a name the entry does not
// declare, or a read as the wrong kind, is a bug.
const Attr& typed_attr(const Node& n, const std::string& a, Attr::Kind kind) {
  const Attr* x = nullptr;
  auto it = n.attrs.find(a);
  if (it != n.attrs.end()) {
    x = &it->second;
  } else {
    const OpDef* def = find_op(n.op);
    const AttrSpec* spec = def ? def->attr(a) : nullptr;
    if (spec == nullptr) attribute_bug(n, a, "that its op does not declare (converter/ops/)");
    x = &spec->default_value;
  }
  if (x->kind != kind) attribute_bug(n, a, "as the wrong kind");
  return *x;
}

}  // namespace

int64_t Node::i(const std::string& a) const { return typed_attr(*this, a, Attr::Kind::kInt).i; }
float Node::f(const std::string& a) const { return typed_attr(*this, a, Attr::Kind::kFloat).f; }
const std::vector<int64_t>& Node::ints(const std::string& a) const { return typed_attr(*this, a, Attr::Kind::kInts).ints; }
const std::vector<float>& Node::floats(const std::string& a) const { return typed_attr(*this, a, Attr::Kind::kFloats).floats; }
const std::string& Node::s(const std::string& a) const { return typed_attr(*this, a, Attr::Kind::kString).s; }

namespace {
// The typed parameters `P` the node holds; holding none or others is a bug (a rule that did not fill them).
template <class P, class Params>
auto& typed_params(const Node& n, Params& params, const char* what) {
  auto* p = std::get_if<P>(&params);
  if (p == nullptr) {
    std::fprintf(stderr, "onebit-convert: internal error: %s reads %s, which it does not hold\n",
                 n.describe().c_str(), what);
    std::abort();
  }
  return *p;
}
}  // namespace

const BinaryConv2DParams& Node::conv_params() const {
  return typed_params<BinaryConv2DParams>(*this, params, "BinaryConv2DParams");
}
BinaryConv2DParams& Node::conv_params() { return typed_params<BinaryConv2DParams>(*this, params, "BinaryConv2DParams"); }
const BinaryFullyConnectedParams& Node::fc_params() const {
  return typed_params<BinaryFullyConnectedParams>(*this, params, "BinaryFullyConnectedParams");
}
BinaryFullyConnectedParams& Node::fc_params() {
  return typed_params<BinaryFullyConnectedParams>(*this, params, "BinaryFullyConnectedParams");
}
const Pool2DParams& Node::pool_params() const { return typed_params<Pool2DParams>(*this, params, "Pool2DParams"); }

ValueId Graph::add_value(const std::string& name, DType dtype) {
  const ValueId id = ValueId(values_.size());
  Value v;
  v.name = unique_name(name);
  v.dtype = dtype;
  by_name_[v.name] = id;
  values_.push_back(std::move(v));
  return id;
}

ValueId Graph::add_constant(const std::string& name, Tensor t) {
  const ValueId id = add_value(name, t.dtype);
  set_constant(id, std::move(t));
  return id;
}

ValueId Graph::find_value(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? kNoId : it->second;
}

std::string Graph::unique_name(const std::string& base) {
  if (!by_name_.count(base)) return base;
  for (int& k = next_suffix_[base];;) {
    const std::string n = base + "_" + std::to_string(++k);
    if (!by_name_.count(n)) return n;
  }
}

void Graph::set_constant(ValueId v, Tensor t) {
  Value& val = values_[size_t(v)];
  val.dtype = t.dtype;
  val.shape = t.shape;
  val.shape_known = true;
  val.constant = std::make_shared<const Tensor>(std::move(t));
}

int64_t Graph::release_constant(ValueId v) {
  Value& val = values_[size_t(v)];
  if (val.constant == nullptr || val.graph_output) return 0;
  for (NodeId u : val.users)
    if (!nodes_[size_t(u)].dead) return 0;
  const int64_t bytes = val.constant->bytes();
  val.constant.reset();
  return bytes;
}

NodeId Graph::add_node(const std::string& op, const std::string& name, const std::vector<ValueId>& inputs,
                       const std::vector<ValueId>& outputs) {
  const NodeId id = NodeId(nodes_.size());
  Node n;
  n.op = op;
  n.name = name;
  n.inputs = inputs;
  n.outputs = outputs;
  for (ValueId v : inputs)
    if (v != kNoId) values_[size_t(v)].users.push_back(id);
  for (ValueId v : outputs)
    if (v != kNoId) values_[size_t(v)].producer = id;
  nodes_.push_back(std::move(n));
  return id;
}

const Node* Graph::producer(ValueId v) const {
  if (v == kNoId) return nullptr;
  const NodeId p = values_[size_t(v)].producer;
  return p == kNoId ? nullptr : &nodes_[size_t(p)];
}

void Graph::set_input(NodeId n, size_t slot, ValueId v) {
  Node& node = nodes_[size_t(n)];
  if (slot >= node.inputs.size()) node.inputs.resize(slot + 1, kNoId);
  const ValueId old = node.inputs[slot];
  if (old == v) return;
  if (old != kNoId) {
    auto& u = values_[size_t(old)].users;
    auto it = std::find(u.begin(), u.end(), n);
    if (it != u.end()) u.erase(it);
  }
  node.inputs[slot] = v;
  if (v != kNoId) values_[size_t(v)].users.push_back(n);
}

void Graph::replace_uses(ValueId from, ValueId to) {
  if (from == to) return;
  const std::vector<NodeId> users = values_[size_t(from)].users;
  for (NodeId n : users) {
    if (nodes_[size_t(n)].dead) continue;
    for (size_t k = 0; k < nodes_[size_t(n)].inputs.size(); ++k)
      if (nodes_[size_t(n)].inputs[k] == from) set_input(n, k, to);
  }
  for (ValueId& o : outputs)
    if (o == from) {
      o = to;
      values_[size_t(from)].graph_output = false;
      values_[size_t(to)].graph_output = true;
    }
}

void Graph::kill(NodeId n) {
  Node& node = nodes_[size_t(n)];
  if (node.dead) return;
  for (size_t k = 0; k < node.inputs.size(); ++k) set_input(n, k, kNoId);
  for (ValueId v : node.outputs)
    if (v != kNoId && values_[size_t(v)].producer == n) values_[size_t(v)].producer = kNoId;
  node.dead = true;
}

std::vector<NodeId> Graph::users(ValueId v) const {
  std::vector<NodeId> out;
  for (NodeId n : values_[size_t(v)].users)
    if (!nodes_[size_t(n)].dead) out.push_back(n);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

NodeId Graph::sole_user(ValueId v) const {
  const Value& val = values_[size_t(v)];
  if (val.graph_output || val.users.size() != 1) return kNoId;
  return val.users[0];
}

bool Graph::topo_order(std::vector<NodeId>* order, std::string* cycle_node) const {
  // Kahn's algorithm over live nodes; ties broken by id so the order is deterministic.
  order->clear();
  std::vector<int> pending(nodes_.size(), 0);
  size_t live = 0;
  for (size_t n = 0; n < nodes_.size(); ++n) {
    if (nodes_[n].dead) continue;
    ++live;
    for (ValueId v : nodes_[n].inputs)
      if (v != kNoId && values_[size_t(v)].producer != kNoId) ++pending[n];
  }
  std::vector<NodeId> ready;
  for (size_t n = 0; n < nodes_.size(); ++n)
    if (!nodes_[n].dead && pending[n] == 0) ready.push_back(NodeId(n));
  // Process in id order among ready nodes: a min-heap would be exact; a sorted stack is enough here.
  std::sort(ready.rbegin(), ready.rend());
  while (!ready.empty()) {
    const NodeId n = ready.back();
    ready.pop_back();
    order->push_back(n);
    for (ValueId v : nodes_[size_t(n)].outputs) {
      if (v == kNoId) continue;
      for (NodeId u : values_[size_t(v)].users) {
        if (nodes_[size_t(u)].dead) continue;
        if (--pending[size_t(u)] == 0) ready.push_back(u);
      }
    }
  }
  if (order->size() == live) return true;
  if (cycle_node)
    for (size_t n = 0; n < nodes_.size(); ++n)
      if (!nodes_[n].dead && pending[n] > 0) {
        *cycle_node = nodes_[n].describe();
        break;
      }
  return false;
}

std::vector<std::string> Graph::remove_dead() {
  std::vector<char> needed_value(values_.size(), 0), needed_node(nodes_.size(), 0);
  std::vector<ValueId> stack(outputs.begin(), outputs.end());
  while (!stack.empty()) {
    const ValueId v = stack.back();
    stack.pop_back();
    if (v == kNoId || needed_value[size_t(v)]) continue;
    needed_value[size_t(v)] = 1;
    const NodeId p = values_[size_t(v)].producer;
    if (p == kNoId || needed_node[size_t(p)]) continue;
    needed_node[size_t(p)] = 1;
    for (ValueId in : nodes_[size_t(p)].inputs) stack.push_back(in);
  }
  std::vector<std::string> removed;
  for (size_t n = 0; n < nodes_.size(); ++n)
    if (!nodes_[n].dead && !needed_node[n]) {
      removed.push_back(nodes_[n].name + " (" + nodes_[n].op + ")");
      kill(NodeId(n));
    }
  return removed;
}

}  // namespace onebit::converter
