#include "verify/divergence.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <memory>
#include <set>

#include <onnx/onnx_pb.h>

#include "onebit/interpreter.h"
#include "onebit/model.h"
#include "onebit/schema/onebit_generated.h"
#include "verify/verify.h"

namespace onebit::converter {
namespace {

// The ONNX graph's structure by name: node per name, readers per tensor.
struct OnnxIndex {
  std::map<std::string, const onnx::NodeProto*> node;
  std::map<std::string, std::vector<const onnx::NodeProto*>> readers;
  std::set<std::string> graph_outputs;
};

OnnxIndex index_of(const onnx::GraphProto& g) {
  OnnxIndex ix;
  for (const auto& n : g.node()) {
    ix.node[n.name()] = &n;
    for (const auto& i : n.input()) ix.readers[i].push_back(&n);
  }
  for (const auto& o : g.output()) ix.graph_outputs.insert(o.name());
  return ix;
}

// Node -> the operator it was folded into, where several operators' outputs reach it (a residual Add reached
// from a shortcut convolution and from the binary convolution it is fused into): the last of them in
// execution order, the one that can read both.
using Owners = std::map<const onnx::NodeProto*, std::string>;

// The ONNX tensor runtime operator `op` computes as its output `k` (see divergence.h), or "". `visit` (when
// given) sees every node output 0 is carried through.
std::string onnx_tensor_of(const OnnxIndex& ix, const std::set<std::string>& operators, const Owners& owners,
                           const std::string& op, size_t k, Owners* visit = nullptr) {
  const auto it = ix.node.find(op);
  if (it == ix.node.end() || it->second->output_size() < 1) return "";
  std::string t = it->second->output(0);
  const auto absent = [&](const onnx::NodeProto* n) { return !operators.count(n->name()); };
  if (k == 0) {
    for (;;) {
      const auto r = ix.readers.find(t);
      if (r == ix.readers.end() || r->second.size() != 1 || ix.graph_outputs.count(t)) return t;
      const onnx::NodeProto* next = r->second[0];
      if (!absent(next) || next->output_size() < 1) return t;
      if (const auto o = owners.find(next); o != owners.end() && o->second != op) return t;
      if (visit) (*visit)[next] = op;
      t = next->output(0);
    }
  }
  // A bit-packed second output: the first Sign reached through readers that have no operator.
  std::deque<std::string> todo{t};
  std::set<std::string> seen;
  while (!todo.empty()) {
    const std::string v = todo.front();
    todo.pop_front();
    if (!seen.insert(v).second) continue;
    const auto r = ix.readers.find(v);
    if (r == ix.readers.end()) continue;
    for (const onnx::NodeProto* n : r->second) {
      if (n->op_type() == "Sign") return n->output(0);
      if (absent(n) && n->output_size() > 0) todo.push_back(n->output(0));
    }
  }
  return "";
}

// `model` with graph output 0 replaced by tensor `tensor` (flatbuffers mutates a scalar in place).
std::vector<uint8_t> with_output(const std::vector<uint8_t>& model, int tensor) {
  std::vector<uint8_t> copy = model;
  const fb::Model* m = fb::GetModel(copy.data());
  const_cast<flatbuffers::Vector<int32_t>*>(m->outputs())->Mutate(0, tensor);
  return copy;
}

// Compares runtime values (NCHW order) with the reference tensor; fills the numbers of `d`.
void compare(const std::vector<double>& got, const RefTensor& want, const RefTensor* sign_input, Divergence* d) {
  d->elements = int64_t(want.size());
  d->scale = 0;
  for (double v : want.data) d->scale = std::max(d->scale, std::fabs(v));
  const double scale = d->scale > 0 ? d->scale : 1.0;
  double sign_hi = 0;
  if (sign_input)
    for (double v : sign_input->data) sign_hi = std::max(sign_hi, std::fabs(v));
  bool all_near = sign_input != nullptr, all_exact = sign_input != nullptr;
  d->max_delta = 0;
  d->differing = 0;
  for (size_t e = 0; e < want.size(); ++e) {
    const double delta = std::fabs(got[e] - want.data[e]);
    d->max_delta = std::max(d->max_delta, delta);
    if (delta <= kLayerTolerance * scale) continue;
    ++d->differing;
    if (!sign_input) continue;
    const double x = sign_input->data[e];
    all_exact = all_exact && x == 0;
    all_near = all_near && std::fabs(x) <= kSignRounding * sign_hi;
  }
  d->found = d->differing > 0;
  d->near_zero = d->found && all_near;
  d->exact_zero = d->found && all_exact;
}

}  // namespace

std::vector<double> relayout(const std::vector<double>& x, const std::vector<int64_t>& s, bool to_nhwc) {
  if (s.size() != 4) return x;
  const int64_t N = s[0], C = s[1], HW = s[2] * s[3];
  std::vector<double> y(x.size());
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t p = 0; p < HW; ++p) {
        const size_t nchw = size_t((n * C + c) * HW + p), nhwc = size_t((n * HW + p) * C + c);
        y[to_nhwc ? nhwc : nchw] = x[to_nhwc ? nchw : nhwc];
      }
  return y;
}

Status run_model_once(const std::vector<uint8_t>& model, const std::vector<float>& input_nhwc, size_t output,
                      std::vector<float>* values, std::vector<int>* shape) {
  std::unique_ptr<Model> m;
  ONEBIT_RETURN_IF_ERROR(Model::load_buffer(model.data(), model.size(), &m));
  std::unique_ptr<Interpreter> interp;
  InterpreterOptions o;
  o.write_in_place = false;
  ONEBIT_RETURN_IF_ERROR(Interpreter::create(*m, o, &interp));
  if (interp->input_count() != 1 || output >= interp->output_count()) return Status::Error("verify: unexpected model I/O");
  size_t n = 1;
  for (int d : interp->input_info(0).shape) n *= size_t(d);
  if (n != input_nhwc.size()) return Status::Error("verify: input size differs");
  std::copy(input_nhwc.begin(), input_nhwc.end(), interp->input(0));
  ONEBIT_RETURN_IF_ERROR(interp->invoke());
  *shape = interp->output_info(output).shape;
  n = 1;
  for (int d : *shape) n *= size_t(d);
  values->assign(interp->output(output), interp->output(output) + n);
  return Status::Ok();
}

Status find_first_divergence(const ReferenceGraph& ref, const std::map<std::string, RefTensor>& values,
                             const std::vector<uint8_t>& model, const std::vector<float>& input_nhwc, Divergence* out) {
  *out = Divergence();
  const fb::Model* m = fb::GetModel(model.data());
  if (!m->operators() || !m->outputs() || m->outputs()->size() == 0 || !m->tensors()) return Status::Ok();
  const OnnxIndex ix = index_of(ref.model().graph());
  std::set<std::string> operators;
  for (const fb::Operator* op : *m->operators())
    if (op->name()) operators.insert(op->name()->str());
  Owners owners;  // the last operator, in execution order, whose output reaches each node
  for (const fb::Operator* op : *m->operators())
    if (op->name()) onnx_tensor_of(ix, operators, {}, op->name()->str(), 0, &owners);
  std::map<std::string, const RefTensor*> sign_input_of;  // binarizing node output -> its input
  for (const BinarizingInput& b : ref.binarizing_inputs()) sign_input_of[b.output] = &values.at(b.value);
  for (const fb::Operator* op : *m->operators()) {
    if (!op->name() || !op->outputs()) continue;
    for (size_t k = 0; k < op->outputs()->size(); ++k) {
      const std::string t = onnx_tensor_of(ix, operators, owners, op->name()->str(), k);
      const auto want = values.find(t);
      if (t.empty() || want == values.end()) continue;
      const int tensor = op->outputs()->Get(flatbuffers::uoffset_t(k));
      size_t output = 0;  // read it as graph output `output` of a copy whose output 0 is this tensor
      std::vector<uint8_t> probe = model;
      const auto outs = m->outputs();
      const auto at = std::find(outs->begin(), outs->end(), tensor);
      if (at != outs->end()) output = size_t(at - outs->begin());
      else probe = with_output(model, tensor);
      std::vector<float> got;
      std::vector<int> shape;
      if (!run_model_once(probe, input_nhwc, output, &got, &shape).ok() || got.size() != want->second.size()) continue;
      std::vector<double> got_wide(got.begin(), got.end());
      if (shape.size() == 4 && want->second.shape.size() == 4) got_wide = relayout(got_wide, want->second.shape, false);
      const auto s = sign_input_of.find(t);
      Divergence d;
      compare(got_wide, want->second, s == sign_input_of.end() ? nullptr : s->second, &d);
      if (!d.found) continue;
      d.layer = op->name()->str();
      d.type = fb::EnumNameOperatorOptions(op->options_type());
      if (d.type.size() > 7 && d.type.compare(d.type.size() - 7, 7, "Options") == 0) d.type.resize(d.type.size() - 7);
      d.onnx_tensor = t;
      *out = d;
      return Status::Ok();
    }
  }
  return Status::Ok();
}

}  // namespace onebit::converter
