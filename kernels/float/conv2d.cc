// Portable float convolution (NHWC x, OHWI weights read where they lie) and fully connected layer (a 1x1
// convolution of a 1x1 image per batch row). Order of operations: float.h.
//
// Speed without reordering: the only independent sums are different outputs, so the loops hold a tile of
// outputs at once (conv-walk.h walks the rows, pixel runs, groups and channel tiles) and walk the taps
// (ky, kx, i) once for the whole tile: each input value is loaded once per kTileOutputs products and each
// weight once per kTilePixels. Where x holds a kernel row's taps (kx, i) contiguously, as the OHWI weights
// do (groups 1, dilation_w 1), the row is one run of kernel_w * cin_g taps. The compiler may vectorize the
// products along a run and add them one by one (GCC's in-order reductions) or work across the tile's
// outputs; either way every accumulator adds its own products in the documented order (the kernel tests
// check it bit for bit).
// The tile loops are unrolled (ONEBIT_UNROLL) so that the accumulators live in registers even at -Os, which
// does not unroll by itself: on a Cortex-M4 at -Os that is 3.4 instead of 11 instructions per MAC.
#include <cmath>
#include <cstddef>

#include "float/conv-walk.h"
#include "float/float-common.h"
#include "onebit/kernels/float.h"

namespace onebit::kernels {
namespace {

/// The float-weight layer: OHWI weights, taps per output channel.
struct FloatWeightConv : ConvWalk {
  const float* w;
  ptrdiff_t taps;  // weights per output channel: kernel_h * kernel_w * cin_g
  bool flat;       // groups 1 and dilation_w 1: the taps (kx, i) of a kernel row are contiguous in x

  FloatWeightConv(const FloatConv2D& geometry, const float* input, const float* w_ohwi, const float* bias_or_null)
      : ConvWalk(geometry, input, bias_or_null), w(w_ohwi) {
    taps = ptrdiff_t(g->kernel_h) * g->kernel_w * cin_g;
    flat = g->groups == 1 && g->dilation_w == 1;
  }

  template <int P, int O>
  void tile(const ptrdiff_t* origin, int kx0, int kx1, int o0, float* const* out) const {
    float acc[P][O];
    zero_tile(acc);
    const int kw = g->kernel_w, cin = cin_g;
    // Where x holds a kernel row's taps (kx, i) contiguously, as the weights do, they are one run.
    const int run = flat ? (kx1 - kx0) * cin : cin;
    const int kx_end = flat && kx1 > kx0 ? kx0 + 1 : kx1;
    const float* w0 = w + ptrdiff_t(o0) * taps;
    for_each_tap<P>(*this, origin, kx0, kx_end, [&](int ky, int kx, const float* const* xp) {
      const float* wt = w0 + ptrdiff_t(ky * kw + kx) * cin;
      for (int i = 0; i < run; ++i) {
        float wv[O];
        ONEBIT_UNROLL
        for (int j = 0; j < O; ++j) wv[j] = wt[j * taps + i];
        ONEBIT_UNROLL
        for (int p = 0; p < P; ++p) {
          const float xv = xp[p][i];
          ONEBIT_UNROLL
          for (int j = 0; j < O; ++j) acc[p][j] = acc[p][j] + xv * wv[j];
        }
      }
    });
    const float lo = g->clamp_min, hi = g->clamp_max;
    for (int p = 0; p < P; ++p)
      for (int j = 0; j < O; ++j) {
        float v = acc[p][j];
        if (bias != nullptr) v = v + bias[o0 + j];
        out[p][o0 + j] = clamped ? clamp_value(v, lo, hi) : v;
      }
  }

  template <int B>
  void depthwise_block(ptrdiff_t origin, int kx0, int kx1, int c0, float* y) const {
    float acc[B];
    depthwise_sums<B>(*this, w, origin, kx0, kx1, c0, [](float v) { return v; }, acc);
    const float lo = g->clamp_min, hi = g->clamp_max;
    for (int j = 0; j < B; ++j) {
      float v = acc[j];
      if (bias != nullptr) v = v + bias[c0 + j];
      y[c0 + j] = clamped ? clamp_value(v, lo, hi) : v;
    }
  }
};

}  // namespace

void conv2d_f32(const FloatConv2D& g, const float* x, const float* w_ohwi, const float* bias, float* y,
                int row_begin, int row_end) {
  FloatWeightConv r(g, x, w_ohwi, bias);
  conv_rows(r, y, row_begin, row_end);
}

void fully_connected_f32(int batch, int in_c, int out_c, const float* x, const float* w, const float* bias,
                         float lo, float hi, float* y, int row_begin, int row_end) {
  // Each batch row is a 1x1 image; the 1x1 convolution's order (acc over i, + bias, clamp) is the FC's.
  const FloatConv2D g{batch, 1, 1, in_c, 1, 1, out_c, 1, 1, 1, 1, 1, 1, 0, 0, 1, lo, hi};
  conv2d_f32(g, x, w, bias, y, row_begin, row_end);
}

}  // namespace onebit::kernels
