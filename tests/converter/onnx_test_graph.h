// Test helper: builds small ONNX models in C++ (onnx protobuf classes) and evaluates them with the
// converter's --verify reference, written from the ONNX operator definitions, independent of the converter's
// import, rules, evaluator and of the runtime.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <onnx/onnx_pb.h>

namespace onebit::testing {

struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> data;
};

/// One attribute of a node, written in place: {"transB", 1}, {"alpha", 2.0f}, {"pads", {1, 1, 1, 1}},
/// {"auto_pad", "SAME_UPPER"}.
struct Attr {
  enum class Kind { kInt, kFloat, kInts, kString };
  Attr(std::string n, int v) : name(std::move(n)), kind(Kind::kInt), i(v) {}
  Attr(std::string n, int64_t v) : name(std::move(n)), kind(Kind::kInt), i(v) {}
  Attr(std::string n, float v) : name(std::move(n)), kind(Kind::kFloat), f(v) {}
  Attr(std::string n, std::vector<int64_t> v) : name(std::move(n)), kind(Kind::kInts), ints(std::move(v)) {}
  Attr(std::string n, const char* v) : name(std::move(n)), kind(Kind::kString), s(v) {}
  std::string name;
  Kind kind;
  int64_t i = 0;
  float f = 0;
  std::vector<int64_t> ints;
  std::string s;
};
using Attrs = std::vector<Attr>;

class OnnxTestGraph {
 public:
  explicit OnnxTestGraph(int opset = 13);
  void input(const std::string& name, const std::vector<int64_t>& shape);
  void output(const std::string& name);
  void initializer(const std::string& name, const std::vector<int64_t>& shape, const std::vector<float>& data);
  void initializer_i64(const std::string& name, const std::vector<int64_t>& shape, const std::vector<int64_t>& data);
  /// An integer initializer of ONNX element type `type` (e.g. onnx::TensorProto::UINT8 for a zero point).
  void initializer_int(const std::string& name, int type, const std::vector<int64_t>& shape, const std::vector<int64_t>& data);
  onnx::NodeProto& node(const std::string& op, const std::vector<std::string>& inputs,
                        const std::vector<std::string>& outputs, const std::string& name = "", const Attrs& attrs = {});
  static void attr(onnx::NodeProto& n, const std::string& name, int64_t v);
  static void attr(onnx::NodeProto& n, const std::string& name, float v);
  static void attr(onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& v);
  static void attr(onnx::NodeProto& n, const Attr& a);
  std::string bytes() const;

  /// Reference evaluation of the graph by the converter's --verify reference (verify/reference.h, double
  /// precision, rounded to float here): every value by name, inputs included. Throws on an op it lacks.
  std::map<std::string, Tensor> evaluate(const std::map<std::string, Tensor>& inputs) const;

  onnx::ModelProto model;
};

/// NCHW -> NHWC and back for rank-4 data.
std::vector<float> to_nhwc(const Tensor& t);
std::vector<float> from_nhwc(const std::vector<float>& data, const std::vector<int64_t>& nchw_shape);

}  // namespace onebit::testing
