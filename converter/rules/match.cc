#include "rules/match.h"

#include <cmath>
#include <cstdio>

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

bool scalar_const(const Graph& g, ValueId v, double* c) {
  const Tensor* t = g.constant(v);
  if (t == nullptr || t->elements() != 1) return false;
  *c = double(t->as_float(0));
  return std::isfinite(*c);
}

bool all_equal(const Graph& g, ValueId v, float x) {
  const Tensor* t = g.constant(v);
  if (t == nullptr || t->elements() < 1) return false;
  for (int64_t k = 0; k < t->elements(); ++k)
    if (t->as_float(k) != x) return false;
  return true;
}

namespace {
// The bounds as constants, missing ones ±inf; false when one is not a constant scalar.
bool constant_clip_bounds(const Graph& g, const Node& clip, float* lo, float* hi) {
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
}  // namespace

bool clip_bounds(const Graph& g, const Node& clip, float* lo, float* hi) {
  return constant_clip_bounds(g, clip, lo, hi) && *lo < *hi;  // false for NaN bounds too
}

std::string clip_bounds_problem(const Graph& g, const Node& clip) {
  float lo, hi;
  if (!constant_clip_bounds(g, clip, &lo, &hi) || lo < hi) return "";
  char text[160];
  if (std::isnan(lo) || std::isnan(hi))
    std::snprintf(text, sizeof text, "its bound is NaN (min %g, max %g): every output is NaN", double(lo), double(hi));
  else
    std::snprintf(text, sizeof text, "its min %g %s its max %g: ONNX defines every output as max then, a constant",
                  double(lo), lo == hi ? "equals" : "exceeds", double(hi));
  return text;
}

ValueId walk_producers(const Graph& g, ValueId v, int max_depth,
                       const std::function<bool(const Node&, ValueId, ValueId*)>& step) {
  for (int depth = 0; depth < max_depth; ++depth) {
    const Node* p = g.producer(v);
    ValueId in = kNoId;
    if (p == nullptr || p->dead || !step(*p, v, &in)) break;
    v = in;
  }
  return v;
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

// (match.h) Splits w ([out][rest]) into ±1 signs and per-output magnitudes; false with *why if a row is not ±s.
bool split_sign_magnitude(const std::vector<float>& w, int64_t out, std::vector<float>* signs, std::vector<float>* mag,
                    std::string* why) {
  if (out <= 0 || w.empty() || w.size() % size_t(out) != 0) {
    *why = "weight count is not a multiple of the output channels";
    return false;
  }
  const size_t per = w.size() / size_t(out);
  signs->resize(w.size());
  mag->assign(size_t(out), 0.0f);
  for (size_t o = 0; o < size_t(out); ++o) {
    double sum = 0;
    for (size_t i = 0; i < per; ++i) sum += std::fabs(w[o * per + i]);
    const float s = float(sum / double(per));
    for (size_t i = 0; i < per; ++i) {
      const float v = w[o * per + i];
      if (v == 0.0f || !(std::fabs(std::fabs(v) - s) <= 1e-5f * s)) {
        *why = "output channel " + std::to_string(o) + " has weight " + std::to_string(v) +
               (v == 0.0f ? " (a weight of exactly 0 cannot be binarized)"
                          : " where its mean magnitude is " + std::to_string(s)) +
               ", not ±1 or ±s per output channel";
        return false;
      }
      (*signs)[o * per + i] = v < 0 ? -1.0f : 1.0f;
    }
    (*mag)[o] = s;
  }
  return true;
}

// [out][in] weights of a Gemm / MatMul with constant B, or false.
bool fc_weight_matrix(const Graph& g, const Node& n, std::vector<float>* w, int64_t* out, int64_t* k) {
  const Tensor* b = g.constant(n.in(1));
  if (b == nullptr || !b->is_float() || b->shape.size() != 2) return false;
  const bool gemm = n.op == "Gemm";
  if (gemm && n.i("transA")) return false;
  const bool tb = gemm && n.i("transB");
  *out = tb ? b->shape[0] : b->shape[1];
  *k = tb ? b->shape[1] : b->shape[0];
  w->resize(size_t(*out * *k));
  const float alpha = gemm ? n.f("alpha") : 1.0f;
  for (int64_t o = 0; o < *out; ++o)
    for (int64_t i = 0; i < *k; ++i) (*w)[size_t(o * *k + i)] = alpha * (tb ? b->f[size_t(o * *k + i)] : b->f[size_t(i * *out + o)]);
  return true;
}

}  // namespace onebit::converter
