#include "rules/match.h"

#include <cmath>

namespace onebit::converter {

const Node* producer_of(const Graph& g, ValueId v, const char* op) {
  const Node* p = g.producer(v);
  return p != nullptr && !p->dead && p->op == op ? p : nullptr;
}

bool per_channel(const Graph& g, ValueId v, int64_t channels, size_t rank, std::vector<float>* out) {
  const Tensor* t = g.constant(v);
  if (t == nullptr || !t->is_float()) return false;
  if (t->elements() == 1) {
    out->assign(size_t(channels), t->f[0]);
    return true;
  }
  if (t->shape.size() > rank || rank < 2) return false;
  const size_t offset = rank - t->shape.size();
  for (size_t d = 0; d < t->shape.size(); ++d)
    if (t->shape[d] != (d + offset == 1 ? channels : 1)) return false;
  *out = t->f;
  return int64_t(out->size()) == channels;
}

bool all_equal(const Graph& g, ValueId v, float x) {
  const Tensor* t = g.constant(v);
  if (t == nullptr || t->elements() < 1) return false;
  for (int64_t k = 0; k < t->elements(); ++k)
    if (t->as_float(k) != x) return false;
  return true;
}

bool clip_bounds(const Graph& g, const Node& clip, float* lo, float* hi) {
  *lo = -INFINITY;
  *hi = INFINITY;
  for (size_t k = 1; k < 3; ++k) {
    if (clip.in(k) == kNoId) continue;
    const Tensor* t = g.constant(clip.in(k));
    if (t == nullptr || t->elements() != 1) return false;
    (k == 1 ? *lo : *hi) = t->as_float(0);
  }
  return true;
}

const std::vector<int64_t>* known_shape(const Graph& g, ValueId v) {
  return v != kNoId && g.value(v).shape_known ? &g.value(v).shape : nullptr;
}

ValueId vector_constant(Graph& g, const std::string& name, std::vector<float> v) {
  const int64_t n = int64_t(v.size());
  return g.add_constant(name, Tensor::floats({n}, std::move(v)));
}

bool batch_norm_affine(const Graph& g, const Node& bn, std::vector<float>* scale, std::vector<float>* shift) {
  const Tensor* p[4];
  for (size_t k = 0; k < 4; ++k) {
    p[k] = g.constant(bn.in(k + 1));
    if (p[k] == nullptr || !p[k]->is_float() || p[k]->elements() != p[0]->elements()) return false;
  }
  const size_t c = size_t(p[0]->elements());
  scale->resize(c);
  shift->resize(c);
  const float eps = bn.f("epsilon");
  for (size_t i = 0; i < c; ++i) {
    (*scale)[i] = p[0]->f[i] / std::sqrt(p[3]->f[i] + eps);
    (*shift)[i] = p[1]->f[i] - p[2]->f[i] * (*scale)[i];
  }
  return true;
}

}  // namespace onebit::converter
