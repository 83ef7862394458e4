// Stem family: its table (stem-ukernels.h), selection, the shape rule, and the weight packing.
#include <algorithm>

#include "stem/stem-ukernels.h"

namespace onebit::kernels {
namespace {

#define ONEBIT_STEM_ENTRY(tile, isa, block) {Isa::isa, onebit_stem_ukernel_##tile, #tile, block},
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
  if (row_begin < row_end) u.fn(&g, x, packed, y, row_begin, row_end);
}

}  // namespace onebit::kernels
