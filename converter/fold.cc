#include "fold.h"

#include <algorithm>
#include <cmath>

namespace onebit::converter {
namespace {

constexpr float kInf = __builtin_huge_valf();

// The one node consuming `value`, or nullptr if there are several, none, or the value is a graph output.
const Node* sole_consumer(const Graph& g, const std::string& value) {
  const Value* v = g.find(value);
  if (v == nullptr || v->is_graph_output || v->consumers.size() != 1) return nullptr;
  return &g.nodes[size_t(v->consumers[0])];
}

// Constant operand of a binary elementwise node whose other operand is `x`; "" if none.
std::string constant_operand(const Graph& g, const Node& n, const std::string& x) {
  if (n.inputs.size() != 2) return "";
  if (n.inputs[0] == x && g.is_constant(n.inputs[1])) return n.inputs[1];
  if (n.op_type != "Sub" && n.op_type != "Div" && n.inputs[1] == x && g.is_constant(n.inputs[0])) return n.inputs[0];
  return "";
}

Status fold_one(const Graph& g, BinaryConvSpec* spec, Plan* plan) {
  BinaryConv2DParams& p = spec->params;
  const int rank = spec->fully_connected ? 2 : 4;
  for (;;) {
    const Node* c = sole_consumer(g, spec->output);
    if (c == nullptr) break;
    const bool clamped = p.clamp_min > -kInf || p.clamp_max < kInf;
    const std::string& op = c->op_type;
    std::vector<float> k;
    if ((op == "Mul" || op == "Div" || op == "Add" || op == "Sub") && !clamped) {
      const std::string operand = constant_operand(g, *c, spec->output);
      if (operand.empty() || !per_channel_constant(g, operand, spec->out_c, rank, 1, &k)) break;
      for (size_t o = 0; o < k.size(); ++o) {
        if (op == "Mul") spec->multiplier[o] *= k[o], spec->bias[o] *= k[o];
        else if (op == "Div") spec->multiplier[o] /= k[o], spec->bias[o] /= k[o];
        else if (op == "Add") spec->bias[o] += k[o];
        else spec->bias[o] -= k[o];
      }
    } else if (op == "BatchNormalization" && !clamped && c->inputs[0] == spec->output) {
      std::vector<float> scale, shift;
      Status s = batch_norm_affine(g, *c, &scale, &shift);
      if (!s.ok()) return s;
      if (int(scale.size()) != spec->out_c) return Status::Error(c->describe() + ": channel count differs from its input");
      for (size_t o = 0; o < scale.size(); ++o) {
        spec->multiplier[o] *= scale[o];
        spec->bias[o] = spec->bias[o] * scale[o] + shift[o];
      }
    } else if (op == "Relu") {
      p.clamp_min = std::max(p.clamp_min, 0.0f);
    } else if (op == "Clip") {
      float lo, hi;
      Status s = clip_bounds(g, *c, &lo, &hi);
      if (!s.ok()) return s;
      p.clamp_min = std::max(p.clamp_min, lo);
      p.clamp_max = std::min(p.clamp_max, hi);
    } else {
      break;
    }
    plan->value_to_conv.erase(spec->output);
    spec->output = c->outputs[0];
    plan->value_to_conv[spec->output] = spec->node;
    spec->folded.push_back(c->name);
    plan->folded_into[c->name] = "output transform of binary " + std::string(spec->fully_connected ? "FC" : "conv") +
                                 " '" + spec->node + "'";
  }
  return Status::Ok();
}

// Every consumer of `value` reads it as bits.
bool all_consumers_binary(const Graph& g, const Plan& plan, const std::string& value) {
  const Value* v = g.find(value);
  if (v == nullptr || v->is_graph_output || v->consumers.empty()) return false;
  for (int ci : g.consumers(value)) {
    const Node& c = g.nodes[size_t(ci)];
    auto conv = plan.convs.find(c.name);
    if (conv != plan.convs.end() && conv->second.input == value) continue;
    if (plan.binary_max_pools.count(c.name)) continue;
    if (c.op_type == "Pad" && plan.folded_into.count(c.name)) {
      // Absorbed into binary convs; fine only if all of its consumers absorbed it.
      bool all = true;
      for (int pi : g.consumers(c.outputs[0])) {
        auto pc = plan.convs.find(g.nodes[size_t(pi)].name);
        all = all && pc != plan.convs.end() && pc->second.input == value;
      }
      if (all && !g.find(c.outputs[0])->is_graph_output) continue;
    }
    return false;
  }
  return true;
}

}  // namespace

Status fold_output_transforms(const Graph& g, Plan* plan) {
  for (auto& [name, spec] : plan->convs) {
    Status s = fold_one(g, &spec, plan);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Status fuse_signs(const Graph& g, Plan* plan) {
  for (auto it = plan->quantizes.begin(); it != plan->quantizes.end();) {
    QuantizeSpec& q = it->second;
    const Node& sign = *g.find_node(q.sign_node);
    const std::string& in = sign.inputs[0];
    const std::string& out = sign.outputs[0];
    auto conv_it = plan->value_to_conv.find(in);
    if (conv_it != plan->value_to_conv.end() && sole_consumer(g, in) == &sign && all_consumers_binary(g, *plan, out)) {
      BinaryConvSpec& spec = plan->convs[conv_it->second];
      BinaryConv2DParams& p = spec.params;
      const bool sign_preserving = (p.clamp_min == -kInf || p.clamp_min < 0) && (p.clamp_max == kInf || p.clamp_max > 0);
      if (sign_preserving) {
        p.bitpacked_output = true;
        p.clamp_min = -kInf;
        p.clamp_max = kInf;
        plan->value_to_conv.erase(conv_it);
        spec.output = out;
        plan->value_to_conv[out] = spec.node;
        spec.folded.push_back(sign.name);
        plan->folded_into[sign.name] = "bitpacked output of binary conv '" + spec.node + "'";
        for (const std::string& f : q.fused) plan->folded_into[f] = "bitpacked output of binary conv '" + spec.node + "'";
        it = plan->quantizes.erase(it);
        continue;
      }
    }
    const Node* bn = g.producer(q.source);
    if (bn != nullptr && bn->op_type == "BatchNormalization" && plan->folded_into.count(bn->name) == 0 &&
        bn->inputs.size() == 5) {
      bool constant = true;
      for (size_t i = 1; i < 5; ++i) constant = constant && g.is_constant(bn->inputs[i]);
      if (constant) {
        const auto& gamma = g.find(bn->inputs[1])->data;
        const auto& beta = g.find(bn->inputs[2])->data;
        const auto& mean = g.find(bn->inputs[3])->data;
        const auto& var = g.find(bn->inputs[4])->data;
        const float eps = bn->get_float("epsilon", 1e-5f);
        const size_t c = gamma.size();
        if (beta.size() != c || mean.size() != c || var.size() != c)
          return Status::Error(bn->describe() + ": scale, bias, mean and var must have the same length");
        q.threshold.assign(c, 0.0f);
        q.flip.assign(c, false);
        q.constant.assign(c, -1);
        for (size_t i = 0; i < c; ++i) {
          const float sigma = std::sqrt(var[i] + eps);
          if (gamma[i] == 0.0f) {
            q.constant[i] = beta[i] < 0 ? 1 : 0;
          } else {
            q.threshold[i] = mean[i] - beta[i] * sigma / gamma[i];
            q.flip[i] = gamma[i] < 0;
          }
        }
        q.fused.push_back(bn->name);
        plan->folded_into[bn->name] = "threshold of Quantize '" + sign.name + "'";
        q.source = bn->inputs[0];
      }
    }
    for (const std::string& f : q.fused)
      if (plan->folded_into.count(f) == 0) plan->folded_into[f] = "Quantize '" + sign.name + "'";
    ++it;
  }
  return Status::Ok();
}

}  // namespace onebit::converter
