// Portable float pooling over NHWC data: max and average windows, and the global average. Order of
// operations: float.h. A pixel's channels run in blocks of kBlock whose sums (maxima) stay in registers
// over the window (the block loops are unrolled, at -Os too), then one by one; every channel still takes
// its taps in order.
#include <cmath>
#include <cstddef>

#include "float/float-common.h"
#include "onebit/kernels/float.h"

namespace onebit::kernels {
namespace {

#if ONEBIT_MCU
constexpr int kBlock = 8;  // flash: half the unrolled block (the sums are the same, per channel in tap order)
#else
constexpr int kBlock = 16;
#endif

/// The window `rows` x `cols` taps at x (tap (h, w) at x + h * row_stride + w * pixel_stride) of channels
/// [0, B) relative to x: their maximum (Max) or sum, then divided by d (not Max), into y[0, B).
template <int B, bool Max>
void reduce_block(const float* x, ptrdiff_t row_stride, ptrdiff_t pixel_stride, int rows, int cols, float d,
                  float* y) {
  float acc[B];
  ONEBIT_UNROLL
  for (int c = 0; c < B; ++c) acc[c] = Max ? -INFINITY : 0.0f;
  for (int h = 0; h < rows; ++h)
    for (int w = 0; w < cols; ++w) {
      const float* v = x + h * row_stride + w * pixel_stride;
      ONEBIT_UNROLL
      for (int c = 0; c < B; ++c) acc[c] = Max ? (acc[c] < v[c] ? v[c] : acc[c]) : acc[c] + v[c];
    }
  ONEBIT_UNROLL
  for (int c = 0; c < B; ++c) y[c] = Max ? acc[c] : acc[c] / d;
}

/// Every channel of one window, in blocks of kBlock, then one by one.
template <bool Max>
void reduce_window(const float* x, ptrdiff_t row_stride, ptrdiff_t channels, int rows, int cols, float d, float* y) {
  ptrdiff_t c = 0;
  for (; channels - c >= kBlock; c += kBlock)
    reduce_block<kBlock, Max>(x + c, row_stride, channels, rows, cols, d, y + c);
  for (; c < channels; ++c) reduce_block<1, Max>(x + c, row_stride, channels, rows, cols, d, y + c);
}

/// Pooling of output rows [begin, end); `Max`, or the average (divided by the kernel area when
/// count_include_pad, else by the real taps).
template <bool Max>
void pool_rows(const FloatPool2D& p, bool count_include_pad, const float* x, float* y, int begin, int end) {
  const ptrdiff_t channels = p.channels, row_stride = ptrdiff_t(p.in_w) * channels;
  for (int row = begin; row < end; ++row) {
    const int n = row / p.out_h, oh = row % p.out_h;
    const int h0 = oh * p.stride_h - p.pad_top;
    const int hb = h0 > 0 ? h0 : 0, he = h0 + p.kernel_h < p.in_h ? h0 + p.kernel_h : p.in_h;
    for (int ow = 0; ow < p.out_w; ++ow) {
      const int w0 = ow * p.stride_w - p.pad_left;
      const int wb = w0 > 0 ? w0 : 0, we = w0 + p.kernel_w < p.in_w ? w0 + p.kernel_w : p.in_w;
      const float d = float(count_include_pad ? p.kernel_h * p.kernel_w : (he - hb) * (we - wb));
      reduce_window<Max>(x + ((ptrdiff_t(n) * p.in_h + hb) * p.in_w + wb) * channels, row_stride, channels, he - hb,
                         we - wb, d, y + ((ptrdiff_t(n) * p.out_h + oh) * p.out_w + ow) * channels);
    }
  }
}

}  // namespace

void max_pool2d_f32(const FloatPool2D& p, const float* x, float* y, int row_begin, int row_end) {
  pool_rows<true>(p, false, x, y, row_begin, row_end);
}

void avg_pool2d_f32(const FloatPool2D& p, bool count_include_pad, const float* x, float* y, int row_begin,
                    int row_end) {
  pool_rows<false>(p, count_include_pad, x, y, row_begin, row_end);
}

void global_avg_pool_f32(int batch, int pixels, int channels, const float* x, float* y) {
  for (int n = 0; n < batch; ++n)
    reduce_window<false>(x + ptrdiff_t(n) * pixels * channels, 0, channels, 1, pixels, float(pixels),
                         y + ptrdiff_t(n) * channels);
}

}  // namespace onebit::kernels
