// Test helper: builds small ONNX models in C++ (onnx protobuf classes) and evaluates them with a plain
// NCHW reference written from the ONNX operator definitions, independent of the converter and runtime.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

namespace onebit::testing {

struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> data;
};

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
                        const std::vector<std::string>& outputs, const std::string& name = "");
  static void attr(onnx::NodeProto& n, const std::string& name, int64_t v);
  static void attr(onnx::NodeProto& n, const std::string& name, float v);
  static void attr(onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& v);
  std::string bytes() const;

  /// Reference evaluation of the graph (supported: Sign, Conv, Pad, Mul, Add, Sub, BatchNormalization, Relu,
  /// Clip, PRelu, MaxPool, AveragePool, GlobalAveragePool, Flatten, Gemm).
  std::map<std::string, Tensor> evaluate(const std::map<std::string, Tensor>& inputs) const;

  onnx::ModelProto model;
};

/// NCHW -> NHWC and back for rank-4 data.
std::vector<float> to_nhwc(const Tensor& t);
std::vector<float> from_nhwc(const std::vector<float>& data, const std::vector<int64_t>& nchw_shape);

}  // namespace onebit::testing
