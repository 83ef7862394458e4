// The verifier's reference: a plain double-precision evaluation of an ONNX graph, written from the ONNX
// operator definitions and independent of everything else in the converter (it reads the ModelProto
// itself; no import, IR, rules, constant evaluator or runtime code). It is the truth `--verify` compares the
// converted model against, and a test oracle.
//
// Covered: the layer ops of the shipped and fixture models and of the public BNN code bases' exports (Conv
// with groups / pads / strides / dilations / auto_pad, Gemm, MatMul, BatchNormalization, Max / Average /
// GlobalAverage / GlobalMax pools, Relu, PRelu, Clip, Sign, Tanh, Abs, Neg, Round, Floor, elementwise
// arithmetic and comparisons with broadcasting, Where, Quantize / DequantizeLinear, Softmax) and the shape
// and constant plumbing around them (Constant, Identity, Flatten, Reshape, Concat, Transpose, Squeeze,
// Unsqueeze, Shape, Gather, Cast, Pad, Reduce*). Anything else is an error naming the node.
//
// Every value is held as double, whatever its ONNX type (int64 shape values are exact up to 2^53); the
// source type is kept where an op's meaning depends on it (a QuantizeLinear's range follows its zero point).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "onebit/status.h"

namespace onnx {
class ModelProto;
class NodeProto;
}  // namespace onnx

namespace onebit::converter {

struct RefTensor {
  std::vector<int64_t> shape;
  std::vector<double> data;
  int onnx_type = 1;  // onnx::TensorProto::DataType it stands for (1 = FLOAT)

  size_t size() const { return data.size(); }
};

/// A binarizing node and the value it binarizes: a Sign, or a Greater / Less that compares a computed value
/// with a constant 0 (how some BNN code exports sign through Where).
struct BinarizingInput {
  std::string node;   // ONNX node name
  std::string value;  // the tensor whose sign it takes
  std::string output; // the node's output
};

class ReferenceGraph {
 public:
  ReferenceGraph();
  ~ReferenceGraph();
  /// Parses an ONNX ModelProto (`origin` names it in messages) and reads its initializers.
  static Status parse(const std::string& onnx_bytes, const std::string& origin, ReferenceGraph* out);

  /// Graph inputs that are not initializers, file order, with their declared shapes (-1: symbolic).
  const std::vector<std::string>& inputs() const { return inputs_; }
  const std::vector<std::vector<int64_t>>& input_shapes() const { return input_shapes_; }
  const std::vector<std::string>& outputs() const { return outputs_; }
  const std::vector<BinarizingInput>& binarizing_inputs() const { return binarizing_; }
  const onnx::ModelProto& model() const { return *model_; }

  /// Evaluates every node in file order (ONNX requires topological order). `values` receives the inputs and
  /// every node output by name (not the initializers); what it holds already is overwritten, its storage
  /// reused (evaluating many inputs into one map allocates once).
  Status evaluate(const std::map<std::string, RefTensor>& inputs, std::map<std::string, RefTensor>* values) const;

 private:
  std::unique_ptr<onnx::ModelProto> model_;
  std::string origin_;
  int opset_ = 0;
  std::map<std::string, RefTensor> initializers_;
  std::vector<std::string> inputs_, outputs_;
  std::vector<std::vector<int64_t>> input_shapes_;
  std::vector<BinarizingInput> binarizing_;
};

/// One node's evaluation: its inputs (null for an omitted optional input) and outputs, plus attribute
/// readers with ONNX's defaults given by the caller.
struct RefNode {
  const onnx::NodeProto& node;
  int opset;
  std::vector<const RefTensor*> in;
  std::vector<RefTensor> out;

  int64_t i(const std::string& name, int64_t fallback) const;
  double f(const std::string& name, double fallback) const;
  std::vector<int64_t> ints(const std::string& name, const std::vector<int64_t>& fallback) const;
  std::string s(const std::string& name, const std::string& fallback) const;
  bool has(const std::string& name) const;
  /// Input k, or an error Status naming the node when it is omitted.
  Status input(size_t k, const RefTensor** t) const;
  Status error(const std::string& what) const;
};

int64_t element_count(const std::vector<int64_t>& shape);

}  // namespace onebit::converter
