// AVX2 binary GEMM body shared by the AVX2 tiles (bgemm-<MR>x<4*NV>-avx2.cc): MR rows x NV ymm vectors of
// 4 x 64-bit lanes per row, lane = output channel (an A chunk is broadcast to all lanes). Include only from
// *-avx2.cc files (AVX2 flags).
//
// Popcount: AVX2 has none, so bytes are counted with a nibble lookup (vpshufb of a 16-entry table on the
// low and the high nibble of each byte) into byte counters, widened to 64-bit totals with vpsadbw.
// Harley-Seal over K: three consecutive K steps x1, x2, x3 of one accumulator go through a full adder first,
//   s = x1 ^ x2 ^ x3            (weight 1: the sum bit of each bit position)
//   k = maj(x1, x2, x3)         (weight 2: the carry bit), so popcount(x1) + popcount(x2) + popcount(x3)
//                                = popcount(s) + 2 popcount(k),
// and k is looked up in a table holding twice the nibble popcounts. Two vectors are counted instead of three:
// per 3 x 256 binary MACs 22 vector instructions instead of 24, and 6 of them on the shuffle/shift ports
// instead of 9 (vpshufb and vpsrlw share 2 of the 4 vector ports on Zen 4 and Intel cores alike).
// Overflow bound of the byte counters: a plain step adds <= 8 to a byte (two nibbles of <= 4), a 3-step
// group <= 8 + 2 * 8 = 24 = 3 * 8; so 31 steps (31 * 8 = 248 <= 255) fit between two widenings. A run
// holds kRun = 30 steps (a multiple of 3 keeps the groups aligned with segments of 3k chunks).
// Reads: exactly seg_words words of each A segment (bgemm.h); the whole packed weight tile (NR columns).
#pragma once

#include "util/immintrin.h"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "bgemm/bgemm.h"
#include "util/bits.h"

namespace onebit::kernels::avx2 {

constexpr size_t kRun = 30;
static_assert(kRun % 3 == 0 && kRun * 8 <= 255, "byte counter bound: <= 31 steps of <= 8 per byte");

struct Tables {
  __m256i one = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3,
                                 2, 3, 3, 4);  // popcount of a nibble
  __m256i two = _mm256_add_epi8(one, one);      // twice that, for carry bits
  __m256i low = _mm256_set1_epi8(0x0F);
};

// Per byte: table[low nibble] + table[high nibble] (vpsrlw moves the high nibble down; the mask drops the
// bits shifted in from the neighbouring byte).
inline __m256i count_bytes(__m256i x, __m256i table, __m256i low) {
  return _mm256_add_epi8(_mm256_shuffle_epi8(table, _mm256_and_si256(x, low)),
                         _mm256_shuffle_epi8(table, _mm256_and_si256(_mm256_srli_epi16(x, 4), low)));
}

// Per byte: popcount(x1) + popcount(x2) + popcount(x3) through the full adder above (<= 24).
inline __m256i count3(__m256i x1, __m256i x2, __m256i x3, const Tables& t) {
  const __m256i u = _mm256_xor_si256(x1, x2);
  const __m256i s = _mm256_xor_si256(u, x3);
  const __m256i k = _mm256_or_si256(_mm256_and_si256(x1, x2), _mm256_and_si256(u, x3));
  return _mm256_add_epi8(count_bytes(s, t.one, t.low), count_bytes(k, t.two, t.low));
}

inline __m256i broadcast(uint64_t v) { return _mm256_set1_epi64x(static_cast<long long>(v)); }
inline __m256i load(const uint64_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }

template <size_t MR, size_t NV, bool kGroups = true>
void bgemm(size_t mr, size_t nc, size_t segs, size_t seg_words, const uint32_t* const* a, const uint64_t* w,
           int32_t* c, size_t c_stride) {
  constexpr size_t NR = 4 * NV;
  assert(mr >= 1 && mr <= MR && nc >= 1 && segs >= 1 && seg_words >= 1);
  const uint32_t* const* rows[MR];
  int32_t* out[MR];
  rows[0] = a;
  out[0] = c;
  for (size_t r = 1; r < MR; ++r) {
    rows[r] = r < mr ? rows[r - 1] + segs : rows[r - 1];
    out[r] = bgemm_next_row(out[r - 1], c_stride, r < mr);
  }
  const Tables t;
  const size_t pairs = seg_words / 2, chunks = (seg_words + 1) / 2;
  for (size_t n0 = 0; n0 < nc; n0 += NR) {
    __m256i total[MR][NV];  // 64-bit totals per lane, touched once per run
    for (size_t r = 0; r < MR; ++r)
      for (size_t h = 0; h < NV; ++h) total[r][h] = _mm256_setzero_si256();
    for (size_t sg = 0, j = 0; sg < segs;) {
      __m256i acc[MR][NV];  // byte counters, <= kRun steps of <= 8
      for (size_t r = 0; r < MR; ++r)
        for (size_t h = 0; h < NV; ++h) acc[r][h] = _mm256_setzero_si256();
      for (size_t budget = kRun; budget > 0 && sg < segs;) {
        const uint32_t* p[MR];
        for (size_t r = 0; r < MR; ++r) p[r] = rows[r][sg];
        const size_t j0 = j, end = std::min(chunks, j + budget), full = std::min(end, pairs);
        for (; kGroups && j + 3 <= full; j += 3, w += 3 * NR) {  // full-adder groups of 3 chunks
          for (size_t r = 0; r < MR; ++r) {
            const __m256i v1 = broadcast(load_pair(p[r] + 2 * j)), v2 = broadcast(load_pair(p[r] + 2 * j + 2)),
                          v3 = broadcast(load_pair(p[r] + 2 * j + 4));
            for (size_t h = 0; h < NV; ++h) {
              const __m256i x1 = _mm256_xor_si256(v1, load(w + 4 * h));
              const __m256i x2 = _mm256_xor_si256(v2, load(w + NR + 4 * h));
              const __m256i x3 = _mm256_xor_si256(v3, load(w + 2 * NR + 4 * h));
              acc[r][h] = _mm256_add_epi8(acc[r][h], count3(x1, x2, x3, t));
            }
          }
        }
        for (; j < end; ++j, w += NR) {  // the rest one chunk at a time; odd seg_words: the last word alone
          for (size_t r = 0; r < MR; ++r) {
            const __m256i v = broadcast(j < pairs ? load_pair(p[r] + 2 * j) : load_single(p[r] + 2 * j));
            for (size_t h = 0; h < NV; ++h) {
              const __m256i x = _mm256_xor_si256(v, load(w + 4 * h));
              acc[r][h] = _mm256_add_epi8(acc[r][h], count_bytes(x, t.one, t.low));
            }
          }
        }
        budget -= j - j0;
        if (j == chunks) j = 0, ++sg;
      }
      for (size_t r = 0; r < MR; ++r)
        for (size_t h = 0; h < NV; ++h)
          total[r][h] = _mm256_add_epi64(total[r][h], _mm256_sad_epu8(acc[r][h], _mm256_setzero_si256()));
    }
    // Narrow the 64-bit lanes (<= K bits) to int32: dwords 0, 2, 4, 6 hold them. Rows >= mr alias row
    // mr - 1 (same values): written in descending order, the real row last.
    const __m256i even = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
    const size_t cols = std::min(NR, nc - n0);
    for (size_t r = MR; r-- > 0;) {
      alignas(32) int32_t v[NR];
      for (size_t h = 0; h < NV; ++h) {
        const __m128i q = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(total[r][h], even));
        _mm_store_si128(reinterpret_cast<__m128i*>(v + 4 * h), q);
      }
      std::memcpy(out[r] + n0, v, cols * sizeof(int32_t));
    }
  }
}

}  // namespace onebit::kernels::avx2
