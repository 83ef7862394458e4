// Portable float convolution (NHWC x, OHWI weights read where they lie) and fully connected layer (a 1x1
// convolution of a 1x1 image per batch row). Order of operations: float.h.
//
// Speed without reordering: the only independent sums are different outputs, so the loops hold a tile of
// outputs at once, kTilePixels output pixels of a row x kTileOutputs output channels of one group, in local
// accumulators, and walk the taps (ky, kx, i) once for the whole tile: each input value is loaded once per
// kTileOutputs products and each weight once per kTilePixels. Where x holds a kernel row's taps (kx, i)
// contiguously, as the OHWI weights do (groups 1, dilation_w 1), the row is one run of kernel_w * cin_g
// taps. The compiler may vectorize the products along a run and add them one by one (GCC's in-order
// reductions) or work across the tile's outputs; either way every accumulator adds its own products in the
// documented order (the kernel tests check it bit for bit). Pixels whose window crosses the left / right
// padding run as tiles of one pixel over their own kx range; the top / bottom padding limits ky for the
// whole row. Depthwise layers (one input and one output channel per group) take blocks of a pixel's
// channels instead, which x holds contiguously.
// The tile loops are unrolled (ONEBIT_UNROLL) so that the accumulators live in registers even at -Os, which
// does not unroll by itself: on a Cortex-M4 at -Os that is 3.4 instead of 11 instructions per MAC.
#include <cmath>
#include <cstddef>

#include "float/float-common.h"
#include "onebit/kernels/float.h"

namespace onebit::kernels {
namespace {

constexpr int kTilePixels = 4;
constexpr int kTileOutputs = 8;

/// One output row's view of the layer: strides in floats, the row's ky range and where its pixels start.
struct ConvRow {
  const FloatConv2D* g;
  const float* x;
  const float* w;
  const float* bias;
  ptrdiff_t taps;        // weights per output channel: kernel_h * kernel_w * cin_g
  ptrdiff_t ky_step;     // x offset between kernel rows: dilation_h * in_w * in_c
  ptrdiff_t kx_step;     // x offset between kernel columns: dilation_w * in_c
  ptrdiff_t ox_step;     // x offset between output pixels: stride_w * in_c
  int cin_g, cout_g;
  bool flat;             // groups 1 and dilation_w 1: the taps (kx, i) of a kernel row are contiguous in x
  bool clamped;          // false for the clamp -inf..+inf, which changes nothing (NaN included): skipped
  int ky0, ky1;          // the kernel rows inside the image for this row
  ptrdiff_t row_origin;  // x offset of (n, iy0, 0, 0), iy0 = oy * stride_h - pad_top (may be negative)
};

/// [k0, k1): the kernel taps k with 0 <= origin + k * dilation < size.
void tap_range(int origin, int dilation, int kernel, int size, int* k0, int* k1) {
  int lo = 0;
  if (origin < 0) lo = (-origin + dilation - 1) / dilation;
  int hi = kernel;
  if (origin + (kernel - 1) * dilation >= size) hi = origin >= size ? 0 : (size - 1 - origin) / dilation + 1;
  *k0 = lo;
  *k1 = hi > lo ? hi : lo;
}

/// Outputs [o0, o0 + O) of P pixels (x offsets `origin` of their window's (0, 0) tap at channel 0 of the
/// group, output pointers `out` at channel 0), over kernel columns [kx0, kx1).
template <int P, int O>
void conv_tile(const ConvRow& r, const ptrdiff_t* origin, int kx0, int kx1, int o0, float* const* out) {
  float acc[P][O];
  ONEBIT_UNROLL
  for (int p = 0; p < P; ++p)
    ONEBIT_UNROLL
    for (int j = 0; j < O; ++j) acc[p][j] = 0.0f;
  const int kw = r.g->kernel_w, cin = r.cin_g;
  // Where x holds a kernel row's taps (kx, i) contiguously, as the weights do, they are one run.
  const int run = r.flat ? (kx1 - kx0) * cin : cin;
  const int kx_end = r.flat && kx1 > kx0 ? kx0 + 1 : kx1;
  const float* w0 = r.w + ptrdiff_t(o0) * r.taps;
  for (int ky = r.ky0; ky < r.ky1; ++ky) {
    for (int kx = kx0; kx < kx_end; ++kx) {
      const ptrdiff_t tap = ptrdiff_t(ky) * r.ky_step + ptrdiff_t(kx) * r.kx_step;
      const float* xp[P];
      ONEBIT_UNROLL
      for (int p = 0; p < P; ++p) xp[p] = r.x + (origin[p] + tap);
      const float* wt = w0 + ptrdiff_t(ky * kw + kx) * cin;
      for (int i = 0; i < run; ++i) {
        float wv[O];
        ONEBIT_UNROLL
        for (int j = 0; j < O; ++j) wv[j] = wt[j * r.taps + i];
        ONEBIT_UNROLL
        for (int p = 0; p < P; ++p) {
          const float xv = xp[p][i];
          ONEBIT_UNROLL
          for (int j = 0; j < O; ++j) acc[p][j] = acc[p][j] + xv * wv[j];
        }
      }
    }
  }
  const float lo = r.g->clamp_min, hi = r.g->clamp_max;
  for (int p = 0; p < P; ++p)
    for (int j = 0; j < O; ++j) {
      float v = acc[p][j];
      if (r.bias != nullptr) v = v + r.bias[o0 + j];
      out[p][o0 + j] = r.clamped ? clamp_value(v, lo, hi) : v;
    }
}

/// Every output channel of P pixels, group by group, in tiles of 8, then 4, then 1 channels.
template <int P>
void conv_pixels(const ConvRow& r, const ptrdiff_t* origin, int kx0, int kx1, float* const* out) {
  for (int group = 0; group < r.g->groups; ++group) {
    ptrdiff_t o[P];
    for (int p = 0; p < P; ++p) o[p] = origin[p] + ptrdiff_t(group) * r.cin_g;
    int c = group * r.cout_g;
    const int end = c + r.cout_g;
    for (; end - c >= kTileOutputs; c += kTileOutputs) conv_tile<P, kTileOutputs>(r, o, kx0, kx1, c, out);
    for (; end - c >= 4; c += 4) conv_tile<P, 4>(r, o, kx0, kx1, c, out);
    for (; c < end; ++c) conv_tile<P, 1>(r, o, kx0, kx1, c, out);
  }
}

/// Channels [c0, c0 + B) of a depthwise pixel (channel c reads x channel c), sums in registers.
template <int B>
void depthwise_block(const ConvRow& r, ptrdiff_t origin, int kx0, int kx1, int c0, float* y) {
  float acc[B];
  ONEBIT_UNROLL
  for (int j = 0; j < B; ++j) acc[j] = 0.0f;
  const int kw = r.g->kernel_w;
  for (int ky = r.ky0; ky < r.ky1; ++ky)
    for (int kx = kx0; kx < kx1; ++kx) {
      const float* xp = r.x + (origin + ptrdiff_t(ky) * r.ky_step + ptrdiff_t(kx) * r.kx_step + c0);
      const float* wt = r.w + (ptrdiff_t(c0) * r.taps + ky * kw + kx);
      ONEBIT_UNROLL
      for (int j = 0; j < B; ++j) acc[j] = acc[j] + xp[j] * wt[j * r.taps];
    }
  const float lo = r.g->clamp_min, hi = r.g->clamp_max;
  for (int j = 0; j < B; ++j) {
    float v = acc[j];
    if (r.bias != nullptr) v = v + r.bias[c0 + j];
    y[c0 + j] = r.clamped ? clamp_value(v, lo, hi) : v;
  }
}

/// Depthwise (cin_g = cout_g = 1): the pixel's channels in blocks of kTileOutputs, then one by one.
void depthwise_pixel(const ConvRow& r, ptrdiff_t origin, int kx0, int kx1, float* y) {
  const int channels = r.g->out_c;
  int c = 0;
  for (; channels - c >= kTileOutputs; c += kTileOutputs) depthwise_block<kTileOutputs>(r, origin, kx0, kx1, c, y);
  for (; c < channels; ++c) depthwise_block<1>(r, origin, kx0, kx1, c, y);
}

void conv_row(const ConvRow& r, float* y_row) {
  const FloatConv2D& g = *r.g;
  const bool depthwise = r.cin_g == 1 && r.cout_g == 1;
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

}  // namespace

void conv2d_f32(const FloatConv2D& g, const float* x, const float* w_ohwi, const float* bias, float* y,
                int row_begin, int row_end) {
  ConvRow r;
  r.g = &g;
  r.x = x;
  r.w = w_ohwi;
  r.bias = bias;
  r.cin_g = g.in_c / g.groups;
  r.cout_g = g.out_c / g.groups;
  r.flat = g.groups == 1 && g.dilation_w == 1;
  r.clamped = !(g.clamp_min == -INFINITY && g.clamp_max == INFINITY);
  r.taps = ptrdiff_t(g.kernel_h) * g.kernel_w * r.cin_g;
  r.ky_step = ptrdiff_t(g.dilation_h) * g.in_w * g.in_c;
  r.kx_step = ptrdiff_t(g.dilation_w) * g.in_c;
  r.ox_step = ptrdiff_t(g.stride_w) * g.in_c;
  for (int row = row_begin; row < row_end; ++row) {
    const int n = row / g.out_h, oy = row % g.out_h;
    const int iy0 = oy * g.stride_h - g.pad_top;
    tap_range(iy0, g.dilation_h, g.kernel_h, g.in_h, &r.ky0, &r.ky1);
    r.row_origin = (ptrdiff_t(n) * g.in_h + iy0) * g.in_w * g.in_c;
    conv_row(r, y + ptrdiff_t(row) * g.out_w * g.out_c);
  }
}

void fully_connected_f32(int batch, int in_c, int out_c, const float* x, const float* w, const float* bias,
                         float lo, float hi, float* y, int row_begin, int row_end) {
  // Each batch row is a 1x1 image; the 1x1 convolution's order (acc over i, + bias, clamp) is the FC's.
  const FloatConv2D g{batch, 1, 1, in_c, 1, 1, out_c, 1, 1, 1, 1, 1, 1, 0, 0, 1, lo, hi};
  conv2d_f32(g, x, w, bias, y, row_begin, row_end);
}

}  // namespace onebit::kernels
