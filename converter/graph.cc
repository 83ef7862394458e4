#include "graph.h"

#include <algorithm>

namespace onebit::converter {

int64_t Node::get_int(const std::string& attr, int64_t fallback) const {
  auto it = attributes.find(attr);
  return it == attributes.end() ? fallback : it->second.i;
}

float Node::get_float(const std::string& attr, float fallback) const {
  auto it = attributes.find(attr);
  return it == attributes.end() ? fallback : it->second.f;
}

std::vector<int64_t> Node::get_ints(const std::string& attr, std::vector<int64_t> fallback) const {
  auto it = attributes.find(attr);
  return it == attributes.end() ? fallback : it->second.ints;
}

std::string Node::get_string(const std::string& attr, const std::string& fallback) const {
  auto it = attributes.find(attr);
  return it == attributes.end() ? fallback : it->second.s;
}

std::string Node::describe() const { return "node '" + name + "' (" + op_type + ")"; }

const Value* Graph::find(const std::string& name) const {
  auto it = values.find(name);
  return it == values.end() ? nullptr : &it->second;
}

Value* Graph::find(const std::string& name) {
  auto it = values.find(name);
  return it == values.end() ? nullptr : &it->second;
}

bool Graph::is_constant(const std::string& name) const {
  const Value* v = find(name);
  return v != nullptr && v->is_constant;
}

const Node* Graph::find_node(const std::string& name) const {
  for (const Node& n : nodes)
    if (n.name == name) return &n;
  return nullptr;
}

const Node* Graph::producer(const std::string& name) const {
  const Value* v = find(name);
  return (v == nullptr || v->producer < 0) ? nullptr : &nodes[size_t(v->producer)];
}

std::vector<int> Graph::consumers(const std::string& name) const {
  const Value* v = find(name);
  if (v == nullptr) return {};
  std::vector<int> out = v->consumers;
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void Graph::link() {
  for (auto& [name, v] : values) {
    v.producer = -1;
    v.consumers.clear();
    v.is_graph_output = false;
  }
  for (size_t i = 0; i < nodes.size(); ++i) {
    for (const std::string& in : nodes[i].inputs)
      if (!in.empty()) values[in].consumers.push_back(int(i));
    for (const std::string& out : nodes[i].outputs)
      if (!out.empty()) values[out].producer = int(i);
  }
  for (const std::string& out : outputs) values[out].is_graph_output = true;
  for (auto& [name, v] : values) v.name = name;
}

}  // namespace onebit::converter
