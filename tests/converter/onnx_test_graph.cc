#include "onnx_test_graph.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

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

namespace {

Tensor constant(const onnx::TensorProto& t) {
  Tensor out;
  out.shape.assign(t.dims().begin(), t.dims().end());
  if (t.data_type() == onnx::TensorProto::INT64) {
    for (int64_t v : t.int64_data()) out.data.push_back(float(v));
  } else if (t.data_type() != onnx::TensorProto::FLOAT) {
    for (int32_t v : t.int32_data()) out.data.push_back(float(v));
  } else {
    out.data.resize(t.raw_data().size() / 4);
    std::copy_n(reinterpret_cast<const float*>(t.raw_data().data()), out.data.size(), out.data.data());
  }
  return out;
}

int64_t attr_i(const onnx::NodeProto& n, const std::string& name, int64_t fallback) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return a.i();
  return fallback;
}

float attr_f(const onnx::NodeProto& n, const std::string& name, float fallback) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return a.f();
  return fallback;
}

std::vector<int64_t> attr_ints(const onnx::NodeProto& n, const std::string& name, std::vector<int64_t> fallback) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return std::vector<int64_t>(a.ints().begin(), a.ints().end());
  return fallback;
}

// Per-channel value of a constant broadcast against NCHW / NC data.
float channel_value(const Tensor& k, int64_t c) { return k.data.size() == 1 ? k.data[0] : k.data[size_t(c)]; }

int64_t channels_of(const Tensor& t) { return t.shape.size() >= 2 ? t.shape[1] : 1; }
int64_t inner_of(const Tensor& t) { return t.shape.size() == 4 ? t.shape[2] * t.shape[3] : 1; }

// Windowed op over NCHW: visits each output position with its window taps (inside-image taps only, plus
// the count of padded taps).
template <typename F>
Tensor window(const Tensor& x, int kh, int kw, int sh, int sw, const std::vector<int64_t>& pads, int64_t out_c, F f) {
  const int64_t N = x.shape[0], H = x.shape[2], W = x.shape[3];
  const int64_t OH = (H + pads[0] + pads[2] - kh) / sh + 1, OW = (W + pads[1] + pads[3] - kw) / sw + 1;
  Tensor y{{N, out_c, OH, OW}, {}};
  y.data.resize(size_t(N * out_c * OH * OW));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < out_c; ++o)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow)
          y.data[size_t(((n * out_c + o) * OH + oh) * OW + ow)] = f(n, o, oh * sh - pads[0], ow * sw - pads[1]);
  return y;
}

}  // namespace

std::map<std::string, Tensor> OnnxTestGraph::evaluate(const std::map<std::string, Tensor>& inputs) const {
  std::map<std::string, Tensor> v = inputs;
  for (const auto& init : model.graph().initializer()) v[init.name()] = constant(init);
  auto initializer_type = [this](const std::string& name) {
    for (const auto& init : model.graph().initializer())
      if (init.name() == name) return init.data_type();
    return int32_t(onnx::TensorProto::UNDEFINED);
  };
  for (const auto& n : model.graph().node()) {
    const std::string& op = n.op_type();
    const Tensor& x = v.at(n.input(0));
    Tensor y = x;
    if (op == "Sign") {
      for (float& e : y.data) e = e > 0 ? 1.0f : (e < 0 ? -1.0f : 0.0f);
    } else if (op == "Round") {
      for (float& e : y.data) e = std::nearbyint(e);  // half to even (default rounding mode), as ONNX
    } else if (op == "Min" || op == "Max") {
      const float c = v.at(n.input(1)).data[0];
      for (float& e : y.data) e = op == "Min" ? std::min(e, c) : std::max(e, c);
    } else if (op == "QuantizeLinear" || op == "DequantizeLinear") {
      // ONNX opset 13: per tensor, or per slice of `axis` (default 1); the range of the zero point's type
      // (uint8, also when omitted, or int8); round half to even (the default rounding mode), saturate.
      const Tensor& s = v.at(n.input(1));
      const Tensor* z = n.input_size() > 2 ? &v.at(n.input(2)) : nullptr;
      const bool int8 = z != nullptr && initializer_type(n.input(2)) == onnx::TensorProto::INT8;
      const float qmin = int8 ? -128.0f : 0.0f, qmax = int8 ? 127.0f : 255.0f;
      int64_t axis = attr_i(n, "axis", 1), inner = 1;
      if (axis < 0) axis += int64_t(x.shape.size());
      for (size_t d = size_t(axis) + 1; s.data.size() > 1 && d < x.shape.size(); ++d) inner *= x.shape[d];
      for (size_t i = 0; i < y.data.size(); ++i) {
        const size_t k = s.data.size() == 1 ? 0 : size_t((int64_t(i) / inner) % int64_t(s.data.size()));
        const float sk = s.data[k], zk = z ? z->data[z->data.size() == 1 ? 0 : k] : 0.0f;
        float& e = y.data[i];
        e = op == "QuantizeLinear" ? std::min(std::max(std::nearbyint(e / sk) + zk, qmin), qmax) : (e - zk) * sk;
      }
    } else if (op == "Relu") {
      for (float& e : y.data) e = std::max(e, 0.0f);
    } else if (op == "Clip") {
      const float lo = v.at(n.input(1)).data[0], hi = v.at(n.input(2)).data[0];
      for (float& e : y.data) e = std::min(std::max(e, lo), hi);
    } else if (op == "Add" || op == "Mul" || op == "Sub" || op == "PRelu" || op == "Div") {
      const Tensor& k = v.at(n.input(1));
      const bool same = k.shape == x.shape;
      for (size_t i = 0; i < y.data.size(); ++i) {
        const int64_t c = (int64_t(i) / inner_of(x)) % channels_of(x);
        const float b = same ? k.data[i] : channel_value(k, c);
        float& e = y.data[i];
        if (op == "Add") e += b;
        else if (op == "Sub") e -= b;
        else if (op == "Mul") e *= b;
        else if (op == "Div") e /= b;
        else e = e < 0 ? e * b : e;
      }
    } else if (op == "BatchNormalization") {
      const float eps = attr_f(n, "epsilon", 1e-5f);
      const Tensor &g = v.at(n.input(1)), &b = v.at(n.input(2)), &m = v.at(n.input(3)), &var = v.at(n.input(4));
      for (size_t i = 0; i < y.data.size(); ++i) {
        const size_t c = size_t((int64_t(i) / inner_of(x)) % channels_of(x));
        y.data[i] = (x.data[i] - m.data[c]) / std::sqrt(var.data[c] + eps) * g.data[c] + b.data[c];
      }
    } else if (op == "Pad") {
      const Tensor& p = v.at(n.input(1));
      const float value = n.input_size() > 2 ? v.at(n.input(2)).data[0] : 0.0f;
      const int64_t t = int64_t(p.data[2]), l = int64_t(p.data[3]), b = int64_t(p.data[6]), r = int64_t(p.data[7]);
      const int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
      y.shape = {N, C, H + t + b, W + l + r};
      y.data.assign(size_t(N * C * (H + t + b) * (W + l + r)), value);
      for (int64_t i = 0; i < N * C; ++i)
        for (int64_t h = 0; h < H; ++h)
          for (int64_t w = 0; w < W; ++w)
            y.data[size_t((i * (H + t + b) + h + t) * (W + l + r) + w + l)] = x.data[size_t((i * H + h) * W + w)];
    } else if (op == "Conv") {
      const Tensor& w = v.at(n.input(1));
      const std::vector<int64_t> pads = attr_ints(n, "pads", {0, 0, 0, 0});
      const std::vector<int64_t> st = attr_ints(n, "strides", {1, 1});
      const int64_t O = w.shape[0], I = w.shape[1], KH = w.shape[2], KW = w.shape[3], H = x.shape[2], W = x.shape[3];
      const Tensor* bias = n.input_size() > 2 ? &v.at(n.input(2)) : nullptr;
      const int64_t C = x.shape[1], per_group = O / attr_i(n, "group", 1);
      y = window(x, int(KH), int(KW), int(st[0]), int(st[1]), pads, O, [&](int64_t b, int64_t o, int64_t h0, int64_t w0) {
        double acc = bias ? bias->data[size_t(o)] : 0.0;
        const int64_t first = o / per_group * I;  // the group's first input channel
        for (int64_t i = 0; i < I; ++i)
          for (int64_t kh = 0; kh < KH; ++kh)
            for (int64_t kw = 0; kw < KW; ++kw) {
              const int64_t h = h0 + kh, ww = w0 + kw;
              if (h < 0 || h >= H || ww < 0 || ww >= W) continue;
              acc += double(x.data[size_t(((b * C + first + i) * H + h) * W + ww)]) * w.data[size_t(((o * I + i) * KH + kh) * KW + kw)];
            }
        return float(acc);
      });
    } else if (op == "MaxPool" || op == "AveragePool") {
      const std::vector<int64_t> k = attr_ints(n, "kernel_shape", {1, 1});
      const std::vector<int64_t> pads = attr_ints(n, "pads", {0, 0, 0, 0});
      const std::vector<int64_t> st = attr_ints(n, "strides", k);
      const bool include = attr_i(n, "count_include_pad", 0) != 0;
      const int64_t C = x.shape[1], H = x.shape[2], W = x.shape[3];
      y = window(x, int(k[0]), int(k[1]), int(st[0]), int(st[1]), pads, C, [&](int64_t b, int64_t c, int64_t h0, int64_t w0) {
        float best = -INFINITY;
        double sum = 0;
        int count = 0;
        for (int64_t kh = 0; kh < k[0]; ++kh)
          for (int64_t kw = 0; kw < k[1]; ++kw) {
            const int64_t h = h0 + kh, ww = w0 + kw;
            if (h < 0 || h >= H || ww < 0 || ww >= W) continue;
            const float e = x.data[size_t(((b * C + c) * H + h) * W + ww)];
            best = std::max(best, e);
            sum += e;
            ++count;
          }
        if (op == "MaxPool") return best;
        return float(sum / double(include ? k[0] * k[1] : count));
      });
    } else if (op == "GlobalAveragePool") {
      const int64_t N = x.shape[0], C = x.shape[1], HW = x.shape[2] * x.shape[3];
      y.shape = {N, C, 1, 1};
      y.data.assign(size_t(N * C), 0.0f);
      for (int64_t i = 0; i < N * C; ++i) {
        double s = 0;
        for (int64_t j = 0; j < HW; ++j) s += x.data[size_t(i * HW + j)];
        y.data[size_t(i)] = float(s / double(HW));
      }
    } else if (op == "Flatten") {
      y.shape = {x.shape[0], int64_t(x.data.size()) / x.shape[0]};
    } else if (op == "Gemm") {
      const Tensor& w = v.at(n.input(1));  // transB = 1: [out][in]
      const Tensor* bias = n.input_size() > 2 ? &v.at(n.input(2)) : nullptr;
      const int64_t N = x.shape[0], K = x.shape[1], O = w.shape[0];
      y.shape = {N, O};
      y.data.assign(size_t(N * O), 0.0f);
      for (int64_t b = 0; b < N; ++b)
        for (int64_t o = 0; o < O; ++o) {
          double acc = bias ? bias->data[size_t(o)] : 0.0;
          for (int64_t k = 0; k < K; ++k) acc += double(x.data[size_t(b * K + k)]) * w.data[size_t(o * K + k)];
          y.data[size_t(b * O + o)] = float(acc);
        }
    } else {
      throw std::runtime_error("reference: unsupported op " + op);
    }
    v[n.output(0)] = y;
  }
  return v;
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
