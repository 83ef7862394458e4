// Test helper: the loop nest of a plain direct 2-D convolution over NHWC activations, for the reference
// computations of the kernel and runtime suites. Each caller supplies what one tap contributes (its weight
// layout, padding value and accumulator type); nothing here comes from the code under test.
#pragma once

#include <cstddef>
#include <vector>

namespace onebit::testing {

/// The geometry the loop walks: input and output sizes, window, stride, dilation, the top / left pads (the
/// bottom / right ones are implied by out_h / out_w) and groups.
struct ConvShape {
  int batch, in_h, in_w, in_c;
  int out_h, out_w, out_c;
  int kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w;
  int pad_top, pad_left, groups;
};

/// y[((n * out_h + oy) * out_w + ox) * out_c + o] = the sum, over ky, then kx, then i < in_c / groups (in that
/// order, from Acc 0), of tap(x_at, o, ky, kx, i): x_at is the NHWC index of input channel
/// (o / (out_c / groups)) * (in_c / groups) + i at input pixel (oy * stride_h - pad_top + ky * dilation_h,
/// ox * stride_w - pad_left + kx * dilation_w), or -1 where that pixel lies in the padding.
template <typename Acc, typename Tap>
std::vector<Acc> direct_conv(const ConvShape& s, Tap tap) {
  const int cin_g = s.in_c / s.groups, cout_g = s.out_c / s.groups;
  std::vector<Acc> y(size_t(s.batch) * s.out_h * s.out_w * s.out_c);
  for (int n = 0; n < s.batch; ++n)
    for (int oy = 0; oy < s.out_h; ++oy)
      for (int ox = 0; ox < s.out_w; ++ox)
        for (int o = 0; o < s.out_c; ++o) {
          const size_t group_channel = size_t(o / cout_g) * size_t(cin_g);
          Acc acc = 0;
          for (int ky = 0; ky < s.kernel_h; ++ky)
            for (int kx = 0; kx < s.kernel_w; ++kx) {
              const int iy = oy * s.stride_h - s.pad_top + ky * s.dilation_h;
              const int ix = ox * s.stride_w - s.pad_left + kx * s.dilation_w;
              const bool inside = iy >= 0 && iy < s.in_h && ix >= 0 && ix < s.in_w;
              const size_t pixel = inside ? ((size_t(n) * s.in_h + size_t(iy)) * s.in_w + size_t(ix)) * s.in_c : 0;
              for (int i = 0; i < cin_g; ++i)
                acc +=
                    tap(inside ? std::ptrdiff_t(pixel + group_channel + size_t(i)) : std::ptrdiff_t{-1}, o, ky, kx, i);
            }
          y[((size_t(n) * s.out_h + oy) * s.out_w + ox) * s.out_c + o] = acc;
        }
  return y;
}

}  // namespace onebit::testing
