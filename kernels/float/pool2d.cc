// Portable float pooling over NHWC data: max and average windows, and the global average. Order of
// operations: float.h. Each output pixel's channels accumulate side by side in the output row (x and y
// hold them contiguously, so the channel loops vectorize); every channel still takes its taps in order.
#include <cmath>
#include <cstddef>

#include "onebit/kernels/float.h"

namespace onebit::kernels {
namespace {

/// Pooling of output rows [begin, end); `max` or average (divided by the kernel area when
/// count_include_pad, else by the real taps).
void pool_rows(const FloatPool2D& p, bool max, bool count_include_pad, const float* x, float* y, int begin,
               int end) {
  const ptrdiff_t c_count = p.channels;
  for (int row = begin; row < end; ++row) {
    const int n = row / p.out_h, oh = row % p.out_h;
    const int h0 = oh * p.stride_h - p.pad_top;
    const int hb = h0 > 0 ? h0 : 0, he = h0 + p.kernel_h < p.in_h ? h0 + p.kernel_h : p.in_h;
    for (int ow = 0; ow < p.out_w; ++ow) {
      const int w0 = ow * p.stride_w - p.pad_left;
      const int wb = w0 > 0 ? w0 : 0, we = w0 + p.kernel_w < p.in_w ? w0 + p.kernel_w : p.in_w;
      float* out = y + ((ptrdiff_t(n) * p.out_h + oh) * p.out_w + ow) * c_count;
      const float start = max ? -INFINITY : 0.0f;
      for (ptrdiff_t c = 0; c < c_count; ++c) out[c] = start;
      for (int h = hb; h < he; ++h) {
        for (int w = wb; w < we; ++w) {
          const float* v = x + ((ptrdiff_t(n) * p.in_h + h) * p.in_w + w) * c_count;
          if (max) {
            for (ptrdiff_t c = 0; c < c_count; ++c) out[c] = out[c] < v[c] ? v[c] : out[c];
          } else {
            for (ptrdiff_t c = 0; c < c_count; ++c) out[c] = out[c] + v[c];
          }
        }
      }
      if (max) continue;
      const float d = float(count_include_pad ? p.kernel_h * p.kernel_w : (he - hb) * (we - wb));
      for (ptrdiff_t c = 0; c < c_count; ++c) out[c] = out[c] / d;
    }
  }
}

}  // namespace

void max_pool2d_f32(const FloatPool2D& p, const float* x, float* y, int row_begin, int row_end) {
  pool_rows(p, true, false, x, y, row_begin, row_end);
}

void avg_pool2d_f32(const FloatPool2D& p, bool count_include_pad, const float* x, float* y, int row_begin,
                    int row_end) {
  pool_rows(p, false, count_include_pad, x, y, row_begin, row_end);
}

void global_avg_pool_f32(int batch, int pixels, int channels, const float* x, float* y) {
  // Blocks of kBlock channels keep their sums in registers over all the pixels.
  constexpr ptrdiff_t kBlock = 16;
  const ptrdiff_t c_count = channels;
  const float d = float(pixels);
  for (int n = 0; n < batch; ++n) {
    float* out = y + ptrdiff_t(n) * c_count;
    const float* in = x + ptrdiff_t(n) * pixels * c_count;
    ptrdiff_t c0 = 0;
    for (; c0 + kBlock <= c_count; c0 += kBlock) {
      float acc[kBlock];
      for (ptrdiff_t c = 0; c < kBlock; ++c) acc[c] = 0.0f;
      for (int i = 0; i < pixels; ++i) {
        const float* v = in + ptrdiff_t(i) * c_count + c0;
        for (ptrdiff_t c = 0; c < kBlock; ++c) acc[c] = acc[c] + v[c];
      }
      for (ptrdiff_t c = 0; c < kBlock; ++c) out[c0 + c] = acc[c] / d;
    }
    for (ptrdiff_t c = c0; c < c_count; ++c) out[c] = 0.0f;
    for (int i = 0; i < pixels; ++i) {
      const float* v = in + ptrdiff_t(i) * c_count;
      for (ptrdiff_t c = c0; c < c_count; ++c) out[c] = out[c] + v[c];
    }
    for (ptrdiff_t c = c0; c < c_count; ++c) out[c] = out[c] / d;
  }
}

}  // namespace onebit::kernels
