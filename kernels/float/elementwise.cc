// Portable float element-wise kernels: clamp (ReLU), PReLU with a per-channel slope, and Add / Mul with NumPy
// broadcasting up to kFloatAddMaxRank dimensions and an output clamp. Order of operations: float.h.
#include <cmath>
#include <cstddef>

#include "float/float-common.h"
#include "onebit/kernels/float.h"

namespace onebit::kernels {

void clamp_f32(size_t n, const float* x, float lo, float hi, float* y) {
  for (size_t i = 0; i < n; ++i) y[i] = clamp_value(x[i], lo, hi);
}

void prelu_f32(size_t rows, size_t channels, const float* x, const float* slope, float* y) {
  for (size_t r = 0; r < rows; ++r) {
    const float* in = x + r * channels;
    float* out = y + r * channels;
    for (size_t c = 0; c < channels; ++c) out[c] = in[c] < 0.0f ? in[c] * slope[c] : in[c];
  }
}

bool float_add_shape(int rank_a, const int* a, int rank_b, const int* b, float lo, float hi, FloatAdd* g) {
  if (rank_a < 1 || rank_a > kFloatAddMaxRank || rank_b < 1 || rank_b > kFloatAddMaxRank) return false;
  const int rank = rank_a > rank_b ? rank_a : rank_b;
  FloatAdd r{};
  r.rank = rank;
  r.clamp_min = lo;
  r.clamp_max = hi;
  for (int d = 0; d < rank; ++d) {
    const int da = d < rank - rank_a ? 1 : a[d - (rank - rank_a)];
    const int db = d < rank - rank_b ? 1 : b[d - (rank - rank_b)];
    if (da < 1 || db < 1 || (da != db && da != 1 && db != 1)) return false;
    r.a[d] = da;
    r.b[d] = db;
    r.out[d] = da == 1 ? db : da;
  }
  *g = r;
  return true;
}

size_t float_add_rows(const FloatAdd& g) {
  size_t rows = 1;
  for (int d = 0; d + 1 < g.rank; ++d) rows *= size_t(g.out[d]);
  return rows;
}

namespace {

/// Element strides of an input over the output's dimensions: 0 along a stretched dimension.
void broadcast_strides(const FloatAdd& g, const int* shape, size_t* stride) {
  size_t s = 1;
  for (int d = g.rank - 1; d >= 0; --d) {
    stride[d] = shape[d] == 1 ? 0 : s;
    s *= size_t(shape[d]);
  }
}

/// y = a + b (Add) or a * b (Mul).
struct Sum {
  static float apply(float a, float b) { return a + b; }
};
struct Product {
  static float apply(float a, float b) { return a * b; }
};

/// One output row of `n` elements: a and b each advance by 1 or stay (stride 0); Clamp false when the
/// bounds are -inf / +inf (the clamp then changes nothing, NaN included, and is skipped).
template <class Op, bool Clamp>
void binary_row(const float* a, bool a_steps, const float* b, bool b_steps, size_t n, float lo, float hi, float* y) {
  auto out = [lo, hi](float v) { return Clamp ? clamp_value(v, lo, hi) : v; };
  if (a_steps && b_steps) {
    for (size_t i = 0; i < n; ++i) y[i] = out(Op::apply(a[i], b[i]));
  } else if (a_steps) {
    const float bv = b[0];
    for (size_t i = 0; i < n; ++i) y[i] = out(Op::apply(a[i], bv));
  } else if (b_steps) {
    const float av = a[0];
    for (size_t i = 0; i < n; ++i) y[i] = out(Op::apply(av, b[i]));
  } else {
    const float v = out(Op::apply(a[0], b[0]));
    for (size_t i = 0; i < n; ++i) y[i] = v;
  }
}

/// y = clamp(a op b) over output rows [row_begin, row_end) of the broadcast geometry g.
template <class Op>
void binary_f32(const FloatAdd& g, const float* a, const float* b, float* y, size_t row_begin, size_t row_end) {
  size_t sa[kFloatAddMaxRank], sb[kFloatAddMaxRank];
  broadcast_strides(g, g.a, sa);
  broadcast_strides(g, g.b, sb);
  const int last = g.rank - 1;
  const size_t n = size_t(g.out[last]);
  const bool clamped = !(g.clamp_min == -INFINITY && g.clamp_max == INFINITY);
  for (size_t row = row_begin; row < row_end; ++row) {
    // The row's index along each leading dimension, last leading dimension fastest.
    size_t rest = row, oa = 0, ob = 0;
    for (int d = last - 1; d >= 0; --d) {
      const size_t i = rest % size_t(g.out[d]);
      rest /= size_t(g.out[d]);
      oa += i * sa[d];
      ob += i * sb[d];
    }
    if (clamped)
      binary_row<Op, true>(a + oa, sa[last] != 0, b + ob, sb[last] != 0, n, g.clamp_min, g.clamp_max, y + row * n);
    else
      binary_row<Op, false>(a + oa, sa[last] != 0, b + ob, sb[last] != 0, n, g.clamp_min, g.clamp_max, y + row * n);
  }
}

}  // namespace

void add_f32(const FloatAdd& g, const float* a, const float* b, float* y, size_t row_begin, size_t row_end) {
  binary_f32<Sum>(g, a, b, y, row_begin, row_end);
}

void mul_f32(const FloatAdd& g, const float* a, const float* b, float* y, size_t row_begin, size_t row_end) {
  binary_f32<Product>(g, a, b, y, row_begin, row_end);
}

}  // namespace onebit::kernels
