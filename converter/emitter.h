// Internal: the demand-driven emitter behind emit_model (emit.cc: values, binary ops; emit_float.cc:
// full-precision ONNX nodes).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "emit.h"

namespace onebit::converter {

class Emitter {
 public:
  Emitter(const Graph& g, const Plan& plan, const EmitOptions& options, ModelBuilder* b, EmitReport* report)
      : g_(g), plan_(plan), options_(options), b_(*b), report_(*report) {}

  Status run();

 private:
  // Values.
  Status get_float(const std::string& value, int* id);
  Status get_bits(const std::string& value, int* id);
  /// Float value with the builder rank a consumer needs (2: [N, C]; 4: NHWC), reshaping [N, C] <-> [N, 1, 1, C].
  Status float_as(const std::string& value, int rank, int* id);
  Status onnx_shape(const std::string& value, const Node* user, std::vector<int64_t>* shape) const;

  // Binary.
  Status emit_binary_conv(const BinaryConvSpec& spec);
  Status emit_quantize(const QuantizeSpec& q, const std::string& value);

  // Float (emit_float.cc).
  Status emit_node(const Node& n);
  Status emit_conv(const Node& n);
  Status emit_fully_connected(const Node& n);
  Status emit_pool(const Node& n);
  Status emit_elementwise(const Node& n);
  Status emit_reshape(const Node& n);
  Status emit_misc(const Node& n);

  void record(const std::string& node, const std::string& what);
  void set_float(const std::string& value, int id) { float_[value] = id; }
  int64_t elements(int id) const;

  const Graph& g_;
  const Plan& plan_;
  const EmitOptions& options_;
  ModelBuilder& b_;
  EmitReport& report_;
  std::map<std::string, int> float_, bits_;
  std::set<std::string> in_progress_;
};

std::vector<int> nhwc(const std::vector<int64_t>& onnx_shape);
/// Axis of an ONNX rank-`rank` tensor in onebit's layout.
int onebit_axis(int64_t axis, int rank);

}  // namespace onebit::converter
