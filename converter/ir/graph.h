// The converter's IR: a graph of typed values and nodes that rewrite rules edit in place.
//
// Reading (converter/onnx/import.cc) turns every ONNX node into a Node whose attributes are complete and
// checked against the op's schema (its entry in the op table, converter/ops/) and whose inputs are in the
// canonical, newest-opset form: attributes that later opsets moved to inputs (Squeeze/Unsqueeze/Reduce* axes, Pad
// pads and value, Clip min/max, Slice starts/ends/axes/steps, Split sizes) are constant inputs here
// whatever the file's opset, so every rule and the evaluator read them one way.
//
// Ops are ONNX op types ("Conv") until rules replace them by onebit's own ops ("onebit.BinaryConv2D", see
// converter/ir/onebit_ops.h). A value's dtype says what it is: kBits marks binary activations, so "is this
// input binary?" is a property of the value, not a list kept beside the graph; kLevels marks k-bit activations
// (Value::levels: kind, bits, zero level, level scale).
//
// Ids are stable: killing a node leaves a dead slot; new nodes are appended, so the node vector is not in
// topological order after rewrites - walk topo_order().
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "ir/tensor.h"
#include "onebit/builder/op_params.h"

namespace onebit::converter {

using ValueId = int32_t;
using NodeId = int32_t;
constexpr int32_t kNoId = -1;

struct Attr {
  enum class Kind : uint8_t { kInt, kFloat, kInts, kFloats, kString, kTensor };
  Kind kind = Kind::kInt;
  int64_t i = 0;
  float f = 0;
  std::vector<int64_t> ints;
  std::vector<float> floats;
  std::string s;
  Tensor t;

  static Attr Int(int64_t v) { Attr a; a.kind = Kind::kInt; a.i = v; return a; }
  static Attr Float(float v) { Attr a; a.kind = Kind::kFloat; a.f = v; return a; }
  static Attr Ints(std::vector<int64_t> v) { Attr a; a.kind = Kind::kInts; a.ints = std::move(v); return a; }
  static Attr Floats(std::vector<float> v) { Attr a; a.kind = Kind::kFloats; a.floats = std::move(v); return a; }
  static Attr String(std::string v) { Attr a; a.kind = Kind::kString; a.s = std::move(v); return a; }
};

struct Value {
  std::string name;
  DType dtype = DType::kFloat;
  /// kLevels: what the levels are (set by shape inference from the producing onebit.QuantizeLevels).
  Levels levels;
  /// Shape as the IR infers it (converter/ir/shape_inference.cc); dims are >= 0 when shape_known.
  bool shape_known = false;
  std::vector<int64_t> shape;
  /// Shape as the file states it or ONNX's own inference found it; -1 marks a symbolic/unknown dim.
  /// Shape inference checks its result against this wherever both are known.
  bool onnx_shape_known = false;
  std::vector<int64_t> onnx_shape;
  /// Non-null: a compile-time constant (initializer, Constant node, or folded).
  std::shared_ptr<const Tensor> constant;
  NodeId producer = kNoId;
  std::vector<NodeId> users;  // one entry per use (a node reading the value twice appears twice)
  bool graph_input = false;
  bool graph_output = false;

  bool is_constant() const { return constant != nullptr; }
};

/// Typed parameters of the onebit-level ops whose builder call takes a parameter struct (ir/onebit_ops.h): a
/// BinaryConv2D holds the very BinaryConv2DParams ModelBuilder::binary_conv2d takes, a BinaryFullyConnected
/// the BinaryFullyConnectedParams of binary_fully_connected, a BinaryMaxPool2D the Pool2DParams of
/// binary_max_pool. The rule that makes the node fills them once; shape inference and the
/// emitter read them; no string attribute repeats them. Other ops hold nothing (monostate).
using OpParams = std::variant<std::monostate, BinaryConv2DParams, BinaryFullyConnectedParams, Pool2DParams>;

struct Node {
  std::string op;    // ONNX op type or "onebit.*"
  std::string name;  // ONNX node name (or "<op>_<index>" when the file has none); onebit ops keep their source's
  std::vector<ValueId> inputs;   // kNoId for an omitted optional input
  std::vector<ValueId> outputs;  // kNoId for an omitted optional output
  std::map<std::string, Attr> attrs;
  OpParams params;  // see OpParams
  bool dead = false;

  /// "node 'name' (Op)" for messages.
  std::string describe() const;
  bool has(const std::string& a) const { return attrs.count(a) != 0; }
  // Typed attribute accessors: the value set on the node, else the default its op-table entry declares
  // (converter/ops/). Reading a name the entry does not declare, or as the wrong kind, is an internal error
  // that stops the converter (a typo'd name never reads as 0).
  int64_t i(const std::string& a) const;
  float f(const std::string& a) const;
  const std::vector<int64_t>& ints(const std::string& a) const;
  const std::vector<float>& floats(const std::string& a) const;
  const std::string& s(const std::string& a) const;
  // Typed parameters (OpParams): reading ones the node does not hold is an internal error, like an
  // undeclared attribute.
  const BinaryConv2DParams& conv_params() const;
  BinaryConv2DParams& conv_params();
  const BinaryFullyConnectedParams& fc_params() const;
  BinaryFullyConnectedParams& fc_params();
  const Pool2DParams& pool_params() const;
  ValueId in(size_t k) const { return k < inputs.size() ? inputs[k] : kNoId; }
  ValueId out(size_t k = 0) const { return k < outputs.size() ? outputs[k] : kNoId; }
};

class Graph {
 public:
  int opset = 0;
  int64_t onnx_parameter_bytes = 0;  // bytes of all initializers as stored in the file
  std::vector<ValueId> inputs;       // non-constant graph inputs, file order
  std::vector<ValueId> outputs;      // graph outputs, file order
  /// (name, op type) of every ONNX node as read (Constant nodes excluded), for the summary.
  std::vector<std::pair<std::string, std::string>> source_nodes;

  // Values.
  ValueId add_value(const std::string& name, DType dtype = DType::kFloat);
  ValueId add_constant(const std::string& name, Tensor t);
  Value& value(ValueId v) { return values_[size_t(v)]; }
  const Value& value(ValueId v) const { return values_[size_t(v)]; }
  size_t value_count() const { return values_.size(); }
  /// Value by name, or kNoId.
  ValueId find_value(const std::string& name) const;
  /// A fresh value name based on `base` ("base", "base_1", ...).
  std::string unique_name(const std::string& base);
  const Tensor* constant(ValueId v) const { return v == kNoId ? nullptr : values_[size_t(v)].constant.get(); }
  /// Turns `v` into a constant (its producer, if any, must be killed by the caller).
  void set_constant(ValueId v, Tensor t);
  /// Frees the data of constant `v` when nothing reads it any more (no live user, not a graph output): it
  /// stays an unread value with no producer. Returns the bytes freed (0 when `v` is still read).
  int64_t release_constant(ValueId v);

  // Nodes.
  NodeId add_node(const std::string& op, const std::string& name, const std::vector<ValueId>& inputs,
                  const std::vector<ValueId>& outputs);
  Node& node(NodeId n) { return nodes_[size_t(n)]; }
  const Node& node(NodeId n) const { return nodes_[size_t(n)]; }
  size_t node_count() const { return nodes_.size(); }
  /// Producer node of `v` or nullptr.
  const Node* producer(ValueId v) const;
  /// Replaces input slot `slot` of `n`.
  void set_input(NodeId n, size_t slot, ValueId v);
  /// Every use of `from` (node inputs and graph outputs) now reads `to`.
  void replace_uses(ValueId from, ValueId to);
  /// Removes the node (its outputs keep their values but lose their producer).
  void kill(NodeId n);
  /// Distinct users of `v` (dead nodes excluded), in id order.
  std::vector<NodeId> users(ValueId v) const;
  /// The only user of `v` if it has exactly one use and is not a graph output; else kNoId.
  NodeId sole_user(ValueId v) const;

  /// Live nodes, producers before consumers. Fails on a cycle (names a node on it).
  bool topo_order(std::vector<NodeId>* order, std::string* cycle_node = nullptr) const;
  /// Kills nodes no graph output depends on; returns "name (Op)" of each.
  std::vector<std::string> remove_dead();

 private:
  std::vector<Value> values_;
  std::vector<Node> nodes_;
  std::map<std::string, ValueId> by_name_;
  std::map<std::string, int> next_suffix_;  // per base name, so unique_name stays O(log n)
};

}  // namespace onebit::converter
