// How the portable convolutions (conv2d.cc: float weights; conv2d-binary-weights.cc: 1-bit weights and a
// scale) walk their output (internal header). Both hold a tile of outputs at once, kTilePixels output
// pixels of a row x kTileOutputs output channels of one group, in local accumulators, and differ only in
// what a tile does with its taps; this file is the rest: rows, the kernel rows and columns a pixel's window
// keeps inside the image, pixel runs, groups and channel tiles.
//
// Pixels whose window crosses the left / right padding run as tiles of one pixel over their own kx range;
// the top / bottom padding limits ky for the whole row. Depthwise layers (one input and one output channel
// per group) take blocks of a pixel's channels instead, which x holds contiguously (not on Cortex-M, where
// flash counts more: there they run as groups of the general tiles, with the same sums).
//
// A layer type L derives from ConvWalk and provides
//   template <int P, int O> void tile(const ptrdiff_t* origin, int kx0, int kx1, int o0, float* const* out)
//       outputs [o0, o0 + O) of P pixels (x offsets `origin` of their window's (0, 0) tap at channel 0 of
//       the group, output pointers `out` at channel 0), over kernel columns [kx0, kx1);
//   template <int B> void depthwise_block(ptrdiff_t origin, int kx0, int kx1, int c0, float* y)
//       channels [c0, c0 + B) of a depthwise pixel (channel c reads x channel c).
#pragma once

#include <cmath>
#include <cstddef>

#include "float/float-common.h"
#include "onebit/kernels/float.h"

namespace onebit::kernels {

inline constexpr int kTilePixels = 4;
inline constexpr int kTileOutputs = 8;

/// [k0, k1): the kernel taps k with 0 <= origin + k * dilation < size.
inline void tap_range(int origin, int dilation, int kernel, int size, int* k0, int* k1) {
  int lo = 0;
  if (origin < 0) lo = (-origin + dilation - 1) / dilation;
  int hi = kernel;
  if (origin + (kernel - 1) * dilation >= size) hi = origin >= size ? 0 : (size - 1 - origin) / dilation + 1;
  *k0 = lo;
  *k1 = hi > lo ? hi : lo;
}

/// One output row's view of the layer: strides in floats, the row's ky range and where its pixels start.
struct ConvWalk {
  const FloatConv2D* g;
  const float* x;
  const float* bias;
  ptrdiff_t ky_step;     // x offset between kernel rows: dilation_h * in_w * in_c
  ptrdiff_t kx_step;     // x offset between kernel columns: dilation_w * in_c
  ptrdiff_t ox_step;     // x offset between output pixels: stride_w * in_c
  int cin_g, cout_g;
  bool clamped;          // false for the clamp -inf..+inf, which changes nothing (NaN included): skipped
  int ky0, ky1;          // the kernel rows inside the image for this row
  ptrdiff_t row_origin;  // x offset of (n, iy0, 0, 0), iy0 = oy * stride_h - pad_top (may be negative)

  ConvWalk(const FloatConv2D& geometry, const float* input, const float* bias_or_null)
      : g(&geometry), x(input), bias(bias_or_null) {
    cin_g = g->in_c / g->groups;
    cout_g = g->out_c / g->groups;
    clamped = !(g->clamp_min == -INFINITY && g->clamp_max == INFINITY);
    ky_step = ptrdiff_t(g->dilation_h) * g->in_w * g->in_c;
    kx_step = ptrdiff_t(g->dilation_w) * g->in_c;
    ox_step = ptrdiff_t(g->stride_w) * g->in_c;
    ky0 = ky1 = 0;
    row_origin = 0;
  }
};

/// Zeroes a tile's accumulators (the start of every output's sum).
template <int P, int O>
void zero_tile(float (&acc)[P][O]) {
  ONEBIT_UNROLL
  for (int p = 0; p < P; ++p)
    ONEBIT_UNROLL
    for (int j = 0; j < O; ++j) acc[p][j] = 0.0f;
}

/// Calls taps(ky, kx, xp) for the kernel rows [ky0, ky1) of the row and the columns [kx0, kx_end), ky then
/// kx ascending, xp[p] pointing at P pixels' input at that tap (x offsets `origin` of their window's (0, 0)
/// tap, channel 0 of the group).
template <int P, class Taps>
void for_each_tap(const ConvWalk& r, const ptrdiff_t* origin, int kx0, int kx_end, Taps taps) {
  for (int ky = r.ky0; ky < r.ky1; ++ky) {
    for (int kx = kx0; kx < kx_end; ++kx) {
      const ptrdiff_t tap = ptrdiff_t(ky) * r.ky_step + ptrdiff_t(kx) * r.kx_step;
      const float* xp[P];
      ONEBIT_UNROLL
      for (int p = 0; p < P; ++p) xp[p] = r.x + (origin[p] + tap);
      taps(ky, kx, xp);
    }
  }
}

/// The sums of channels [c0, c0 + B) of a depthwise pixel (channel c reads x channel c and weights
/// w[c * kernel_h * kernel_w + ky * kernel_w + kx], as float(w) by `to_float`), in the order of float.h:
/// acc = 0.0f, then acc = acc + x * weight over the real taps, ky then kx ascending.
template <int B, class T, class ToFloat>
void depthwise_sums(const ConvWalk& r, const T* w, ptrdiff_t origin, int kx0, int kx1, int c0, ToFloat to_float,
                    float* acc) {
  ONEBIT_UNROLL
  for (int j = 0; j < B; ++j) acc[j] = 0.0f;
  const int kw = r.g->kernel_w;
  const ptrdiff_t per_channel = ptrdiff_t(r.g->kernel_h) * kw;
  for (int ky = r.ky0; ky < r.ky1; ++ky)
    for (int kx = kx0; kx < kx1; ++kx) {
      const float* xp = r.x + (origin + ptrdiff_t(ky) * r.ky_step + ptrdiff_t(kx) * r.kx_step + c0);
      const T* wt = w + (ptrdiff_t(c0) * per_channel + ky * kw + kx);
      ONEBIT_UNROLL
      for (int j = 0; j < B; ++j) acc[j] = acc[j] + xp[j] * to_float(wt[j * per_channel]);
    }
}

/// Every output channel of P pixels, group by group, in tiles of 8, then 4, then 1 channels (on Cortex-M
/// 8, then 1: one tile width fewer in flash; every output's sum is the same, only the grouping differs).
template <int P, class L>
void conv_pixels(L& r, const ptrdiff_t* origin, int kx0, int kx1, float* const* out) {
  for (int group = 0; group < r.g->groups; ++group) {
    ptrdiff_t o[P];
    for (int p = 0; p < P; ++p) o[p] = origin[p] + ptrdiff_t(group) * r.cin_g;
    int c = group * r.cout_g;
    const int end = c + r.cout_g;
    for (; end - c >= kTileOutputs; c += kTileOutputs) r.template tile<P, kTileOutputs>(o, kx0, kx1, c, out);
#if !ONEBIT_MCU
    for (; end - c >= 4; c += 4) r.template tile<P, 4>(o, kx0, kx1, c, out);
#endif
    for (; c < end; ++c) r.template tile<P, 1>(o, kx0, kx1, c, out);
  }
}

/// Depthwise (cin_g = cout_g = 1): the pixel's channels in blocks of kTileOutputs, then one by one.
template <class L>
void depthwise_pixel(L& r, ptrdiff_t origin, int kx0, int kx1, float* y) {
  const int channels = r.g->out_c;
  int c = 0;
  for (; channels - c >= kTileOutputs; c += kTileOutputs)
    r.template depthwise_block<kTileOutputs>(origin, kx0, kx1, c, y);
  for (; c < channels; ++c) r.template depthwise_block<1>(origin, kx0, kx1, c, y);
}

template <class L>
void conv_row(L& r, float* y_row) {
  const FloatConv2D& g = *r.g;
#if ONEBIT_MCU  // flash: depthwise layers take the general tiles (one output per group: the same sums)
  constexpr bool depthwise = false;
#else
  const bool depthwise = r.cin_g == 1 && r.cout_g == 1;
#endif
  int ox = 0;
  while (ox < g.out_w) {
    const int ix0 = ox * g.stride_w - g.pad_left;
    int kx0 = 0, kx1 = 0;
    tap_range(ix0, g.dilation_w, g.kernel_w, g.in_w, &kx0, &kx1);
    const ptrdiff_t origin = r.row_origin + ptrdiff_t(ix0) * g.in_c;
    float* out = y_row + ptrdiff_t(ox) * g.out_c;
    if (depthwise) {
      depthwise_pixel(r, origin, kx0, kx1, out);
      ++ox;
      continue;
    }
    // A run of kTilePixels pixels whose windows all lie inside horizontally.
    const int last_ix = (ox + kTilePixels - 1) * g.stride_w - g.pad_left + (g.kernel_w - 1) * g.dilation_w;
    if (ix0 >= 0 && ox + kTilePixels <= g.out_w && last_ix < g.in_w) {
      ptrdiff_t origins[kTilePixels];
      float* outs[kTilePixels];
      for (int p = 0; p < kTilePixels; ++p) {
        origins[p] = origin + p * r.ox_step;
        outs[p] = out + p * g.out_c;
      }
      conv_pixels<kTilePixels>(r, origins, 0, g.kernel_w, outs);
      ox += kTilePixels;
      continue;
    }
    conv_pixels<1>(r, &origin, kx0, kx1, &out);
    ++ox;
  }
}

/// Output rows [row_begin, row_end) of batch * out_h into y.
template <class L>
void conv_rows(L& r, float* y, int row_begin, int row_end) {
  const FloatConv2D& g = *r.g;
  for (int row = row_begin; row < row_end; ++row) {
    const int n = row / g.out_h, oy = row % g.out_h;
    const int iy0 = oy * g.stride_h - g.pad_top;
    tap_range(iy0, g.dilation_h, g.kernel_h, g.in_h, &r.ky0, &r.ky1);
    r.row_origin = (ptrdiff_t(n) * g.in_h + iy0) * g.in_w * g.in_c;
    conv_row(r, y + ptrdiff_t(row) * g.out_w * g.out_c);
  }
}

}  // namespace onebit::kernels
