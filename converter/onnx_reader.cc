#include "onnx_reader.h"

#include <cstring>
#include <fstream>
#include <sstream>

#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

namespace onebit::converter {
namespace {

template <typename T>
void append_raw(const std::string& raw, std::vector<T>* out) {
  const size_t n = raw.size() / sizeof(T);
  out->resize(n);
  if (n != 0) std::memcpy(out->data(), raw.data(), n * sizeof(T));
}

size_t dtype_bytes(int dtype) {
  switch (dtype) {
    case onnx::TensorProto::DOUBLE:
    case onnx::TensorProto::INT64: return 8;
    case onnx::TensorProto::FLOAT:
    case onnx::TensorProto::INT32: return 4;
    case onnx::TensorProto::FLOAT16:
    case onnx::TensorProto::INT16: return 2;
    default: return 1;
  }
}

// Decodes a TensorProto into floats (always) and int64s (integer types).
Status decode_tensor(const onnx::TensorProto& t, Value* v) {
  if (t.data_location() == onnx::TensorProto::EXTERNAL)
    return Status::Error("tensor '" + t.name() + "' uses external data, which is not supported");
  v->shape.assign(t.dims().begin(), t.dims().end());
  v->shape_known = true;
  v->is_constant = true;
  int64_t n = 1;
  for (int64_t d : v->shape) n *= d;
  const bool raw = t.has_raw_data();
  switch (t.data_type()) {
    case onnx::TensorProto::FLOAT: {
      if (raw) append_raw(t.raw_data(), &v->data);
      else v->data.assign(t.float_data().begin(), t.float_data().end());
      break;
    }
    case onnx::TensorProto::DOUBLE: {
      std::vector<double> d;
      if (raw) append_raw(t.raw_data(), &d);
      else d.assign(t.double_data().begin(), t.double_data().end());
      v->data.assign(d.begin(), d.end());
      break;
    }
    case onnx::TensorProto::INT64: {
      if (raw) append_raw(t.raw_data(), &v->int_data);
      else v->int_data.assign(t.int64_data().begin(), t.int64_data().end());
      v->is_integer = true;
      break;
    }
    case onnx::TensorProto::INT32:
    case onnx::TensorProto::INT8:
    case onnx::TensorProto::UINT8:
    case onnx::TensorProto::BOOL: {
      if (raw) {
        if (t.data_type() == onnx::TensorProto::INT32) {
          std::vector<int32_t> d;
          append_raw(t.raw_data(), &d);
          v->int_data.assign(d.begin(), d.end());
        } else if (t.data_type() == onnx::TensorProto::INT8) {
          std::vector<int8_t> d;
          append_raw(t.raw_data(), &d);
          v->int_data.assign(d.begin(), d.end());
        } else {
          std::vector<uint8_t> d;
          append_raw(t.raw_data(), &d);
          v->int_data.assign(d.begin(), d.end());
        }
      } else {
        v->int_data.assign(t.int32_data().begin(), t.int32_data().end());
      }
      v->is_integer = true;
      break;
    }
    default:
      return Status::Error("tensor '" + t.name() + "' has unsupported element type " +
                           std::to_string(t.data_type()));
  }
  if (v->is_integer) v->data.assign(v->int_data.begin(), v->int_data.end());
  if (int64_t(v->data.size()) != n)
    return Status::Error("tensor '" + t.name() + "' holds " + std::to_string(v->data.size()) +
                         " elements, its shape implies " + std::to_string(n) + " (truncated file?)");
  return Status::Ok();
}

void read_shape(const onnx::ValueInfoProto& info, Value* v) {
  if (v->is_constant || !info.type().has_tensor_type() || !info.type().tensor_type().has_shape()) return;
  std::vector<int64_t> shape;
  for (const auto& dim : info.type().tensor_type().shape().dim()) {
    if (!dim.has_dim_value() || dim.dim_value() <= 0) return;  // dynamic or unknown
    shape.push_back(dim.dim_value());
  }
  v->shape = shape;
  v->shape_known = true;
}

Status read_attribute(const onnx::AttributeProto& a, Attribute* out) {
  switch (a.type()) {
    case onnx::AttributeProto::INT: out->kind = Attribute::Kind::kInt; out->i = a.i(); out->f = float(a.i()); break;
    case onnx::AttributeProto::FLOAT: out->kind = Attribute::Kind::kFloat; out->f = a.f(); out->i = int64_t(a.f()); break;
    case onnx::AttributeProto::INTS: out->kind = Attribute::Kind::kInts; out->ints.assign(a.ints().begin(), a.ints().end()); break;
    case onnx::AttributeProto::FLOATS: out->kind = Attribute::Kind::kFloats; out->floats.assign(a.floats().begin(), a.floats().end()); break;
    case onnx::AttributeProto::STRING: out->kind = Attribute::Kind::kString; out->s = a.s(); break;
    case onnx::AttributeProto::TENSOR: {
      Value v;
      Status s = decode_tensor(a.t(), &v);
      if (!s.ok()) return s;
      out->kind = Attribute::Kind::kTensor;
      out->tensor_shape = v.shape;
      out->tensor_floats = v.data;
      if (v.is_integer) out->tensor_ints = v.int_data;
      break;
    }
    default: out->kind = Attribute::Kind::kOther; break;
  }
  return Status::Ok();
}

}  // namespace

Status read_onnx_bytes(const std::string& bytes, const std::string& origin, Graph* graph) {
  onnx::ModelProto model;
  if (bytes.empty() || !model.ParseFromString(bytes) || !model.has_graph() || model.graph().output_size() == 0)
    return Status::Error(origin + ": not an ONNX model (the protobuf does not parse as a ModelProto with a "
                         "graph; the file may be truncated)");
  for (const auto& op : model.opset_import())
    if (op.domain().empty() || op.domain() == "ai.onnx") graph->opset = int(op.version());
  try {
    onnx::ShapeInferenceOptions options(false, 0, true);
    onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(), options);
  } catch (const std::exception& e) {
    // Shapes the file states are still used; anything left unknown is reported per node later.
  }
  const onnx::GraphProto& g = model.graph();
  Graph& out = *graph;
  for (const auto& init : g.initializer()) {
    Value& v = out.values[init.name()];
    v.name = init.name();
    Status s = decode_tensor(init, &v);
    if (!s.ok()) return Status::Error(origin + ": initializer " + s.message());
    out.onnx_parameter_bytes += int64_t(v.data.size() * dtype_bytes(init.data_type()));
  }
  for (const auto& in : g.input()) {
    Value& v = out.values[in.name()];
    v.name = in.name();
    if (v.is_constant) continue;
    v.is_graph_input = true;
    read_shape(in, &v);
    out.inputs.push_back(in.name());
  }
  for (const auto& info : g.value_info()) read_shape(info, &out.values[info.name()]);
  for (const auto& info : g.output()) {
    read_shape(info, &out.values[info.name()]);
    out.outputs.push_back(info.name());
  }
  for (int i = 0; i < g.node_size(); ++i) {
    const onnx::NodeProto& n = g.node(i);
    Node node;
    node.op_type = n.op_type();
    node.name = n.name().empty() ? n.op_type() + "_" + std::to_string(i) : n.name();
    if (!n.domain().empty() && n.domain() != "ai.onnx")
      return Status::Error(node.describe() + ": operator domain '" + n.domain() + "' is not supported");
    for (const auto& a : n.attribute()) {
      Status s = read_attribute(a, &node.attributes[a.name()]);
      if (!s.ok()) return Status::Error(node.describe() + ": attribute '" + a.name() + "': " + s.message());
    }
    node.inputs.assign(n.input().begin(), n.input().end());
    node.outputs.assign(n.output().begin(), n.output().end());
    for (const std::string& in : node.inputs) {
      if (in.empty()) continue;
      const Value* v = out.find(in);
      bool defined = v != nullptr && (v->is_constant || v->is_graph_input);
      for (const Node& prev : out.nodes)
        for (const std::string& o : prev.outputs) defined = defined || o == in;
      if (!defined)
        return Status::Error(node.describe() + ": input '" + in +
                             "' is neither an initializer, a graph input nor an earlier node's output "
                             "(missing initializer?)");
    }
    if (node.op_type == "Constant") {
      if (node.outputs.size() != 1) return Status::Error(node.describe() + ": expected one output");
      Value& v = out.values[node.outputs[0]];
      v.name = node.outputs[0];
      auto it = node.attributes.find("value");
      if (it != node.attributes.end() && it->second.kind == Attribute::Kind::kTensor) {
        v.shape = it->second.tensor_shape;
        v.data = it->second.tensor_floats;
        v.int_data = it->second.tensor_ints;
        v.is_integer = !it->second.tensor_ints.empty() || v.data.empty();
      } else if ((it = node.attributes.find("value_float")) != node.attributes.end()) {
        v.shape = {};
        v.data = {it->second.f};
      } else if ((it = node.attributes.find("value_int")) != node.attributes.end()) {
        v.shape = {};
        v.data = {float(it->second.i)};
        v.int_data = {it->second.i};
        v.is_integer = true;
      } else if ((it = node.attributes.find("value_ints")) != node.attributes.end()) {
        v.int_data = it->second.ints;
        v.data.assign(v.int_data.begin(), v.int_data.end());
        v.shape = {int64_t(v.int_data.size())};
        v.is_integer = true;
      } else if ((it = node.attributes.find("value_floats")) != node.attributes.end()) {
        v.data = it->second.floats;
        v.shape = {int64_t(v.data.size())};
      } else {
        return Status::Error(node.describe() + ": unsupported Constant value attribute");
      }
      v.is_constant = true;
      v.shape_known = true;
      continue;
    }
    out.nodes.push_back(std::move(node));
  }
  for (const std::string& o : out.outputs) {
    const Value* v = out.find(o);
    bool defined = v != nullptr && (v->is_constant || v->is_graph_input);
    for (const Node& n : out.nodes)
      for (const std::string& x : n.outputs) defined = defined || x == o;
    if (!defined) return Status::Error(origin + ": graph output '" + o + "' is not produced by any node");
  }
  out.link();
  return Status::Ok();
}

Status read_onnx_file(const std::string& path, Graph* graph) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::Error(path + ": cannot open file");
  std::stringstream ss;
  ss << f.rdbuf();
  return read_onnx_bytes(ss.str(), path, graph);
}

}  // namespace onebit::converter
