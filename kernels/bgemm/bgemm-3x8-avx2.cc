// AVX2 binary GEMM, 3 rows x 8 output channels (2 ymm of 4 x 64-bit lanes per row; lane = channel).
//
// Popcount choice (AVX2 has no vector popcount). Measured on this machine (AMD EPYC, Zen 4 class, one core,
// register-resident, bench_kernels BM_peak_xor_popcount_*, CPU time, noisy shared host):
//   nibble lookup (vpshufb on low/high nibbles, byte adds, vpsadbw every 31 steps): ~354 G binary MAC/s
//   scalar 64-bit POPCNT (xor + popcnt + add per 64 bits):                          ~197 G binary MAC/s
// so the lookup is used (~1.8x; on Intel cores, with one POPCNT port, the gap is larger). Harley-Seal
// carry-save adders pay off when many vectors are summed into ONE counter; here every accumulator
// (row x 4 channels) receives one vector per K step, so Harley-Seal would need four extra state registers
// per accumulator (ones/twos/fours/eights) that a 16-register file cannot hold: not used.
// 3 rows: 6 byte counters + lookup, mask, 2 weight vectors, broadcast and temporaries fill the 16 ymm
// registers (a 4-row tile made GCC spill counters inside the loop).
// Byte counters hold at most 8 per step, so they are widened with vpsadbw every 31 steps (31 * 8 < 256).
// Reads: exactly seg_words words of each A segment (rows come as segment pointers, see bgemm.h); the whole packed weight tile (padded to 8 columns).
#include "util/immintrin.h"

#include <algorithm>
#include <cassert>

#include "bgemm/bgemm.h"
#include "util/bits.h"

using onebit::kernels::load_pair;
using onebit::kernels::bgemm_next_row;
using onebit::kernels::load_single;

ONEBIT_BGEMM_UKERNEL(onebit_bgemm_ukernel_3x8__avx2) {
  assert(mr >= 1 && mr <= 3 && nc >= 1 && segs >= 1 && seg_words >= 1);
  const uint32_t* const* p0 = a;
  const uint32_t* const* p1 = mr > 1 ? p0 + segs : p0;
  const uint32_t* const* p2 = mr > 2 ? p1 + segs : p1;
  int32_t* out[3];
  out[0] = c;
  out[1] = bgemm_next_row(out[0], c_stride, mr > 1);
  out[2] = bgemm_next_row(out[1], c_stride, mr > 2);
  const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1,
                                       2, 2, 3, 2, 3, 3, 4);
  const __m256i low = _mm256_set1_epi8(0x0F);
  const __m256i zero = _mm256_setzero_si256();
  const size_t pairs = seg_words / 2, chunks = (seg_words + 1) / 2;
  for (size_t n0 = 0; n0 < nc; n0 += 8) {
    // 64-bit totals live in memory (touched once per 31 steps) so the byte counters keep the registers.
    alignas(32) int64_t totals[3][8] = {};
    // Walk (segment, chunk) positions in runs of at most 31 steps between widenings.
    for (size_t sg = 0, j = 0; sg < segs;) {
      __m256i b00 = zero, b01 = zero, b10 = zero, b11 = zero, b20 = zero, b21 = zero;
#define ONEBIT_COUNT(acc, v, wv)                                                                          \
  {                                                                                                     \
    const __m256i x = _mm256_xor_si256(v, wv);                                                          \
    acc = _mm256_add_epi8(acc, _mm256_add_epi8(_mm256_shuffle_epi8(lut, _mm256_and_si256(x, low)),       \
                                               _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(x, 4), low)))); \
  }
#define ONEBIT_ROW(r, av)                                            \
  {                                                                  \
    const __m256i v = _mm256_set1_epi64x(static_cast<long long>(av)); \
    ONEBIT_COUNT(b##r##0, v, w0)                                     \
    ONEBIT_COUNT(b##r##1, v, w1)                                     \
  }
#define ONEBIT_STEP(load, k)                                                          \
  {                                                                                   \
    const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w));       \
    const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 4));   \
    w += 8;                                                                           \
    ONEBIT_ROW(0, load(a0 + k)) ONEBIT_ROW(1, load(a1 + k)) ONEBIT_ROW(2, load(a2 + k)) \
  }
      for (size_t budget = 31; budget > 0 && sg < segs;) {
        const uint32_t *a0 = p0[sg], *a1 = p1[sg], *a2 = p2[sg];
        const size_t j0 = j, end = std::min(chunks, j + budget), full = std::min(end, pairs);
        for (; j < full; ++j) ONEBIT_STEP(load_pair, 2 * j)
        if (j < end) {  // odd seg_words: the last word alone
          ONEBIT_STEP(load_single, 2 * j)
          ++j;
        }
        budget -= j - j0;
        if (j == chunks) {
          j = 0;
          ++sg;
        }
      }
#undef ONEBIT_STEP
#undef ONEBIT_ROW
#undef ONEBIT_COUNT
      const __m256i b[3][2] = {{b00, b01}, {b10, b11}, {b20, b21}};
      for (int r = 0; r < 3; ++r)
        for (int h = 0; h < 2; ++h) {
          __m256i* t = reinterpret_cast<__m256i*>(totals[r] + 4 * h);
          _mm256_store_si256(t, _mm256_add_epi64(_mm256_load_si256(t), _mm256_sad_epu8(b[r][h], zero)));
        }
    }
    // Narrow to int32 and store the columns that exist. Rows >= mr alias row mr - 1 (same values).
    const size_t cols = std::min<size_t>(8, nc - n0);
    for (int r = 2; r >= 0; --r)
      for (size_t i = 0; i < cols; ++i) out[r][n0 + i] = static_cast<int32_t>(totals[r][i]);
  }
}
