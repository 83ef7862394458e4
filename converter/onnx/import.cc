#include "onnx/import.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <map>
#include <set>

#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include "ir/shape_inference.h"
#include "ops/op_def.h"

namespace onebit::converter {
namespace {

constexpr int64_t kMaxConstantElements = int64_t(1) << 28;

template <typename T>
bool copy_raw(const std::string& raw, int64_t n, std::vector<T>* out) {
  if (raw.size() != size_t(n) * sizeof(T)) return false;
  out->resize(size_t(n));
  if (n) std::memcpy(out->data(), raw.data(), raw.size());
  return true;
}

size_t dtype_size(int dtype) {
  switch (dtype) {
    case onnx::TensorProto::DOUBLE:
    case onnx::TensorProto::INT64: return 8;
    case onnx::TensorProto::FLOAT:
    case onnx::TensorProto::INT32: return 4;
    case onnx::TensorProto::INT16:
    case onnx::TensorProto::UINT16: return 2;
    default: return 1;
  }
}

// Decodes a TensorProto (dims and element count checked) into a Tensor.
Status decode_tensor(const onnx::TensorProto& t, Tensor* out) {
  const std::string what = "tensor '" + t.name() + "'";
  if (t.data_location() == onnx::TensorProto::EXTERNAL)
    return Status::Error(what + " uses external data, which is not supported");
  out->shape.clear();
  for (int64_t d : t.dims()) {
    if (d < 0 || d > std::numeric_limits<int32_t>::max())
      return Status::Error(what + " has dim " + std::to_string(d) + "; expected 0 .. 2^31-1");
    out->shape.push_back(d);
  }
  const int64_t n = shape_elements(out->shape);
  if (n < 0 && std::count(out->shape.begin(), out->shape.end(), 0) > 0)
    return Status::Error(what + " has shape " + shape_str(out->shape) +
                         ": no elements, but its other dims multiply past 2^62 (no stride of it fits int64)");
  if (n < 0 || n > kMaxConstantElements)
    return Status::Error(what + " has " + shape_str(out->shape) + " elements; more than 2^28 are not supported");
  const bool raw = t.has_raw_data();
  bool ok = true;
  switch (t.data_type()) {
    case onnx::TensorProto::FLOAT:
      out->dtype = DType::kFloat;
      if (raw) ok = copy_raw(t.raw_data(), n, &out->f);
      else out->f.assign(t.float_data().begin(), t.float_data().end());
      break;
    case onnx::TensorProto::DOUBLE: {
      std::vector<double> d;
      if (raw) ok = copy_raw(t.raw_data(), n, &d);
      else d.assign(t.double_data().begin(), t.double_data().end());
      out->dtype = DType::kFloat;
      out->f.assign(d.begin(), d.end());
      break;
    }
    case onnx::TensorProto::INT64:
      out->dtype = DType::kInt64;
      if (raw) ok = copy_raw(t.raw_data(), n, &out->i);
      else out->i.assign(t.int64_data().begin(), t.int64_data().end());
      break;
    case onnx::TensorProto::INT32:
    case onnx::TensorProto::INT16:
    case onnx::TensorProto::INT8:
    case onnx::TensorProto::UINT8:
    case onnx::TensorProto::UINT16:
    case onnx::TensorProto::BOOL: {
      out->dtype = t.data_type() == onnx::TensorProto::BOOL ? DType::kBool : DType::kInt64;
      if (raw) {
        switch (t.data_type()) {
          case onnx::TensorProto::INT32: { std::vector<int32_t> d; ok = copy_raw(t.raw_data(), n, &d); out->i.assign(d.begin(), d.end()); break; }
          case onnx::TensorProto::INT16: { std::vector<int16_t> d; ok = copy_raw(t.raw_data(), n, &d); out->i.assign(d.begin(), d.end()); break; }
          case onnx::TensorProto::UINT16: { std::vector<uint16_t> d; ok = copy_raw(t.raw_data(), n, &d); out->i.assign(d.begin(), d.end()); break; }
          case onnx::TensorProto::INT8: { std::vector<int8_t> d; ok = copy_raw(t.raw_data(), n, &d); out->i.assign(d.begin(), d.end()); break; }
          default: { std::vector<uint8_t> d; ok = copy_raw(t.raw_data(), n, &d); out->i.assign(d.begin(), d.end()); break; }
        }
      } else {
        out->i.assign(t.int32_data().begin(), t.int32_data().end());
      }
      if (out->dtype == DType::kBool)
        for (int64_t& b : out->i) b = b != 0;
      break;
    }
    default:
      return Status::Error(what + " has unsupported element type " + std::to_string(t.data_type()));
  }
  out->onnx_type = int32_t(t.data_type());
  if (!ok || !out->consistent())
    return Status::Error(what + (raw ? " holds " + std::to_string(t.raw_data().size()) + " bytes of raw data"
                                     : " holds " + std::to_string(out->is_float() ? out->f.size() : out->i.size()) + " elements") +
                         "; its dims " + shape_str(out->shape) + " imply " + std::to_string(n) + " elements" +
                         (raw ? " of " + std::to_string(dtype_size(t.data_type())) + " bytes" : std::string()) + " (truncated file?)");
  return Status::Ok();
}

// Shape of a ValueInfo: -1 for symbolic or missing dims. False when the type carries no shape.
bool info_shape(const onnx::ValueInfoProto& info, std::vector<int64_t>* shape) {
  if (!info.type().has_tensor_type() || !info.type().tensor_type().has_shape()) return false;
  shape->clear();
  for (const auto& dim : info.type().tensor_type().shape().dim())
    shape->push_back(dim.has_dim_value() && dim.dim_value() >= 0 ? dim.dim_value() : -1);
  return true;
}

Status read_attribute(const onnx::AttributeProto& a, Attr* out) {
  switch (a.type()) {
    case onnx::AttributeProto::INT: *out = Attr::Int(a.i()); return Status::Ok();
    case onnx::AttributeProto::FLOAT: *out = Attr::Float(a.f()); return Status::Ok();
    case onnx::AttributeProto::INTS: *out = Attr::Ints({a.ints().begin(), a.ints().end()}); return Status::Ok();
    case onnx::AttributeProto::FLOATS: *out = Attr::Floats({a.floats().begin(), a.floats().end()}); return Status::Ok();
    case onnx::AttributeProto::STRING: *out = Attr::String(a.s()); return Status::Ok();
    case onnx::AttributeProto::TENSOR: {
      out->kind = Attr::Kind::kTensor;
      return decode_tensor(a.t(), &out->t);
    }
    default:
      return Status::Error("attribute type " + std::to_string(int(a.type())) + " is not supported");
  }
}

const char* kind_name(Attr::Kind k) {
  switch (k) {
    case Attr::Kind::kInt: return "an int";
    case Attr::Kind::kFloat: return "a float";
    case Attr::Kind::kInts: return "a list of ints";
    case Attr::Kind::kFloats: return "a list of floats";
    case Attr::Kind::kString: return "a string";
    case Attr::Kind::kTensor: return "a tensor";
  }
  return "?";
}

// Builds one node: canonical inputs, schema-checked attributes.
class NodeReader {
 public:
  NodeReader(Graph* g, int opset) : g_(*g), opset_(opset) {}

  Status read(const onnx::NodeProto& p, int index);

 private:
  // A constant input appended in place of an old-opset attribute.
  ValueId attr_constant(const std::string& node, const std::string& what, Tensor t) {
    return g_.add_constant(node + "/" + what, std::move(t));
  }
  Status canonicalize(const std::string& op, const std::string& name, std::map<std::string, Attr>* attrs,
                      std::vector<ValueId>* inputs);

  Graph& g_;
  int opset_;
};

Status NodeReader::canonicalize(const std::string& op, const std::string& name, std::map<std::string, Attr>* attrs,
                                std::vector<ValueId>* in) {
  auto take = [&](const char* a, Attr* out) {
    auto it = attrs->find(a);
    if (it == attrs->end()) return false;
    *out = it->second;
    attrs->erase(it);
    return true;
  };
  auto slot = [&](size_t k, ValueId v) {
    if (in->size() <= k) in->resize(k + 1, kNoId);
    (*in)[k] = v;
  };
  Attr a;
  const bool reduce = op.rfind("Reduce", 0) == 0;
  if ((op == "Squeeze" || op == "Unsqueeze" || op == "Split" || reduce) && take(op == "Split" ? "split" : "axes", &a)) {
    if (a.kind != Attr::Kind::kInts) return Status::Error("attribute '" + std::string(op == "Split" ? "split" : "axes") + "' must be a list of ints");
    slot(1, attr_constant(name, op == "Split" ? "split" : "axes", Tensor::ints({int64_t(a.ints.size())}, a.ints)));
  } else if (op == "Pad" && take("pads", &a)) {
    if (a.kind != Attr::Kind::kInts) return Status::Error("attribute 'pads' must be a list of ints");
    slot(1, attr_constant(name, "pads", Tensor::ints({int64_t(a.ints.size())}, a.ints)));
    Attr v = Attr::Float(0.0f);
    if (take("value", &v) && v.kind != Attr::Kind::kFloat) return Status::Error("attribute 'value' must be a float");
    slot(2, attr_constant(name, "value", Tensor::scalar(v.f)));
  } else if (op == "Clip" && (attrs->count("min") || attrs->count("max"))) {
    Attr lo = Attr::Float(-std::numeric_limits<float>::infinity()), hi = Attr::Float(std::numeric_limits<float>::infinity());
    take("min", &lo);
    take("max", &hi);
    if (lo.kind != Attr::Kind::kFloat || hi.kind != Attr::Kind::kFloat) return Status::Error("attributes 'min'/'max' must be floats");
    slot(1, attr_constant(name, "min", Tensor::scalar(lo.f)));
    slot(2, attr_constant(name, "max", Tensor::scalar(hi.f)));
  } else if (op == "Slice" && attrs->count("starts")) {
    Attr starts, ends, axes;
    take("starts", &starts);
    if (!take("ends", &ends)) return Status::Error("attribute 'ends' is missing");
    const bool has_axes = take("axes", &axes);
    if (starts.kind != Attr::Kind::kInts || ends.kind != Attr::Kind::kInts || (has_axes && axes.kind != Attr::Kind::kInts))
      return Status::Error("attributes 'starts', 'ends', 'axes' must be lists of ints");
    slot(1, attr_constant(name, "starts", Tensor::ints({int64_t(starts.ints.size())}, starts.ints)));
    slot(2, attr_constant(name, "ends", Tensor::ints({int64_t(ends.ints.size())}, ends.ints)));
    if (has_axes) slot(3, attr_constant(name, "axes", Tensor::ints({int64_t(axes.ints.size())}, axes.ints)));
  } else if ((op == "Softmax" || op == "LogSoftmax") && !attrs->count("axis")) {
    (*attrs)["axis"] = Attr::Int(opset_ >= 13 ? -1 : 1);
  } else if (op == "Dropout" && opset_ < 12) {
    attrs->erase("is_test");
  } else if (op == "BatchNormalization") {
    attrs->erase("is_test");
    attrs->erase("consumed_inputs");
  }
  return Status::Ok();
}

Status NodeReader::read(const onnx::NodeProto& p, int index) {
  const std::string op = p.op_type();
  const std::string name = p.name().empty() ? op + "_" + std::to_string(index) : p.name();
  const std::string where = "node '" + name + "' (" + op + ")";
  if (!p.domain().empty() && p.domain() != "ai.onnx")
    return Status::Error(where + ": operator domain '" + p.domain() + "' is not supported");
  std::map<std::string, Attr> attrs;
  for (const auto& a : p.attribute()) {
    if (a.name().empty()) return Status::Error(where + ": an attribute has no name");
    if (attrs.count(a.name())) return Status::Error(where + ": attribute '" + a.name() + "' is given twice");
    Status s = read_attribute(a, &attrs[a.name()]);
    if (!s.ok()) return Status::Error(where + ": attribute '" + a.name() + "': " + s.message());
  }
  // Inputs: every name must be defined earlier (ONNX requires topological order).
  std::vector<ValueId> inputs;
  for (int k = 0; k < p.input_size(); ++k) {
    const std::string& in = p.input(k);
    if (in.empty()) {
      inputs.push_back(kNoId);
      continue;
    }
    const ValueId v = g_.find_value(in);
    if (v == kNoId || (!g_.value(v).is_constant() && !g_.value(v).graph_input && g_.value(v).producer == kNoId))
      return Status::Error(where + ": input '" + in +
                           "' is neither an initializer, a graph input nor an earlier node's output "
                           "(missing initializer?)");
    inputs.push_back(v);
  }
  if (op == "Constant") {
    if (p.output_size() != 1 || p.output(0).empty()) return Status::Error(where + ": expected one output");
    Tensor t;
    auto it = attrs.find("value");
    if (attrs.size() != 1) return Status::Error(where + ": expected exactly one value attribute");
    if (it != attrs.end() && it->second.kind == Attr::Kind::kTensor) t = it->second.t;
    else if ((it = attrs.find("value_float")) != attrs.end() && it->second.kind == Attr::Kind::kFloat) t = Tensor::scalar(it->second.f);
    else if ((it = attrs.find("value_floats")) != attrs.end() && it->second.kind == Attr::Kind::kFloats)
      t = Tensor::floats({int64_t(it->second.floats.size())}, it->second.floats);
    else if ((it = attrs.find("value_int")) != attrs.end() && it->second.kind == Attr::Kind::kInt) t = Tensor::ints({}, {it->second.i});
    else if ((it = attrs.find("value_ints")) != attrs.end() && it->second.kind == Attr::Kind::kInts)
      t = Tensor::ints({int64_t(it->second.ints.size())}, it->second.ints);
    else return Status::Error(where + ": unsupported Constant value attribute '" + attrs.begin()->first + "'");
    if (g_.find_value(p.output(0)) != kNoId) return Status::Error(where + ": output '" + p.output(0) + "' is defined twice");
    g_.add_constant(p.output(0), std::move(t));
    return Status::Ok();
  }
  const OpDef* schema = find_onnx_op(op);
  if (schema == nullptr) return Status::Error(where + ": operator '" + op + "' is not supported by onebit-convert");
  Status s = canonicalize(op, name, &attrs, &inputs);
  if (!s.ok()) return Status::Error(where + ": " + s.message());
  while (!inputs.empty() && inputs.back() == kNoId) inputs.pop_back();
  if (int(inputs.size()) < schema->arity.min_inputs || int(inputs.size()) > schema->arity.max_inputs)
    return Status::Error(where + ": has " + std::to_string(inputs.size()) + " inputs; expected " +
                         std::to_string(schema->arity.min_inputs) +
                         (schema->arity.max_inputs == schema->arity.min_inputs ? std::string()
                          : schema->arity.max_inputs > 1000 ? std::string(" or more")
                          : " to " + std::to_string(schema->arity.max_inputs)));
  const bool variadic = schema->arity.max_inputs > 1000;
  for (size_t k = 0; k < inputs.size(); ++k)
    if (inputs[k] == kNoId && (int(k) < schema->arity.min_inputs || variadic))
      return Status::Error(where + ": required input " + std::to_string(k) + " is empty");
  if (p.output_size() < schema->arity.min_outputs || p.output_size() > schema->arity.max_outputs || p.output(0).empty())
    return Status::Error(where + ": has " + std::to_string(p.output_size()) + " outputs; expected " +
                         std::to_string(schema->arity.min_outputs) + " to " + std::to_string(schema->arity.max_outputs) +
                         " with the first one named");
  for (const auto& [an, av] : attrs) {
    const AttrSpec* spec = nullptr;
    for (const AttrSpec& a : schema->attrs) spec = a.name == an && !a.annotation ? &a : spec;
    if (spec == nullptr)
      return Status::Error(where + ": attribute '" + an + "' is not known for " + op + " (opset " +
                           std::to_string(opset_) + ")");
    if (spec->kind != av.kind) {
      // An int where a float is expected (and vice versa) is a common exporter habit; anything else is not.
      if (spec->kind == Attr::Kind::kFloat && av.kind == Attr::Kind::kInt) attrs[an] = Attr::Float(float(av.i));
      else return Status::Error(where + ": attribute '" + an + "' must be " + kind_name(spec->kind) + ", not " + kind_name(av.kind));
    }
  }
  for (const AttrSpec& a : schema->attrs) {
    if (a.annotation) continue;  // set by the converter, not by files
    auto given = attrs.find(a.name);
    if (given != attrs.end()) {
      const Attr& v = given->second;
      std::vector<int64_t> values = v.kind == Attr::Kind::kInts ? v.ints : std::vector<int64_t>();
      if (v.kind == Attr::Kind::kInt) values.push_back(v.i);
      if (a.nonempty && v.kind == Attr::Kind::kInts && values.empty())
        return Status::Error(where + ": attribute '" + a.name + "' is given but empty; expected one value per spatial axis");
      for (int64_t x : values)
        if (x < a.min || x > a.max)
          return Status::Error(where + ": attribute '" + a.name + "' value " + std::to_string(x) + " is out of range; expected " +
                               std::to_string(a.min) + " .. " + std::to_string(a.max));
      continue;
    }
    if (a.required) return Status::Error(where + ": required attribute '" + a.name + "' is missing");
    attrs[a.name] = a.default_value;
  }
  std::vector<ValueId> outputs;
  for (int k = 0; k < p.output_size(); ++k) {
    const std::string& o = p.output(k);
    if (o.empty()) {
      outputs.push_back(kNoId);
      continue;
    }
    if (g_.find_value(o) != kNoId) return Status::Error(where + ": output '" + o + "' is defined twice");
    outputs.push_back(g_.add_value(o));
  }
  g_.source_nodes.emplace_back(name, op);
  const NodeId n = g_.add_node(op, name, inputs, outputs);
  g_.node(n).attrs = std::move(attrs);
  return Status::Ok();
}

}  // namespace

Status import_onnx(const std::string& bytes, const std::string& origin, const ImportOptions& options, Graph* graph,
                   ImportReport* report) {
  onnx::ModelProto model;
  if (bytes.empty() || !model.ParseFromString(bytes) || !model.has_graph() || model.graph().output_size() == 0)
    return Status::Error(origin + ": not an ONNX model (the protobuf does not parse as a ModelProto with a "
                         "graph; the file may be truncated)");
  Graph& g = *graph;
  for (const auto& op : model.opset_import())
    if (op.domain().empty() || op.domain() == "ai.onnx") g.opset = int(op.version());
  if (g.opset <= 0) return Status::Error(origin + ": the model imports no ONNX opset");
  onnx::GraphProto* gp = model.mutable_graph();
  std::set<std::string> initializer_names;
  for (const auto& init : gp->initializer()) initializer_names.insert(init.name());
  // Batch: a symbolic/unknown first dim of each (non-initializer) input becomes options.batch.
  for (auto& in : *gp->mutable_input()) {
    if (initializer_names.count(in.name()) || !in.type().has_tensor_type() || !in.type().tensor_type().has_shape()) continue;
    auto* shape = in.mutable_type()->mutable_tensor_type()->mutable_shape();
    if (shape->dim_size() == 0) continue;
    auto* d0 = shape->mutable_dim(0);
    if (d0->has_dim_value() && d0->dim_value() > 0) continue;
    const std::string label = d0->has_dim_param() ? "'" + d0->dim_param() + "'" : "(unknown)";
    d0->set_dim_value(options.batch);
    report->batch_set.push_back("input '" + in.name() + "': batch dim " + label + " set to " + std::to_string(options.batch));
  }
  std::vector<int64_t> shape;
  for (const auto& init : gp->initializer()) {
    if (g.find_value(init.name()) != kNoId) return Status::Error(origin + ": initializer '" + init.name() + "' is defined twice");
    Tensor t;
    Status s = decode_tensor(init, &t);
    if (!s.ok()) return Status::Error(origin + ": initializer " + s.message());
    g.onnx_parameter_bytes += int64_t(init.ByteSizeLong());
    g.add_constant(init.name(), std::move(t));
  }
  for (const auto& in : gp->input()) {
    if (initializer_names.count(in.name())) continue;
    if (in.name().empty()) return Status::Error(origin + ": a graph input has no name");
    if (g.find_value(in.name()) != kNoId) return Status::Error(origin + ": graph input '" + in.name() + "' is defined twice");
    const ValueId v = g.add_value(in.name());
    Value& val = g.value(v);
    val.graph_input = true;
    if (in.type().has_tensor_type() && in.type().tensor_type().elem_type() != onnx::TensorProto::FLOAT)
      return Status::Error(origin + ": graph input '" + in.name() + "' has element type " +
                           std::to_string(in.type().tensor_type().elem_type()) + "; onebit models take float32 inputs");
    if (!info_shape(in, &shape))
      return Status::Error(origin + ": graph input '" + in.name() + "' has a dynamic or unknown shape (no shape in the file); "
                           "export with a fixed input shape (only the batch dim may be dynamic)");
    for (size_t d = 0; d < shape.size(); ++d)
      if (shape[d] <= 0 || shape[d] > std::numeric_limits<int32_t>::max())
        return Status::Error(origin + ": graph input '" + in.name() + "' has a dynamic or unknown shape " + shape_str(shape) +
                             " (dim " + std::to_string(d) + "); only the batch dim (0) may be dynamic, it is set by --batch");
    const int64_t elements = shape_elements(shape);
    if (elements < 0 || elements > (int64_t(1) << 31) - 1)
      return Status::Error(origin + ": graph input '" + in.name() + "' has shape " + shape_str(shape) +
                           ", more than 2^31 - 1 elements");
    val.onnx_shape = shape;
    val.onnx_shape_known = true;
    val.shape = shape;
    val.shape_known = true;
    g.inputs.push_back(v);
  }
  NodeReader reader(&g, g.opset);
  for (int k = 0; k < gp->node_size(); ++k) {
    ONEBIT_RETURN_IF_ERROR(reader.read(gp->node(k), k));
  }
  for (const auto& out : gp->output()) {
    const ValueId v = g.find_value(out.name());
    if (v == kNoId) return Status::Error(origin + ": graph output '" + out.name() + "' is not produced by any node");
    for (ValueId o : g.outputs)
      if (o == v) return Status::Error(origin + ": graph output '" + out.name() + "' is listed twice");
    g.value(v).graph_output = true;
    g.outputs.push_back(v);
  }
  // ONNX's own shape inference runs only on a graph that passed the checks above and onebit's own shape
  // inference: its implementation trusts what it reads (an undefined input, and a Shape after an Add whose
  // operands do not broadcast, crashed it: tests/fuzz/regressions/fuzz_convert). Its data propagation is off
  // for the same reason (that is where the second crash was); the IR folds Shape chains itself. Shapes ONNX
  // finds, and those the file states, are cross-checked against the IR's inference in every later round.
  ONEBIT_RETURN_IF_ERROR(infer_shapes(&g));
  try {
    onnx::ShapeInferenceOptions so(false, 0, false);
    onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(), so);
  } catch (const std::exception&) {
    // What it could not infer, the IR infers itself.
  }
  auto attach = [&](const onnx::ValueInfoProto& info) {
    const ValueId v = g.find_value(info.name());
    if (v == kNoId || g.value(v).is_constant() || g.value(v).graph_input || !info_shape(info, &shape)) return;
    g.value(v).onnx_shape = shape;
    g.value(v).onnx_shape_known = true;
  };
  for (const auto& info : gp->value_info()) attach(info);
  for (const auto& info : gp->output()) attach(info);
  return Status::Ok();
}

}  // namespace onebit::converter
