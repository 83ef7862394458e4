// NEON binary GEMM, 4 rows x 8 output channels, aarch64 and armv7 (same source).
//
// Lane = channel, as in the AVX2 kernel: one q register holds the 64-bit chunks of 2 channels; the A chunk
// of a row is broadcast to both lanes (ld1r). Per row and channel pair and 128 binary MACs:
//   veorq_u8 -> vcntq_u8 (bytes 0..8) -> vpadalq_u8 into a u16x8 accumulator (pairwise widening add),
// 3 vector instructions, no separate flush instruction in the loop.
// Overflow bound of the u16 accumulators: one K step adds to each u16 lane the sum of two vcnt bytes, each
// <= 8, so <= 16 per step; 4095 steps add <= 4095 * 16 = 65520 <= 65535, step 4096 could reach 65536. So
// the loop runs at most kBlock = 4095 steps (262080 bits of K) between flushes; at a flush the u16 lanes
// are reduced (vpaddlq_u16, then a pairwise u32 add: vpaddq_u32 on aarch64, vpadd_u32 on the halves on
// armv7, which has no q-form pairwise add and no vaddvq) into u32 totals (one per channel, <= K bits).
// Registers: 16 accumulators + 4 weight vectors + 4 broadcasts = 24 of aarch64's 32; armv7 has 16 q
// registers, so there GCC keeps some accumulators on the stack (see bench/RESULTS.md for the cost).
// Bit-serial twin (bgemm.h): the K loop once per term, each flushed into the totals, which are doubled
// between terms (Horner); used on aarch64, where 4x8 is the tile.
// Reads: exactly seg_words words of each A segment; the whole packed weight tile (8 columns).
#include <arm_neon.h>

#include <algorithm>
#include <cassert>
#include <cstring>

#include "bgemm/bgemm.h"
#include "util/bits.h"

using onebit::kernels::bgemm_next_row;

namespace {
// K steps (64-bit chunks) between flushes: the most a u16 accumulator lane holds, since each step adds two
// byte popcounts (<= 16): 4095 * 16 = 65520 <= 65535, while 4096 steps could reach 65536 (see the header
// comment). tests/kernels/bgemm_test.cc runs K across this boundary at this size (up to 16383 words).
constexpr size_t kBlock = 4095;
static_assert(kBlock * 16 <= 65535, "u16 accumulator bound");

// Per-channel sums of two accumulators: lanes 0-3 / 4-7 of `lo` are channels 0 / 1, of `hi` channels 2 / 3.
inline uint32x4_t reduce4(uint16x8_t lo, uint16x8_t hi) {
  const uint32x4_t l = vpaddlq_u16(lo), h = vpaddlq_u16(hi);
#if defined(__aarch64__)
  return vpaddq_u32(l, h);
#else
  return vcombine_u32(vpadd_u32(vget_low_u32(l), vget_high_u32(l)), vpadd_u32(vget_low_u32(h), vget_high_u32(h)));
#endif
}
// The broadcast A chunk: words k, k+1 of a row.
inline uint8x16_t dup_pair(const uint32_t* p) {
  const uint32x2_t v = vld1_u32(p);  // u32 elements: 4-byte alignment is enough (armv7 vld1.64 wants 8)
  return vreinterpretq_u8_u64(vdupq_lane_u64(vreinterpret_u64_u32(v), 0));
}
inline uint8x16_t dup_single(const uint32_t* p) {
  return vreinterpretq_u8_u64(vdupq_n_u64(onebit::kernels::load_single(p)));
}

// Both ABIs (bgemm.h): the plain kernel is the one-term case of the kSerial body (see the definitions at the
// end). Bit-serial: each term runs the same K loop and is flushed into the u32 totals, which are shifted
// before the next term (Horner).
template <bool kSerial>
void gemm_4x8(size_t mr, size_t nc, size_t segs, size_t seg_words, const uint32_t* const* a, const uint64_t* w_base,
              int32_t* c, size_t c_stride, const onebit_bgemm_terms& terms) {
  assert(mr >= 1 && mr <= 4 && nc >= 1 && segs >= 1 && seg_words >= 1 && terms.count >= 1 && terms.count <= 8);
  const size_t r1 = mr > 1 ? segs : 0, r2 = r1 + (mr > 2 ? segs : 0), r3 = r2 + (mr > 3 ? segs : 0);
  int32_t* out[4];
  out[0] = c;
  out[1] = bgemm_next_row(out[0], c_stride, mr > 1);
  out[2] = bgemm_next_row(out[1], c_stride, mr > 2);
  out[3] = bgemm_next_row(out[2], c_stride, mr > 3);
  const size_t chunks = (seg_words + 1) / 2, tile_chunks = 8 * segs * chunks;
  const bool odd = seg_words % 2 != 0;
  const uint16x8_t zero = vdupq_n_u16(0);
#define ONEBIT_ROW(r, v)                                     \
  c##r##0 = vpadalq_u8(c##r##0, vcntq_u8(veorq_u8(v, w0)));  \
  c##r##1 = vpadalq_u8(c##r##1, vcntq_u8(veorq_u8(v, w1)));  \
  c##r##2 = vpadalq_u8(c##r##2, vcntq_u8(veorq_u8(v, w2)));  \
  c##r##3 = vpadalq_u8(c##r##3, vcntq_u8(veorq_u8(v, w3)));
#define ONEBIT_STEP(load, k)                                                                      \
  {                                                                                               \
    const uint8x16_t w0 = vreinterpretq_u8_u64(vld1q_u64(w));                                     \
    const uint8x16_t w1 = vreinterpretq_u8_u64(vld1q_u64(w + 2));                                 \
    const uint8x16_t w2 = vreinterpretq_u8_u64(vld1q_u64(w + 4));                                 \
    const uint8x16_t w3 = vreinterpretq_u8_u64(vld1q_u64(w + 6));                                 \
    w += 8;                                                                                       \
    const uint8x16_t v0 = load(s0 + (k)), v1 = load(s1 + (k)), v2 = load(s2 + (k)), v3 = load(s3 + (k)); \
    ONEBIT_ROW(0, v0) ONEBIT_ROW(1, v1) ONEBIT_ROW(2, v2) ONEBIT_ROW(3, v3)                       \
  }
#define ONEBIT_FLUSH(r)                                                             \
  vst1q_u32(t[r], vaddq_u32(vld1q_u32(t[r]), reduce4(c##r##0, c##r##1)));           \
  vst1q_u32(t[r] + 4, vaddq_u32(vld1q_u32(t[r] + 4), reduce4(c##r##2, c##r##3)));   \
  c##r##0 = c##r##1 = c##r##2 = c##r##3 = zero;
  for (size_t n0 = 0; n0 < nc; n0 += 8) {
    // u32 totals live in memory (touched once per block) so the accumulators keep the registers.
    uint32_t t[4][8] = {};
    uint16x8_t c00 = zero, c01 = zero, c02 = zero, c03 = zero, c10 = zero, c11 = zero, c12 = zero, c13 = zero;
    uint16x8_t c20 = zero, c21 = zero, c22 = zero, c23 = zero, c30 = zero, c31 = zero, c32 = zero, c33 = zero;
    for (size_t term = 0; term < (kSerial ? terms.count : 1); ++term) {
    if (kSerial && terms.shift[term] != 0) {
      const int32x4_t n = vdupq_n_s32(static_cast<int32_t>(terms.shift[term]));
      for (auto& row : t) {
        vst1q_u32(row, vshlq_u32(vld1q_u32(row), n));
        vst1q_u32(row + 4, vshlq_u32(vld1q_u32(row + 4), n));
      }
    }
    const uint32_t* const* p0 = a + (kSerial ? terms.a_offset[term] : 0);
    const uint32_t *const *p1 = p0 + r1, *const *p2 = p0 + r2, *const *p3 = p0 + r3;
    const uint64_t* w = w_base + n0 / 8 * tile_chunks + (kSerial ? terms.w_offset[term] : 0);
    size_t used = 0;  // K steps in the accumulators since the last flush, <= kBlock
    for (size_t s = 0; s < segs; ++s) {
      const uint32_t *s0 = p0[s], *s1 = p1[s], *s2 = p2[s], *s3 = p3[s];
      for (size_t j = 0; j < chunks;) {
        const size_t run = std::min(chunks - j, kBlock - used), end = j + run;
        const size_t full = odd && end == chunks ? end - 1 : end;  // odd seg_words: the last word alone
        for (; j < full; ++j) ONEBIT_STEP(dup_pair, 2 * j)
        if (j < end) { ONEBIT_STEP(dup_single, 2 * j) ++j; }
        used += run;
        if (used == kBlock) {
          ONEBIT_FLUSH(0) ONEBIT_FLUSH(1) ONEBIT_FLUSH(2) ONEBIT_FLUSH(3)
          used = 0;
        }
      }
    }
    ONEBIT_FLUSH(0) ONEBIT_FLUSH(1) ONEBIT_FLUSH(2) ONEBIT_FLUSH(3)
    }
    // Rows >= mr alias row mr - 1 (same values): write in descending order, the real row last.
    const size_t cols = std::min<size_t>(8, nc - n0);
    for (int r = 3; r >= 0; --r) std::memcpy(out[r] + n0, t[r], cols * sizeof(int32_t));
  }
#undef ONEBIT_STEP
#undef ONEBIT_ROW
#undef ONEBIT_FLUSH
}

}  // namespace

// Both from the serial body: GCC 12 (-O2 and -O3) spills accumulators and row pointers in the K loop of a
// separate one-term instantiation (76 instructions per step instead of 62; llvm-mca, bench/RESULTS.md).
ONEBIT_BGEMM_UKERNEL(onebit_bgemm_ukernel_4x8__neon) {
  const onebit_bgemm_terms one = {1, {0}, {0}, {0}};
  gemm_4x8<true>(mr, nc, segs, seg_words, a, w, c, c_stride, one);
}
ONEBIT_BGEMM_SERIAL_UKERNEL(onebit_bgemm_serial_ukernel_4x8__neon) {
  gemm_4x8<true>(mr, nc, segs, seg_words, a, w, c, c_stride, *terms);
}
