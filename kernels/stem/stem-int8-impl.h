// What the vector int8 stem ukernels share: a tile (pixels x channel vectors of one block) and the walk
// over output rows, channel blocks and tiles. A ukernel is a type K with
//   kBlock (channels per packed block), kLanes (int32 lanes per vector), kTapBytes (stem_int8.h),
//   pixels(n) (pixels per tile of n vectors, constexpr) and template <int P, int N> tile(const Tile&):
// P pixels x N vectors from the packed bias, then the requantized outputs stored. Included by the per-ISA
// files only (after their target pragmas, so that these functions take the file's ISA too).
#pragma once

#include <cstddef>
#include <cstdint>

#include "stem/stem-int8-ukernels.h"

namespace onebit::kernels::stem_int8 {

struct Tile {
  const uint8_t* x;         // pixel 0's window, top left
  ptrdiff_t x_row, x_step;  // bytes
  const uint8_t* w;         // the block's weights [kernel_h][groups][kBlock][4 bytes]
  int rows, groups;
  const int32_t* bias;
  const float* mult;
  const StemInt8* p;
  void* y;  // pixel 0, the block's first channel
  ptrdiff_t y_step;
  int valid;  // channels of the block that exist
};

/// K::tile<p, N> for p in [1, K::pixels(N)], p chosen at run time.
template <class K, int N, int P = K::pixels(N)>
void tile_p(int p, const Tile& t) {
  if constexpr (P > 1) {
    if (p < P) return tile_p<K, N, P - 1>(p, t);
  }
  K::template tile<P, N>(t);
}
/// K::tile<p, n> for n in [1, N] vectors.
template <class K, int N = K::kBlock / K::kLanes>
void tile_pn(int p, int n, const Tile& t) {
  if constexpr (N > 1) {
    if (n < N) return tile_pn<K, N - 1>(p, n, t);
  }
  tile_p<K, N>(p, t);
}

/// The ukernel (stem_int8.h) on K's tiles.
template <class K>
void rows(const StemInt8* p, const uint8_t* xq, const uint8_t* packed, void* y, int row_begin, int row_end) {
  constexpr int kBlock = K::kBlock;
  const FloatConv2D& g = p->g;
  const int c = g.in_c, blocks = (g.out_c + kBlock - 1) / kBlock;
  const size_t block_size = block_bytes(g, kBlock, K::kTapBytes);
  const size_t out_bytes = p->float_output ? sizeof(float) : 1;
  Tile t;
  t.x_row = ptrdiff_t(p->padded_w) * c * K::kTapBytes;
  t.x_step = ptrdiff_t(g.stride_w) * c * K::kTapBytes;
  t.rows = g.kernel_h;
  t.groups = groups(g, K::kTapBytes);
  t.p = p;
  t.y_step = g.out_c;
  for (int r = row_begin; r < row_end; ++r) {
    const int n = r / g.out_h, oy = r % g.out_h;
    const uint8_t* x0 = xq + (ptrdiff_t(n) * p->padded_h + ptrdiff_t(oy) * g.stride_h) * t.x_row;
    for (int b = 0; b < blocks; ++b) {
      const uint8_t* block = packed + size_t(b) * block_size;
      t.bias = reinterpret_cast<const int32_t*>(block);
      t.mult = reinterpret_cast<const float*>(block + 4 * kBlock);
      t.w = block + 8 * kBlock;
      t.valid = g.out_c - b * kBlock < kBlock ? g.out_c - b * kBlock : kBlock;
      const int vectors = (t.valid + K::kLanes - 1) / K::kLanes;
      const int step = K::pixels(vectors);
      for (int ox = 0; ox < g.out_w; ox += step) {
        t.x = x0 + ptrdiff_t(ox) * t.x_step;
        t.y = static_cast<uint8_t*>(y) +
              ((size_t(r) * size_t(g.out_w) + size_t(ox)) * size_t(g.out_c) + size_t(b) * kBlock) * out_bytes;
        tile_pn<K>(g.out_w - ox < step ? g.out_w - ox : step, vectors, t);
      }
    }
  }
}

}  // namespace onebit::kernels::stem_int8
