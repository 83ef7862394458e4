#include "binary_conv.h"

#include <cmath>

#include "padding.h"

namespace onebit::converter {

bool split_sign_magnitude(const std::vector<float>& w, int64_t out, std::vector<float>* signs,
                          std::vector<float>* magnitude, std::string* why) {
  if (out <= 0 || w.size() % size_t(out) != 0) {
    *why = "weight count is not a multiple of the output channels";
    return false;
  }
  const size_t per = w.size() / size_t(out);
  signs->resize(w.size());
  magnitude->assign(size_t(out), 0.0f);
  for (size_t o = 0; o < size_t(out); ++o) {
    const float s = std::fabs(w[o * per]);
    for (size_t i = 0; i < per; ++i) {
      const float v = w[o * per + i];
      if (v == 0.0f || std::fabs(std::fabs(v) - s) > 1e-5f * s) {
        *why = "output channel " + std::to_string(o) + " has weights " + std::to_string(w[o * per]) + " and " +
               std::to_string(v) + (v == 0.0f ? " (a weight of exactly 0 cannot be binarized)" : "") +
               ", not ±1 or ±s per output channel";
        return false;
      }
      (*signs)[o * per + i] = v < 0 ? -1.0f : 1.0f;
    }
    (*magnitude)[o] = s;
  }
  return true;
}

namespace {

Status detect_conv(const Graph& g, const Node& n, Plan* plan) {
  BinaryInput in;
  Status s = resolve_binary_padding(g, *plan, n, &in);
  if (!s.ok() || !in.is_binary) return s;
  const std::string why_binary = n.describe() + ": its input is a binary activation (Sign) but ";
  if (n.inputs.size() < 2 || !g.is_constant(n.inputs[1]))
    return Status::Error(why_binary + "its weights '" + (n.inputs.size() < 2 ? "" : n.inputs[1]) +
                         "' are not a constant initializer");
  const Value& w = *g.find(n.inputs[1]);
  if (w.shape.size() != 4) return Status::Error(n.describe() + ": only 2-D convolutions are supported");
  BinaryConvSpec spec;
  spec.node = n.name;
  spec.input = in.value;
  spec.output = n.outputs[0];
  spec.out_c = int(w.shape[0]);
  std::string why;
  if (!split_sign_magnitude(w.data, w.shape[0], &spec.weights, &spec.multiplier, &why))
    return Status::Error(why_binary + "its weights are not binary: " + why);
  spec.bias.assign(size_t(spec.out_c), 0.0f);
  if (n.inputs.size() > 2 && !n.inputs[2].empty()) {
    if (!g.is_constant(n.inputs[2])) return Status::Error(n.describe() + ": bias is not a constant initializer");
    spec.bias = g.find(n.inputs[2])->data;
  }
  BinaryConv2DParams& p = spec.params;
  p.kernel_h = int(w.shape[2]);
  p.kernel_w = int(w.shape[3]);
  const auto strides = n.get_ints("strides", {1, 1});
  const auto dilations = n.get_ints("dilations", {1, 1});
  p.stride_h = int(strides[0]);
  p.stride_w = int(strides[1]);
  p.dilation_h = int(dilations[0]);
  p.dilation_w = int(dilations[1]);
  p.groups = int(n.get_int("group", 1));
  p.pad_top = in.pads[0];
  p.pad_left = in.pads[1];
  p.pad_bottom = in.pads[2];
  p.pad_right = in.pads[3];
  p.pad_mode = in.mode;
  if (!in.absorbed_pad.empty()) {
    spec.folded.push_back(in.absorbed_pad);
    plan->folded_into[in.absorbed_pad] = "pad mode of binary conv '" + n.name + "'";
  }
  plan->value_to_conv[spec.output] = n.name;
  plan->convs[n.name] = spec;
  return Status::Ok();
}

Status detect_fully_connected(const Graph& g, const Node& n, Plan* plan) {
  if (n.inputs.size() < 2 || plan->binary_values.count(n.inputs[0]) == 0 || !g.is_constant(n.inputs[1])) return Status::Ok();
  const Value* x = g.find(n.inputs[0]);
  const Value& b = *g.find(n.inputs[1]);
  if (!x->shape_known || x->shape.size() != 2 || b.shape.size() != 2) return Status::Ok();
  const bool gemm = n.op_type == "Gemm";
  if (gemm && n.get_int("transA", 0) != 0) return Status::Ok();
  const bool trans_b = gemm && n.get_int("transB", 0) != 0;
  const int64_t out = trans_b ? b.shape[0] : b.shape[1], k = trans_b ? b.shape[1] : b.shape[0];
  std::vector<float> w(size_t(out * k));  // [out][in]
  for (int64_t o = 0; o < out; ++o)
    for (int64_t i = 0; i < k; ++i) w[size_t(o * k + i)] = trans_b ? b.data[size_t(o * k + i)] : b.data[size_t(i * out + o)];
  BinaryConvSpec spec;
  std::string why;
  if (!split_sign_magnitude(w, out, &spec.weights, &spec.multiplier, &why)) return Status::Ok();  // float FC
  spec.node = n.name;
  spec.fully_connected = true;
  spec.input = n.inputs[0];
  spec.output = n.outputs[0];
  spec.out_c = int(out);
  const float alpha = gemm ? n.get_float("alpha", 1.0f) : 1.0f;
  const float beta = gemm ? n.get_float("beta", 1.0f) : 1.0f;
  for (float& m : spec.multiplier) m *= alpha;
  spec.bias.assign(size_t(out), 0.0f);
  if (gemm && n.inputs.size() > 2 && !n.inputs[2].empty()) {
    std::vector<float> c;
    if (!per_channel_constant(g, n.inputs[2], out, 2, 1, &c))
      return Status::Error(n.describe() + ": bias C must be a constant of [out] or [1, out] values");
    for (int64_t o = 0; o < out; ++o) spec.bias[size_t(o)] = beta * c[size_t(o)];
  }
  plan->value_to_conv[spec.output] = n.name;
  plan->convs[n.name] = spec;
  return Status::Ok();
}

}  // namespace

Status detect_binary_convs(const Graph& g, Plan* plan) {
  for (const Node& n : g.nodes) {
    Status s = Status::Ok();
    if (n.op_type == "Conv") s = detect_conv(g, n, plan);
    else if (n.op_type == "Gemm" || n.op_type == "MatMul") s = detect_fully_connected(g, n, plan);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace onebit::converter
