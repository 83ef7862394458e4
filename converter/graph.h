// The converter's graph IR: an ONNX graph reduced to what the passes need. Values carry their static
// shape (ONNX order, NCHW for feature maps) and, for constants, their data as floats (and int64 for index
// tensors). Nodes keep ONNX op type, name, inputs, outputs and attributes. The graph is read-only for the
// passes except for constant folding, which turns constant subexpressions into constant values.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace onebit::converter {

struct Attribute {
  enum class Kind { kInt, kFloat, kInts, kFloats, kString, kTensor, kOther } kind = Kind::kOther;
  int64_t i = 0;
  float f = 0;
  std::vector<int64_t> ints;
  std::vector<float> floats;
  std::string s;
  // kTensor (Constant's value): shape and data.
  std::vector<int64_t> tensor_shape;
  std::vector<float> tensor_floats;
  std::vector<int64_t> tensor_ints;
};

struct Value {
  std::string name;
  bool shape_known = false;
  std::vector<int64_t> shape;       // ONNX order; valid when shape_known
  bool is_constant = false;
  std::vector<float> data;          // constants: elements as float
  std::vector<int64_t> int_data;    // constants of integer type: exact elements
  bool is_integer = false;
  int producer = -1;                // node index, -1 for graph inputs and initializers
  std::vector<int> consumers;       // node indices (one entry per use)
  bool is_graph_output = false;
  bool is_graph_input = false;

  int64_t elements() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
};

struct Node {
  std::string name;   // ONNX name, or "<op_type>_<index>" when the file has none
  std::string op_type;
  std::vector<std::string> inputs;   // "" for an omitted optional input
  std::vector<std::string> outputs;
  std::map<std::string, Attribute> attributes;

  bool has(const std::string& attr) const { return attributes.count(attr) != 0; }
  int64_t get_int(const std::string& attr, int64_t fallback) const;
  float get_float(const std::string& attr, float fallback) const;
  std::vector<int64_t> get_ints(const std::string& attr, std::vector<int64_t> fallback = {}) const;
  std::string get_string(const std::string& attr, const std::string& fallback) const;
  /// "node 'name' (OpType)" for messages.
  std::string describe() const;
};

struct Graph {
  std::vector<Node> nodes;                 // topological order (ONNX requires it)
  std::map<std::string, Value> values;
  std::vector<std::string> inputs;         // non-constant graph inputs
  std::vector<std::string> outputs;
  int64_t onnx_parameter_bytes = 0;        // bytes of all initializers as stored in the file
  int opset = 0;

  const Value* find(const std::string& name) const;
  Value* find(const std::string& name);
  bool is_constant(const std::string& name) const;
  /// Node by name or nullptr.
  const Node* find_node(const std::string& name) const;
  /// Producer node of a value or nullptr.
  const Node* producer(const std::string& name) const;
  /// Consumer nodes of a value (each node once).
  std::vector<int> consumers(const std::string& name) const;
  /// Recomputes producer/consumer links from the node list.
  void link();
  int index_of(const Node& node) const { return int(&node - nodes.data()); }
};

}  // namespace onebit::converter
