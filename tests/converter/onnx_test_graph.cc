#include "onnx_test_graph.h"

#include <stdexcept>

#include "verify/reference.h"

namespace onebit::testing {

OnnxTestGraph::OnnxTestGraph(int opset) {
  model.set_ir_version(7);
  auto* op = model.add_opset_import();
  op->set_domain("");
  op->set_version(opset);
  model.mutable_graph()->set_name("test");
}

void OnnxTestGraph::input(const std::string& name, const std::vector<int64_t>& shape) {
  auto* in = model.mutable_graph()->add_input();
  in->set_name(name);
  auto* t = in->mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx::TensorProto::FLOAT);
  for (int64_t d : shape) t->mutable_shape()->add_dim()->set_dim_value(d);
}

void OnnxTestGraph::output(const std::string& name) {
  auto* out = model.mutable_graph()->add_output();
  out->set_name(name);
  out->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
}

void OnnxTestGraph::initializer(const std::string& name, const std::vector<int64_t>& shape, const std::vector<float>& data) {
  auto* t = model.mutable_graph()->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : shape) t->add_dims(d);
  t->set_raw_data(std::string(reinterpret_cast<const char*>(data.data()), data.size() * sizeof(float)));
}

void OnnxTestGraph::initializer_i64(const std::string& name, const std::vector<int64_t>& shape,
                                    const std::vector<int64_t>& data) {
  auto* t = model.mutable_graph()->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::INT64);
  for (int64_t d : shape) t->add_dims(d);
  for (int64_t v : data) t->add_int64_data(v);
}

void OnnxTestGraph::initializer_int(const std::string& name, int type, const std::vector<int64_t>& shape,
                                    const std::vector<int64_t>& data) {
  auto* t = model.mutable_graph()->add_initializer();
  t->set_name(name);
  t->set_data_type(type);
  for (int64_t d : shape) t->add_dims(d);
  for (int64_t v : data) t->add_int32_data(int32_t(v));
}

onnx::NodeProto& OnnxTestGraph::node(const std::string& op, const std::vector<std::string>& inputs,
                                     const std::vector<std::string>& outputs, const std::string& name,
                                     const Attrs& attrs) {
  auto* n = model.mutable_graph()->add_node();
  n->set_op_type(op);
  n->set_name(name.empty() ? op + "_" + outputs[0] : name);
  for (const auto& i : inputs) n->add_input(i);
  for (const auto& o : outputs) n->add_output(o);
  for (const Attr& a : attrs) attr(*n, a);
  return *n;
}

void OnnxTestGraph::attr(onnx::NodeProto& n, const std::string& name, int64_t v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}

void OnnxTestGraph::attr(onnx::NodeProto& n, const std::string& name, float v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(v);
}

void OnnxTestGraph::attr(onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t x : v) a->add_ints(x);
}

void OnnxTestGraph::attr(onnx::NodeProto& n, const Attr& a) {
  switch (a.kind) {
    case Attr::Kind::kInt: return attr(n, a.name, a.i);
    case Attr::Kind::kFloat: return attr(n, a.name, a.f);
    case Attr::Kind::kInts: return attr(n, a.name, a.ints);
    case Attr::Kind::kString: {
      auto* p = n.add_attribute();
      p->set_name(a.name);
      p->set_type(onnx::AttributeProto::STRING);
      p->set_s(a.s);
      return;
    }
  }
}

std::string OnnxTestGraph::bytes() const { return model.SerializeAsString(); }

// The converter's --verify reference (converter/verify/reference.h: double precision, written from the ONNX
// operator definitions, with hand-computed tests of its own in verify_test.cc) is the tests' oracle: one
// reference for the self-check and the tests, independent of import, rules, evaluator and runtime.
std::map<std::string, Tensor> OnnxTestGraph::evaluate(const std::map<std::string, Tensor>& inputs) const {
  converter::ReferenceGraph ref;
  Status s = converter::ReferenceGraph::parse(bytes(), "test graph", &ref);
  if (!s.ok()) throw std::runtime_error("reference: " + s.message());
  std::map<std::string, converter::RefTensor> in, values;
  for (const auto& [name, t] : inputs) in[name] = converter::RefTensor{t.shape, {t.data.begin(), t.data.end()}, 1};
  s = ref.evaluate(in, &values);
  if (!s.ok()) throw std::runtime_error("reference: " + s.message());
  std::map<std::string, Tensor> out;
  for (const auto& [name, t] : values) out[name] = Tensor{t.shape, {t.data.begin(), t.data.end()}};
  return out;
}

std::vector<float> to_nhwc(const Tensor& t) {
  if (t.shape.size() != 4) return t.data;
  const int64_t N = t.shape[0], C = t.shape[1], H = t.shape[2], W = t.shape[3];
  std::vector<float> out(t.data.size());
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t hw = 0; hw < H * W; ++hw) out[size_t((n * H * W + hw) * C + c)] = t.data[size_t((n * C + c) * H * W + hw)];
  return out;
}

std::vector<float> from_nhwc(const std::vector<float>& data, const std::vector<int64_t>& s) {
  if (s.size() != 4) return data;
  const int64_t N = s[0], C = s[1], H = s[2], W = s[3];
  std::vector<float> out(data.size());
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t hw = 0; hw < H * W; ++hw) out[size_t((n * C + c) * H * W + hw)] = data[size_t((n * H * W + hw) * C + c)];
  return out;
}

}  // namespace onebit::testing
