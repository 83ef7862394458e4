// Stem family: its table (stem-ukernels.h), selection, the shape rule, the weight packing, and the drivers
// (the convolution alone, and fused with the max pool after it).
#include <algorithm>
#include <cmath>

#include "stem/stem-ukernels.h"

namespace onebit::kernels {
namespace {

#define ONEBIT_STEM_ENTRY(tile, isa, block) \
  {Isa::isa, onebit_stem_ukernel_##tile, #tile, block, onebit_stem_max_pool_##tile},
const StemUkernel kUkernels[] = {ONEBIT_COMPILED_UKERNELS(ONEBIT_STEM_UKERNELS, ONEBIT_STEM_ENTRY)};
#undef ONEBIT_STEM_ENTRY

bool odd_3_to_7(int k) { return k == 3 || k == 5 || k == 7; }

size_t block_floats(const StemUkernel& u, const FloatConv2D& g) {
  return size_t(u.block) * (1 + size_t(g.kernel_h) * size_t(g.kernel_w) * size_t(g.in_c));
}

}  // namespace

bool stem_supported(const FloatConv2D& g) {
  return g.groups == 1 && g.dilation_h == 1 && g.dilation_w == 1 && g.in_c >= 1 && g.in_c <= 4 &&
         odd_3_to_7(g.kernel_h) && odd_3_to_7(g.kernel_w) && (g.stride_h == 1 || g.stride_h == 2) &&
         (g.stride_w == 1 || g.stride_w == 2);
}

const StemUkernel& stem_select(Isa isa) { return select_ukernel(kUkernels, isa); }
const StemUkernel* stem_ukernels(size_t* count) { return ukernel_table(kUkernels, count); }

size_t stem_packed_floats(const StemUkernel& u, const FloatConv2D& g) {
  const size_t blocks = (size_t(g.out_c) + size_t(u.block) - 1) / size_t(u.block);
  return blocks * block_floats(u, g);
}

void stem_pack(const StemUkernel& u, const FloatConv2D& g, const float* w_ohwi, const float* bias, float* packed) {
  const size_t block = size_t(u.block), taps = size_t(g.kernel_h) * size_t(g.kernel_w) * size_t(g.in_c);
  std::fill(packed, packed + stem_packed_floats(u, g), 0.0f);
  for (size_t o = 0; o < size_t(g.out_c); ++o) {
    float* b = packed + (o / block) * block_floats(u, g);
    const size_t lane = o % block;
    if (bias != nullptr) b[lane] = bias[o];
    for (size_t t = 0; t < taps; ++t) b[block + t * block + lane] = w_ohwi[o * taps + t];
  }
}

void stem_conv2d_f32(const StemUkernel& u, const FloatConv2D& g, const float* x, const float* packed, float* y,
                     int row_begin, int row_end) {
  if (row_begin < row_end) u.fn(&g, x, packed, y + ptrdiff_t(row_begin) * g.out_w * g.out_c, row_begin, row_end);
}

size_t stem_max_pool_ring_floats(const FloatConv2D& g, const FloatPool2D& p) {
  return size_t(std::min(p.kernel_h, g.out_h) + 1) * size_t(g.out_w) * size_t(g.out_c);
}

bool stem_max_pool_supported(const FloatPool2D& p) { return p.kernel_h <= kStemMaxPoolRows; }

void stem_conv2d_max_pool_f32(const StemUkernel& u, const FloatConv2D& g, const FloatPool2D& p, const float* x,
                              const float* packed, float* ring, float* y, int row_begin, int row_end) {
  const ptrdiff_t row_floats = ptrdiff_t(g.out_w) * g.out_c, out_floats = ptrdiff_t(p.out_w) * p.channels;
  const int slots = std::min(p.kernel_h, g.out_h);  // convolution row r (of batch * out_h) in slot r % slots
  float* const columns = ring + slots * row_floats;  // the maximum over the window's rows, per pixel
  const float* rows[kStemMaxPoolRows];
  int computed = 0;  // the rows of the last window, up to here, are in the ring (its earlier ones too)
  for (int row = row_begin; row < row_end; ++row) {
    const int n = row / p.out_h, h0 = (row % p.out_h) * p.stride_h - p.pad_top;
    // The window's rows [first, last) of batch * g.out_h: at most `slots` consecutive rows, after the last
    // window's first (so those of them up to `computed` are still in the ring).
    const int first = n * g.out_h + std::max(h0, 0), last = n * g.out_h + std::min(h0 + p.kernel_h, p.in_h);
    for (int r = std::max(first, computed); r < last; ++r)
      u.fn(&g, x, packed, ring + (r % slots) * row_floats, r, r + 1);
    computed = std::max(computed, last);
    float* out = y + row * out_floats;
    if (first >= last) {  // a window wholly in the padding rows
      std::fill(out, out + out_floats, -INFINITY);
      continue;
    }
    for (int r = first; r < last; ++r) rows[r - first] = ring + (r % slots) * row_floats;
    u.max_pool(&p, rows, last - first, columns, out);
  }
}
}  // namespace onebit::kernels
