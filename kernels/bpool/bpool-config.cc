// Binary max pool: its table (bpool.h), selection, and the driver that walks output pixels and gathers
// each window's real taps.
#include "bpool/bpool.h"
#include "onebit/kernels/bit_contract.h"

namespace onebit::kernels {
namespace {

#define ONEBIT_BPOOL_ENTRY(tile, isa) {Isa::isa, onebit_bpool_ukernel_##tile, #tile},
const BPoolUkernel kUkernels[] = {ONEBIT_COMPILED_UKERNELS(ONEBIT_BPOOL_UKERNELS, ONEBIT_BPOOL_ENTRY)};
#undef ONEBIT_BPOOL_ENTRY

}  // namespace

const BPoolUkernel& bpool_select(Isa isa) { return select_ukernel(kUkernels, isa); }
const BPoolUkernel* bpool_ukernels(size_t* count) { return ukernel_table(kUkernels, count); }

void binary_max_pool(const BPoolUkernel& ukernel, const BPoolGeometry& g, const uint32_t* input, uint32_t* output) {
  if (g.batch <= 0 || g.out_h() <= 0) return;
  binary_max_pool_rows(ukernel, g, input, output, 0, static_cast<size_t>(g.batch) * static_cast<size_t>(g.out_h()));
}

void binary_max_pool_rows(const BPoolUkernel& bpool, const BPoolGeometry& g, const uint32_t* input, uint32_t* output,
                          size_t row_begin, size_t row_end) {
  const onebit_bpool_ukernel_fn ukernel = bpool.fn;
  const size_t words = packed_words(static_cast<size_t>(g.channels));
  const int out_h = g.out_h(), out_w = g.out_w();
  if (g.kernel_h <= 0 || g.kernel_w <= 0 || out_h <= 0 || out_w <= 0 || words == 0) return;
  // Window pointers for one output pixel, on the stack. A window of more than kChunk real taps is ANDed in
  // chunks: the output pixel itself is the first tap of every chunk after the first (the ukernels read a
  // word of every tap before writing that word, so the alias is safe).
  constexpr size_t kChunk = 64;
  const uint32_t* taps[kChunk];
  output += row_begin * static_cast<size_t>(out_w) * words;
  for (size_t row = row_begin; row < row_end; ++row) {
    const int n = static_cast<int>(row / static_cast<size_t>(out_h)), oy = static_cast<int>(row % static_cast<size_t>(out_h));
    const uint32_t* image = input + static_cast<size_t>(n) * g.in_h * g.in_w * words;
    for (int ox = 0; ox < out_w; ++ox, output += words) {
      size_t count = 0;
      bool started = false;
      for (int ky = 0; ky < g.kernel_h; ++ky) {
        const int iy = oy * g.stride_h - g.pad_top + ky;
        if (iy < 0 || iy >= g.in_h) continue;
        for (int kx = 0; kx < g.kernel_w; ++kx) {
          const int ix = ox * g.stride_w - g.pad_left + kx;
          if (ix < 0 || ix >= g.in_w) continue;
          if (count == kChunk) {
            ukernel(count, words, taps, output);
            started = true;
            taps[0] = output;
            count = 1;
          }
          taps[count++] = image + (static_cast<size_t>(iy) * g.in_w + ix) * words;
        }
      }
      if (count == 0) {  // window entirely in padding: max over -inf is -inf, i.e. bit 1
        for (size_t w = 0; w < words; ++w) output[w] = channel_mask(g.channels, w);
      } else if (count > 1 || !started) {
        ukernel(count, words, taps, output);
      }
    }
  }
}

}  // namespace onebit::kernels
