#include "emit.h"

#include <algorithm>

#include "emitter.h"

namespace onebit::converter {

std::vector<int> nhwc(const std::vector<int64_t>& s) {
  if (s.size() == 4) return {int(s[0]), int(s[2]), int(s[3]), int(s[1])};
  return std::vector<int>(s.begin(), s.end());
}

int onebit_axis(int64_t axis, int rank) {
  if (axis < 0) axis += rank;
  if (rank != 4) return int(axis);
  static const int map[4] = {0, 3, 1, 2};
  return axis >= 0 && axis < 4 ? map[axis] : -1;
}

void Emitter::record(const std::string& node, const std::string& what) {
  std::string& slot = report_.emitted[node];
  slot = slot.empty() ? what : slot + " + " + what;
}

int64_t Emitter::elements(int id) const {
  int64_t n = 1;
  for (int d : b_.shape(id)) n *= d;
  return n;
}

Status Emitter::onnx_shape(const std::string& value, const Node* user, std::vector<int64_t>* shape) const {
  const Value* v = g_.find(value);
  if (v != nullptr && v->shape_known) {
    *shape = v->shape;
    return Status::Ok();
  }
  const Node* producer = g_.producer(value);
  const Node* at = producer != nullptr ? producer : user;
  return Status::Error((at ? at->describe() : std::string("graph input")) + ": tensor '" + value +
                       "' has a dynamic or unknown shape; export the model with a fixed input shape");
}

Status Emitter::run() {
  for (const std::string& in : g_.inputs) {
    std::vector<int64_t> shape;
    Status s = onnx_shape(in, nullptr, &shape);
    if (!s.ok()) return Status::Error("graph input '" + in + "' has a dynamic or unknown shape; export the model with a fixed input shape");
    if (shape.size() != 4 && shape.size() != 2)
      return Status::Error("graph input '" + in + "' has rank " + std::to_string(shape.size()) + "; expected NCHW or [N, C]");
    set_float(in, b_.add_input(in, nhwc(shape)));
  }
  for (const std::string& out : g_.outputs) {
    int id;
    Status s = get_float(out, &id);
    if (!s.ok()) return s;
    b_.mark_output(id);
  }
  return Status::Ok();
}

Status Emitter::get_float(const std::string& value, int* id) {
  auto it = float_.find(value);
  if (it != float_.end()) {
    *id = it->second;
    return Status::Ok();
  }
  const bool binary_pool_as_float = options_.float_reference && g_.producer(value) != nullptr &&
                                    plan_.binary_max_pools.count(g_.producer(value)->name) != 0;
  auto conv = plan_.value_to_conv.find(value);
  if (conv != plan_.value_to_conv.end() && !plan_.convs.at(conv->second).params.bitpacked_output) {
    Status s = emit_binary_conv(plan_.convs.at(conv->second));
    if (!s.ok()) return s;
  } else if ((plan_.binary_values.count(value) != 0 || conv != plan_.value_to_conv.end()) && !binary_pool_as_float) {
    int bits;
    Status s = get_bits(value, &bits);
    if (!s.ok()) return s;
    const Node* p = g_.producer(value);
    const std::string name = (p ? p->name : value) + "/dequantize";
    set_float(value, b_.dequantize(name, bits));
  } else {
    const Node* p = g_.producer(value);
    if (p == nullptr) {
      const Value* v = g_.find(value);
      return Status::Error("tensor '" + value + "' is used as an activation but is " +
                           (v && v->is_constant ? "a constant" : "not defined"));
    }
    if (in_progress_.count(p->name)) return Status::Error(p->describe() + ": graph has a cycle");
    in_progress_.insert(p->name);
    Status s = emit_node(*p);
    in_progress_.erase(p->name);
    if (!s.ok()) return s;
  }
  it = float_.find(value);
  if (it == float_.end()) return Status::Error("internal: no float form of tensor '" + value + "'");
  *id = it->second;
  return Status::Ok();
}

Status Emitter::get_bits(const std::string& value, int* id) {
  auto it = bits_.find(value);
  if (it != bits_.end()) {
    *id = it->second;
    return Status::Ok();
  }
  const Node* p = g_.producer(value);
  auto conv = plan_.value_to_conv.find(value);
  Status s = Status::Ok();
  if (conv != plan_.value_to_conv.end() && plan_.convs.at(conv->second).params.bitpacked_output) {
    s = emit_binary_conv(plan_.convs.at(conv->second));
  } else if (p != nullptr && plan_.quantizes.count(p->name)) {
    s = emit_quantize(plan_.quantizes.at(p->name), value);
  } else if (p != nullptr && plan_.binary_max_pools.count(p->name) && !options_.float_reference) {
    int in;
    s = get_bits(p->inputs[0], &in);
    if (!s.ok()) return s;
    Pool2DParams pp;
    const auto k = p->get_ints("kernel_shape", {1, 1});
    const auto st = p->get_ints("strides", {1, 1});
    const auto pads = p->get_ints("pads", {0, 0, 0, 0});
    pp.kernel_h = int(k[0]);
    pp.kernel_w = int(k[1]);
    pp.stride_h = int(st[0]);
    pp.stride_w = int(st[1]);
    pp.pad_top = int(pads[0]);
    pp.pad_left = int(pads[1]);
    pp.pad_bottom = int(pads[2]);
    pp.pad_right = int(pads[3]);
    bits_[value] = b_.binary_max_pool(p->name, in, pp);
    record(p->name, "binary BinaryMaxPool2D");
  } else {
    int f;
    s = get_float(value, &f);
    if (!s.ok()) return s;
    bits_[value] = b_.quantize((p ? p->name : value) + "/quantize", f);
    if (p) record(p->name, "Quantize of its output");
  }
  if (!s.ok()) return s;
  *id = bits_.at(value);
  return Status::Ok();
}

Status Emitter::float_as(const std::string& value, int rank, int* id) {
  Status s = get_float(value, id);
  if (!s.ok()) return s;
  const std::vector<int> shape = b_.shape(*id);
  if (int(shape.size()) == rank) return Status::Ok();
  const Node* p = g_.producer(value);
  const std::string name = (p ? p->name : value) + "/reshape";
  if (rank == 4 && shape.size() == 2) {
    *id = b_.reshape(name, *id, {shape[0], 1, 1, shape[1]});
  } else if (rank == 2 && shape.size() == 4 && shape[1] == 1 && shape[2] == 1) {
    *id = b_.reshape(name, *id, {shape[0], shape[3]});
  } else {
    return Status::Error((p ? p->describe() : "tensor '" + value + "'") + ": output of rank " +
                         std::to_string(shape.size()) + " used where rank " + std::to_string(rank) + " is needed");
  }
  return Status::Ok();
}

Status Emitter::emit_quantize(const QuantizeSpec& q, const std::string& value) {
  std::vector<int64_t> shape;
  Status s = onnx_shape(q.source, g_.find_node(q.sign_node), &shape);
  if (!s.ok()) return s;
  int x;
  s = float_as(q.source, int(shape.size()) == 4 ? 4 : 2, &x);
  if (!s.ok()) return s;
  if (!q.threshold.empty() && int64_t(q.threshold.size()) != int64_t(b_.shape(x).back()))
    return Status::Error(g_.find_node(q.sign_node)->describe() + ": fused BatchNormalization has " +
                         std::to_string(q.threshold.size()) + " channels, its input " +
                         std::to_string(b_.shape(x).back()));
  bits_[value] = b_.quantize(q.sign_node, x, q.threshold, q.flip, q.constant);
  record(q.sign_node, q.threshold.empty() ? "binary Quantize" : "binary Quantize (BatchNormalization threshold)");
  return Status::Ok();
}

Status Emitter::emit_binary_conv(const BinaryConvSpec& spec) {
  const BinaryConv2DParams& p = spec.params;
  const bool fc = spec.fully_connected;
  int in_bits;
  Status s = get_bits(spec.input, &in_bits);
  if (!s.ok()) return s;
  const std::vector<int> in_shape = b_.shape(in_bits);
  if (fc != (in_shape.size() == 2))
    return Status::Error(g_.find_node(spec.node)->describe() + ": binary input has rank " + std::to_string(in_shape.size()));
  const int64_t taps = int64_t(spec.weights.size()) / spec.out_c;
  int out;
  if (!options_.float_reference) {
    if (fc) {
      out = b_.binary_fully_connected(spec.node, in_bits, spec.out_c, spec.weights, spec.multiplier, spec.bias,
                                      p.bitpacked_output, p.clamp_min, p.clamp_max);
    } else {
      out = b_.binary_conv2d(spec.node, in_bits, spec.out_c, spec.weights, spec.multiplier, spec.bias, p);
    }
    report_.binary_macs += elements(out) * taps;
    record(spec.node, std::string("binary ") + (fc ? "BinaryFullyConnected" : "BinaryConv2D") +
                          (p.bitpacked_output ? " (bitpacked output)" : ""));
    if (p.bitpacked_output) bits_[spec.output] = out;
    else set_float(spec.output, out);
    return Status::Ok();
  }
  // Float reference twin: the same arithmetic on ±1 floats.
  int x;
  s = get_float(spec.input, &x);
  if (!s.ok()) return s;
  const std::vector<float> zeros(size_t(spec.out_c), 0.0f);
  if (fc) {
    out = b_.fully_connected(spec.node, x, spec.out_c, spec.weights, zeros);
  } else {
    Conv2DParams cp = p;
    cp.clamp_min = -__builtin_huge_valf();
    cp.clamp_max = __builtin_huge_valf();
    if (p.pad_mode != kernels::PadMode::kZero) {
      const float value = p.pad_mode == kernels::PadMode::kOne ? 1.0f : -1.0f;
      x = b_.pad(spec.node + "/pad", x, {0, p.pad_top, p.pad_left, 0, 0, p.pad_bottom, p.pad_right, 0}, value);
      cp.pad_top = cp.pad_left = cp.pad_bottom = cp.pad_right = 0;
    }
    out = b_.conv2d(spec.node, x, spec.out_c, spec.weights, zeros, cp);
  }
  report_.float_macs += elements(out) * taps;
  out = b_.channel_affine(spec.node + "/transform", out, spec.multiplier, spec.bias);
  if (p.clamp_min > -__builtin_huge_valf() || p.clamp_max < __builtin_huge_valf())
    out = b_.clamp(spec.node + "/clamp", out, p.clamp_min, p.clamp_max);
  record(spec.node, std::string("float reference ") + (fc ? "FullyConnected" : "Conv2D") + " on ±1 values");
  if (p.bitpacked_output) bits_[spec.output] = b_.quantize(spec.node + "/quantize", out);
  else set_float(spec.output, out);
  return Status::Ok();
}

Status emit_model(const Graph& g, const Plan& plan, const EmitOptions& options, ModelBuilder* builder,
                  EmitReport* report) {
  Emitter e(g, plan, options, builder, report);
  return e.run();
}

}  // namespace onebit::converter
