#include "plan.h"

#include <cmath>

namespace onebit::converter {

Status batch_norm_affine(const Graph& g, const Node& bn, std::vector<float>* scale, std::vector<float>* shift) {
  if (bn.inputs.size() < 5) return Status::Error(bn.describe() + ": expected 5 inputs");
  for (size_t i = 1; i < 5; ++i)
    if (!g.is_constant(bn.inputs[i]))
      return Status::Error(bn.describe() + ": parameter '" + bn.inputs[i] + "' is not a constant initializer");
  const auto& gamma = g.find(bn.inputs[1])->data;
  const auto& beta = g.find(bn.inputs[2])->data;
  const auto& mean = g.find(bn.inputs[3])->data;
  const auto& var = g.find(bn.inputs[4])->data;
  const size_t c = gamma.size();
  if (beta.size() != c || mean.size() != c || var.size() != c)
    return Status::Error(bn.describe() + ": scale, bias, mean and var must have the same length");
  const float eps = bn.get_float("epsilon", 1e-5f);
  scale->resize(c);
  shift->resize(c);
  for (size_t i = 0; i < c; ++i) {
    (*scale)[i] = gamma[i] / std::sqrt(var[i] + eps);
    (*shift)[i] = beta[i] - mean[i] * (*scale)[i];
  }
  return Status::Ok();
}

bool per_channel_constant(const Graph& g, const std::string& name, int64_t channels, int rank, int channel_axis,
                          std::vector<float>* out) {
  const Value* v = g.find(name);
  if (v == nullptr || !v->is_constant) return false;
  if (v->elements() == 1) {
    out->assign(size_t(channels), v->data.empty() ? 0.0f : v->data[0]);
    return true;
  }
  if (int(v->shape.size()) > rank) return false;
  const int offset = rank - int(v->shape.size());
  for (int d = 0; d < int(v->shape.size()); ++d) {
    const int64_t want = d + offset == channel_axis ? channels : 1;
    if (v->shape[size_t(d)] != want) return false;
  }
  *out = v->data;
  return int64_t(out->size()) == channels;
}

}  // namespace onebit::converter

namespace onebit::converter {
Status clip_bounds(const Graph& g, const Node& clip, float* lo, float* hi) {
  *lo = clip.get_float("min", -__builtin_huge_valf());
  *hi = clip.get_float("max", __builtin_huge_valf());
  for (size_t i = 1; i < clip.inputs.size() && i < 3; ++i) {
    if (clip.inputs[i].empty()) continue;
    const Value* v = g.find(clip.inputs[i]);
    if (v == nullptr || !v->is_constant || v->data.size() != 1)
      return Status::Error(clip.describe() + ": bound '" + clip.inputs[i] + "' is not a constant scalar");
    (i == 1 ? *lo : *hi) = v->data[0];
  }
  return Status::Ok();
}
}  // namespace onebit::converter
