// Scalar int8 stem ukernel, the reference of the family: one output pixel at a time, a block of 16
// channels, integer dot products of the 4-byte groups, then stem_int8::requantize.
#include <cstring>

#include "stem/stem-int8-ukernels.h"

using onebit::kernels::StemInt8;

ONEBIT_STEM_INT8_QUANTIZE(onebit_stem_int8_quantize_1x16__scalar) {
  for (size_t i = 0; i < n; ++i) {
    float v = x[i] * inv_scale;
    v = v > -1024.0f ? v : -1024.0f;  // NaN -> -1024 (as vmaxps with the bound second)
    v = v < 1024.0f ? v : 1024.0f;
    const int q = int(__builtin_nearbyintf(v)) + offset;
    u[i] = uint8_t(q < 0 ? 0 : q > 255 ? 255 : q);
  }
}

ONEBIT_STEM_INT8_UKERNEL(onebit_stem_int8_ukernel_1x16__scalar) {
  constexpr int kBlock = 16;
  const onebit::kernels::FloatConv2D& g = p->g;
  const int groups = onebit::kernels::stem_int8::groups(g), c = g.in_c;
  const size_t block_bytes = onebit::kernels::stem_int8::block_bytes(g, kBlock);
  const ptrdiff_t x_row = ptrdiff_t(p->padded_w) * c;
  for (int r = row_begin; r < row_end; ++r) {
    const int n = r / g.out_h, oy = r % g.out_h;
    const uint8_t* x0 = xq + (ptrdiff_t(n) * p->padded_h + ptrdiff_t(oy) * g.stride_h) * x_row;
    for (int ox = 0; ox < g.out_w; ++ox) {
      const uint8_t* xp = x0 + ptrdiff_t(ox) * g.stride_w * c;
      for (int o = 0; o < g.out_c; ++o) {
        const uint8_t* b = packed + size_t(o / kBlock) * block_bytes;
        const int lane = o % kBlock;
        int32_t acc;
        float mult;
        std::memcpy(&acc, b + lane * 4, 4);
        std::memcpy(&mult, b + 4 * kBlock + lane * 4, 4);
        const int8_t* w = reinterpret_cast<const int8_t*>(b + 8 * kBlock);
        for (int ky = 0; ky < g.kernel_h; ++ky)
          for (int j = 0; j < groups; ++j)
            for (int k = 0; k < 4; ++k)
              acc += int32_t(xp[ky * x_row + j * 4 + k]) * w[((ky * groups + j) * kBlock + lane) * 4 + k];
        const float q = onebit::kernels::stem_int8::requantize(acc, mult, p->output_zero_point, p->qmin, p->qmax);
        const size_t at = (size_t(r) * size_t(g.out_w) + size_t(ox)) * size_t(g.out_c) + size_t(o);
        if (p->float_output)
          static_cast<float*>(y)[at] = q * p->output_scale;
        else
          static_cast<int8_t*>(y)[at] = int8_t(int(q) + p->output_zero_point);
      }
    }
  }
}
