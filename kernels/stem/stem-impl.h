// The stem ukernels' shared body (onebit/kernels/stem.h), instantiated by each ISA's file with its vector
// type V (compiled with that ISA's flags, so this header holds no intrinsics):
//   V::T                       a vector of V::kLanes floats
//   V::kLanes, V::kVectors     lanes per vector, vectors per tile (block = kLanes * kVectors channels)
//   V::kPixels                 output pixels per tile of kVectors vectors (kPixels * kVectors accumulators
//                              live in registers); a tile of fewer vectors (the last block of a layer with
//                              fewer channels) takes more pixels for the same accumulators, up to 12
//   V::zero(), V::load(p), V::broadcast(p) (*p in every lane), V::fma(acc, a, b) (acc + a * b),
//   V::add(a, b), V::set1(v), V::clamp(v, lo, hi), V::store(p, v, n) (the first n <= kLanes lanes),
//   V::max(acc, v) (acc < v ? v : acc in every lane, exactly: max_pool2d_f32's comparison)
//
// Walk: each output row splits into the pixels whose window lies inside the row (interior: tiles of kPixels
// with the whole kernel row as one run of kernel_w * in_c contiguous taps) and the edge pixels (one at a
// time, the run clipped to the real taps). Rows of the kernel that fall in the vertical padding are skipped
// for the whole row. Per tap: kVectors weight loads, kPixels broadcasts, kPixels * kVectors FMAs.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "float/float-common.h"
#include "onebit/kernels/float.h"

namespace onebit::kernels::stem {

/// One tile's operands: kernel rows [0, rows) of `run` taps each, inputs of pixel p at x + p * x_step
/// (+ ky * x_row), weights at w (+ ky * w_row, + tap * block), outputs of pixel p at y + p * y_step.
struct Tile {
  const float* x;
  ptrdiff_t x_row, x_step;
  const float* w;
  ptrdiff_t w_row;
  int rows, run;
  const float* bias;  // [block]
  float* y;
  ptrdiff_t y_step;
  int valid;  // output channels of the block that exist (the stores past them are masked)
  float lo, hi;
};

template <class V, int P, int N>
void tile(const Tile& t) {
  using T = typename V::T;
  constexpr int kBlock = V::kLanes * V::kVectors;
  T acc[P][N];
  ONEBIT_UNROLL
  for (int p = 0; p < P; ++p)
    ONEBIT_UNROLL
    for (int n = 0; n < N; ++n) acc[p][n] = V::zero();
  const float* xr = t.x;
  const float* wr = t.w;
  for (int r = 0; r < t.rows; ++r, xr += t.x_row, wr += t.w_row) {
    const float* xp[P];
    ONEBIT_UNROLL
    for (int p = 0; p < P; ++p) xp[p] = xr + p * t.x_step;
    const float* wj = wr;
    for (int j = 0; j < t.run; ++j, wj += kBlock) {
      T wv[N];
      ONEBIT_UNROLL
      for (int n = 0; n < N; ++n) wv[n] = V::load(wj + n * V::kLanes);
      ONEBIT_UNROLL
      for (int p = 0; p < P; ++p) {
        const T xv = V::broadcast(xp[p] + j);
        ONEBIT_UNROLL
        for (int n = 0; n < N; ++n) acc[p][n] = V::fma(acc[p][n], xv, wv[n]);
      }
    }
  }
  const T lo = V::set1(t.lo), hi = V::set1(t.hi);
  ONEBIT_UNROLL
  for (int n = 0; n < N; ++n) {
    const T b = V::load(t.bias + n * V::kLanes);
    const int lanes = std::min(V::kLanes, t.valid - n * V::kLanes);
    ONEBIT_UNROLL
    for (int p = 0; p < P; ++p)
      V::store(t.y + p * t.y_step + n * V::kLanes, V::clamp(V::add(acc[p][n], b), lo, hi), lanes);
  }
}

/// Pixels per tile of N vectors: the accumulators of kPixels x kVectors, at most 12 pixels.
template <class V>
constexpr int pixels(int n) {
  return std::min(12, V::kPixels * V::kVectors / n);
}

/// tile<V, p, n> for runtime p in 1..pixels<V>(n), n in 1..N.
template <class V, int N, int P = pixels<V>(N)>
void tile_p(int p, const Tile& t) {
  if constexpr (P > 1) {
    if (p < P) return tile_p<V, N, P - 1>(p, t);
  }
  tile<V, P, N>(t);
}
template <class V, int N = V::kVectors>
void tile_pn(int p, int n, const Tile& t) {
  if constexpr (N > 1) {
    if (n < N) return tile_pn<V, N - 1>(p, n, t);
  }
  tile_p<V, N>(p, t);
}

/// The output pixels of a row whose window lies wholly inside the input row: [*lo, *hi).
inline void interior(const FloatConv2D& g, int* lo, int* hi) {
  int a = 0;
  while (a < g.out_w && a * g.stride_w - g.pad_left < 0) ++a;
  int b = a;
  while (b < g.out_w && b * g.stride_w - g.pad_left + g.kernel_w <= g.in_w) ++b;
  *lo = a, *hi = b;
}

/// One output row (r of batch * out_h), channel block `block_index`, into the tile template of V; y_row is
/// that row's first output.
template <class V>
void row_block(const FloatConv2D& g, const float* x, const float* packed, float* y_row, int r, int block_index,
               int ox_lo, int ox_hi) {
  constexpr int kBlock = V::kLanes * V::kVectors;
  const int c = g.in_c, kw = g.kernel_w;
  const int batch = r / g.out_h, iy0 = (r % g.out_h) * g.stride_h - g.pad_top;
  const int ky0 = std::max(0, -iy0), ky1 = std::min(g.kernel_h, g.in_h - iy0);
  const ptrdiff_t block_floats = kBlock + ptrdiff_t(g.kernel_h) * kw * c * kBlock;
  Tile t;
  t.bias = packed + block_index * block_floats;
  t.x_row = ptrdiff_t(g.in_w) * c;
  t.x_step = ptrdiff_t(g.stride_w) * c;
  t.w_row = ptrdiff_t(kw) * c * kBlock;
  t.rows = std::max(0, ky1 - ky0);
  t.y_step = g.out_c;
  t.valid = std::min(kBlock, g.out_c - block_index * kBlock);
  t.lo = g.clamp_min, t.hi = g.clamp_max;
  const int vectors = (t.valid + V::kLanes - 1) / V::kLanes;
  const float* x_row0 = x + (ptrdiff_t(batch) * g.in_h + (t.rows > 0 ? iy0 + ky0 : 0)) * t.x_row;
  const float* w_row0 = t.bias + kBlock + (t.rows > 0 ? ky0 * t.w_row : 0);
  y_row += block_index * kBlock;
  // Interior pixels: whole kernel rows, a tile's pixels at a time.
  t.run = kw * c;
  t.w = w_row0;
  const int step = pixels<V>(vectors);
  for (int ox = ox_lo; ox < ox_hi; ox += step) {
    t.x = x_row0 + ptrdiff_t(ox * g.stride_w - g.pad_left) * c;
    t.y = y_row + ptrdiff_t(ox) * g.out_c;
    tile_pn<V>(std::min(step, ox_hi - ox), vectors, t);
  }
  // Edge pixels: one at a time, the kernel row clipped to the input row.
  for (int ox = 0; ox < g.out_w; ++ox) {
    if (ox == ox_lo) ox = std::max(ox_lo, ox_hi);
    if (ox >= g.out_w) break;
    const int ix0 = ox * g.stride_w - g.pad_left;
    const int kx0 = std::max(0, -ix0), kx1 = std::min(kw, g.in_w - ix0);
    t.run = std::max(0, kx1 - kx0) * c;
    t.x = x_row0 + (t.run > 0 ? ptrdiff_t(ix0 + kx0) * c : 0);  // no tap: pointers that stay in bounds
    t.w = w_row0 + (t.run > 0 ? ptrdiff_t(kx0) * c * kBlock : 0);
    t.y = y_row + ptrdiff_t(ox) * g.out_c;
    tile_pn<V>(1, vectors, t);
  }
}

/// The ukernel: output rows [row_begin, row_end), every channel block, y the first output of row row_begin
/// (the rows follow one another from there).
template <class V>
void rows(const FloatConv2D& g, const float* x, const float* packed, float* y, int row_begin, int row_end) {
  constexpr int kBlock = V::kLanes * V::kVectors;
  const int blocks = (g.out_c + kBlock - 1) / kBlock;
  int ox_lo, ox_hi;
  interior(g, &ox_lo, &ox_hi);
  const ptrdiff_t row_floats = ptrdiff_t(g.out_w) * g.out_c;
  for (int r = row_begin; r < row_end; ++r)
    for (int b = 0; b < blocks; ++b) row_block<V>(g, x, packed, y + (r - row_begin) * row_floats, r, b, ox_lo, ox_hi);
}

/// A max pool's output row (the ukernels' second function, onebit_stem_max_pool_fn): the window's input
/// rows[0, n) (n >= 1, p.in_w * p.channels floats each), their maximum into `columns` (unless n = 1), then
/// each output pixel the maximum of its window's pixels there (none: -inf) into y. Whole vectors, then the
/// channels left over one by one.
template <class V>
void max_pool_row(const FloatPool2D& p, const float* const* rows, int n, float* columns, float* y) {
  using T = typename V::T;
  const ptrdiff_t c = p.channels, row_floats = ptrdiff_t(p.in_w) * c;
  const float* m = rows[0];
  if (n > 1) {
    ptrdiff_t i = 0;
    for (; i + V::kLanes <= row_floats; i += V::kLanes) {
      T acc = V::load(rows[0] + i);
      for (int r = 1; r < n; ++r) acc = V::max(acc, V::load(rows[r] + i));
      V::store(columns + i, acc, V::kLanes);
    }
    for (; i < row_floats; ++i) {
      float acc = rows[0][i];
      for (int r = 1; r < n; ++r) acc = acc < rows[r][i] ? rows[r][i] : acc;
      columns[i] = acc;
    }
    m = columns;
  }
  for (int ow = 0; ow < p.out_w; ++ow) {
    const int w0 = ow * p.stride_w - p.pad_left;
    const int wb = std::max(w0, 0), pixels = std::min(w0 + p.kernel_w, p.in_w) - wb;
    const float* v = m + wb * c;
    float* out = y + ow * c;
    ptrdiff_t k = 0;
    for (; k + V::kLanes <= c; k += V::kLanes) {
      T acc = V::set1(-INFINITY);
      for (int px = 0; px < pixels; ++px) acc = V::max(acc, V::load(v + px * c + k));
      V::store(out + k, acc, V::kLanes);
    }
    for (; k < c; ++k) {
      float acc = -INFINITY;
      for (int px = 0; px < pixels; ++px) acc = acc < v[px * c + k] ? v[px * c + k] : acc;
      out[k] = acc;
    }
  }
}

}  // namespace onebit::kernels::stem
