#include "verify/reference.h"

#include <cstdint>
#include <cstring>
#include <set>

#include "verify/reference_ops.h"

namespace onebit::converter {
namespace {

const RefOpTable& op_table() {
  static const RefOpTable table = [] {
    RefOpTable t;
    add_elementwise_ops(&t);
    add_shape_ops(&t);
    add_layer_ops(&t);
    return t;
  }();
  return table;
}

const onnx::AttributeProto* find_attr(const onnx::NodeProto& n, const std::string& name) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

template <typename T>
void copy_raw(const std::string& raw, std::vector<double>* out) {
  const size_t n = raw.size() / sizeof(T);
  out->resize(n);
  for (size_t k = 0; k < n; ++k) {
    T v;
    std::memcpy(&v, raw.data() + k * sizeof(T), sizeof(T));  // little-endian, as ONNX stores it
    (*out)[k] = double(v);
  }
}

// True when `name` is a constant holding only zeros (an initializer or a Constant node's value).
bool is_zero_constant(const std::map<std::string, RefTensor>& constants, const std::string& name) {
  const auto it = constants.find(name);
  if (it == constants.end()) return false;
  for (double v : it->second.data)
    if (v != 0) return false;
  return true;
}

}  // namespace

int64_t as_int64(double v) {
  if (!(v == v)) return 0;
  if (v >= 9223372036854775807.0) return INT64_MAX;
  if (v <= -9223372036854775808.0) return INT64_MIN;
  return int64_t(v);
}

std::vector<int64_t> ints_of(const RefTensor& t) {
  std::vector<int64_t> out(t.size());
  for (size_t k = 0; k < t.size(); ++k) out[k] = as_int64(t.data[k]);
  return out;
}

int64_t element_count(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::vector<int64_t> strides_of(const std::vector<int64_t>& shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (size_t k = shape.size(); k-- > 1;) s[k - 1] = s[k] * shape[k];
  return s;
}

Status normalize_axis(const RefNode& n, int64_t axis, size_t rank, size_t* out) {
  const int64_t r = int64_t(rank);
  if (axis < -r || axis >= r)
    return n.error("axis " + std::to_string(axis) + " is outside a rank-" + std::to_string(rank) + " tensor");
  *out = size_t(axis < 0 ? axis + r : axis);
  return Status::Ok();
}

Status tensor_from_proto(const onnx::TensorProto& t, RefTensor* out) {
  if (t.data_location() == onnx::TensorProto::EXTERNAL)
    return Status::Error("tensor '" + t.name() + "': external data is not supported by the verifier");
  out->shape.assign(t.dims().begin(), t.dims().end());
  for (int64_t d : out->shape)
    if (d < 0 || d > (int64_t(1) << 31)) return Status::Error("tensor '" + t.name() + "' has a bad dimension");
  out->onnx_type = t.data_type();
  const std::string& raw = t.raw_data();
  const bool has_raw = t.has_raw_data();
  auto& d = out->data;
  switch (t.data_type()) {
    case onnx::TensorProto::FLOAT:
      if (has_raw) copy_raw<float>(raw, &d);
      else d.assign(t.float_data().begin(), t.float_data().end());
      break;
    case onnx::TensorProto::DOUBLE:
      if (has_raw) copy_raw<double>(raw, &d);
      else d.assign(t.double_data().begin(), t.double_data().end());
      break;
    case onnx::TensorProto::INT64:
      if (has_raw) copy_raw<int64_t>(raw, &d);
      else d.assign(t.int64_data().begin(), t.int64_data().end());
      break;
    case onnx::TensorProto::INT32: case onnx::TensorProto::INT16: case onnx::TensorProto::INT8:
    case onnx::TensorProto::UINT16: case onnx::TensorProto::UINT8: case onnx::TensorProto::BOOL:
      if (!has_raw) {
        d.assign(t.int32_data().begin(), t.int32_data().end());
      } else if (t.data_type() == onnx::TensorProto::INT32) {
        copy_raw<int32_t>(raw, &d);
      } else if (t.data_type() == onnx::TensorProto::INT16) {
        copy_raw<int16_t>(raw, &d);
      } else if (t.data_type() == onnx::TensorProto::UINT16) {
        copy_raw<uint16_t>(raw, &d);
      } else if (t.data_type() == onnx::TensorProto::INT8) {
        copy_raw<int8_t>(raw, &d);
      } else {
        copy_raw<uint8_t>(raw, &d);
      }
      break;
    default:
      return Status::Error("tensor '" + t.name() + "': ONNX element type " + std::to_string(t.data_type()) +
                           " is not supported by the verifier");
  }
  if (int64_t(d.size()) != element_count(out->shape))
    return Status::Error("tensor '" + t.name() + "' holds " + std::to_string(d.size()) + " values for its shape");
  return Status::Ok();
}

int64_t RefNode::i(const std::string& name, int64_t fallback) const {
  const onnx::AttributeProto* a = find_attr(node, name);
  return a ? a->i() : fallback;
}

double RefNode::f(const std::string& name, double fallback) const {
  const onnx::AttributeProto* a = find_attr(node, name);
  return a ? double(a->f()) : fallback;
}

std::vector<int64_t> RefNode::ints(const std::string& name, const std::vector<int64_t>& fallback) const {
  const onnx::AttributeProto* a = find_attr(node, name);
  return a ? std::vector<int64_t>(a->ints().begin(), a->ints().end()) : fallback;
}

std::string RefNode::s(const std::string& name, const std::string& fallback) const {
  const onnx::AttributeProto* a = find_attr(node, name);
  return a ? a->s() : fallback;
}

bool RefNode::has(const std::string& name) const { return find_attr(node, name) != nullptr; }

Status RefNode::input(size_t k, const RefTensor** t) const {
  if (k >= in.size() || in[k] == nullptr) return error("input " + std::to_string(k) + " is missing");
  *t = in[k];
  return Status::Ok();
}

Status RefNode::error(const std::string& what) const {
  return Status::Error("reference evaluation: node '" + node.name() + "' (" + node.op_type() + "): " + what);
}

ReferenceGraph::ReferenceGraph() : model_(new onnx::ModelProto) {}
ReferenceGraph::~ReferenceGraph() = default;

Status ReferenceGraph::parse(const std::string& onnx_bytes, const std::string& origin, ReferenceGraph* out) {
  out->origin_ = origin;
  if (!out->model_->ParseFromString(onnx_bytes)) return Status::Error(origin + ": not an ONNX model (protobuf parse failed)");
  for (const auto& op : out->model_->opset_import())
    if (op.domain().empty() || op.domain() == "ai.onnx") out->opset_ = int(op.version());
  const onnx::GraphProto& g = out->model_->graph();
  for (const auto& init : g.initializer())
    ONEBIT_RETURN_IF_ERROR(tensor_from_proto(init, &out->initializers_[init.name()]));
  for (const auto& in : g.input()) {
    if (out->initializers_.count(in.name())) continue;
    out->inputs_.push_back(in.name());
    std::vector<int64_t> shape;
    for (const auto& d : in.type().tensor_type().shape().dim()) shape.push_back(d.has_dim_value() ? d.dim_value() : -1);
    out->input_shapes_.push_back(shape);
  }
  for (const auto& o : g.output()) out->outputs_.push_back(o.name());
  // Binarizing nodes on computed values: a value is computed when it depends on a graph input.
  std::set<std::string> computed(out->inputs_.begin(), out->inputs_.end());
  std::map<std::string, RefTensor> constants = out->initializers_;
  for (const auto& n : g.node()) {
    bool depends = false;
    for (const auto& i : n.input()) depends = depends || computed.count(i) != 0;
    if (depends)
      for (const auto& o : n.output()) computed.insert(o);
    if (n.op_type() == "Constant" && n.output_size() == 1) {
      for (const auto& a : n.attribute())
        if (a.name() == "value" && a.has_t()) (void)tensor_from_proto(a.t(), &constants[n.output(0)]);
    }
    if (n.output_size() < 1) continue;
    if (n.op_type() == "Sign" && n.input_size() == 1 && computed.count(n.input(0))) {
      out->binarizing_.push_back({n.name(), n.input(0), n.output(0)});
    } else if ((n.op_type() == "Greater" || n.op_type() == "Less") && n.input_size() == 2) {
      for (int k = 0; k < 2; ++k)
        if (computed.count(n.input(k)) && is_zero_constant(constants, n.input(1 - k)))
          out->binarizing_.push_back({n.name(), n.input(k), n.output(0)});
    }
  }
  return Status::Ok();
}

Status ReferenceGraph::evaluate(const std::map<std::string, RefTensor>& inputs,
                                std::map<std::string, RefTensor>* values) const {
  for (const std::string& name : inputs_) {
    const auto it = inputs.find(name);
    if (it == inputs.end()) return Status::Error(origin_ + ": no value given for graph input '" + name + "'");
    (*values)[name] = it->second;
  }
  const RefOpTable& table = op_table();
  for (const auto& n : model_->graph().node()) {
    if (!n.domain().empty() && n.domain() != "ai.onnx")
      return Status::Error("reference evaluation: node '" + n.name() + "' is in domain '" + n.domain() + "'");
    const auto fn = table.find(n.op_type());
    RefNode r{n, opset_, {}, {}};
    if (fn == table.end()) return r.error("no double-precision reference for this op");
    for (const auto& i : n.input()) {
      if (i.empty()) {
        r.in.push_back(nullptr);
        continue;
      }
      const auto computed = values->find(i);
      const auto init = initializers_.find(i);
      if (computed != values->end()) r.in.push_back(&computed->second);
      else if (init != initializers_.end()) r.in.push_back(&init->second);
      else return r.error("input '" + i + "' is not computed before this node");
    }
    r.out.resize(size_t(n.output_size()));
    for (int k = 0; k < n.output_size(); ++k) {  // reuse the storage of an earlier evaluation's tensor
      const auto old = values->find(n.output(k));
      if (old != values->end()) r.out[size_t(k)] = std::move(old->second);
    }
    ONEBIT_RETURN_IF_ERROR(fn->second(r));
    for (int k = 0; k < n.output_size(); ++k)
      if (!n.output(k).empty()) (*values)[n.output(k)] = std::move(r.out[size_t(k)]);
  }
  for (const std::string& o : outputs_)
    if (!values->count(o)) return Status::Error(origin_ + ": graph output '" + o + "' is never computed");
  return Status::Ok();
}

}  // namespace onebit::converter
