// Scalar binary GEMM on weight rows where they lie (bgemm.h, row-weight ABI): an MR x NR register tile on
// 32-bit words, for cores without a popcount instruction (Cortex-M). Each XOR is reduced to byte counts
// (SWAR, each byte <= 8), summed in byte lanes for up to 31 words (31 * 8 = 248 < 256) and then folded into
// the pair's total: 9 Thumb-2 instructions per word and output in the loop (XOR, 7 for the byte counts, the
// lane add) instead of a full popcount's 11-12. K is walked as a list of runs (a run: up to 31 words of one
// segment of the rows), listed once per call and reused by every column tile. The tile is a template so that
// mcu/bench/bgemm_bench.cc can measure other shapes; the listed ukernels (bgemm-ukernels.h) instantiate the
// chosen one.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>

#include "bgemm/bgemm.h"

namespace onebit::kernels::rows {

/// Hides v's value from the optimizer: GCC rewrites (x & 0xAAAAAAAA) >> 1 as (x >> 1) & 0x55555555, which
/// Thumb-2 needs 3 instructions for (shift, AND with the immediate, subtract) instead of 2 (AND with the
/// immediate, subtract with a shifted operand).
#if defined(__GNUC__) && defined(__thumb2__)
#define ONEBIT_BGEMM_OPAQUE(v) __asm__("" : "+r"(v))
#else
#define ONEBIT_BGEMM_OPAQUE(v) (void)0
#endif

/// Popcount of each byte of x (each result <= 8), in the byte lanes of the result: 7 Thumb-2 instructions.
__attribute__((always_inline)) inline uint32_t byte_counts(uint32_t x) {
  uint32_t t = x & 0xAAAAAAAAu;
  ONEBIT_BGEMM_OPAQUE(t);
  x -= t >> 1;  // 2-bit counts
  t = x & 0xCCCCCCCCu;
  ONEBIT_BGEMM_OPAQUE(t);
  x = (x & 0x33333333u) + (t >> 2);   // 4-bit counts
  return (x + (x >> 4)) & 0x0F0F0F0Fu;  // 8-bit counts
}

/// Sum of the four byte lanes of x (up to 4 * 255: through 16-bit halves, a multiply would overflow a byte).
__attribute__((always_inline)) inline uint32_t sum_bytes(uint32_t x) {
  x = (x & 0x00FF00FFu) + ((x >> 8) & 0x00FF00FFu);
  return (x + (x >> 16)) & 0xFFFFu;
}

/// Words summed in byte lanes before they are folded: each word adds at most 8 to a lane.
constexpr size_t kLaneWords = 31;

/// A run of words within one segment of the rows: count words (1..kLaneWords) from a[i] in row i, and from
/// word k of the columns' rows.
template <size_t MR>
struct Run {
  const uint32_t* a[MR];
  size_t k;
  size_t count;  // 0: end of the list
  bool fold;     // fold the byte lanes into the totals after this run
};

/// Runs per list (a 3x3 window read in place is 3 runs; longer K takes several lists).
constexpr size_t kMaxRuns = 12;

/// One column tile's state: its rows, its folded totals, and a list of runs of the rows.
template <size_t MR, size_t NR>
struct Tile {
  const uint32_t* col[NR];
  uint32_t acc[MR][NR];
  Run<MR> runs[kMaxRuns + 1];
};

/// The word loop over the run list for one column tile, in a function of its own (not inlined) whose state
/// is a pointer: at -Os GCC's register allocator weighs every spill by its size, not by how often it runs,
/// so with more values live around the word loop than the loop leaves registers for (an MR + NR = 5 tile's
/// loop takes 13 of the 14), it spilled the loop's pointers (3 instructions per load instead of 1). The
/// pointers of a run are set from the run, so none is live after the loop (GCC would otherwise keep their
/// start values to compute their ends).
template <size_t MR, size_t NR>
__attribute__((noinline)) void count_runs(Tile<MR, NR>* t) {
  uint32_t lanes[MR][NR] = {};
  for (const Run<MR>* r = t->runs; r->count != 0; ++r) {
    const uint32_t* a[MR];
    const uint32_t* w[NR];
#pragma GCC unroll 8
    for (size_t i = 0; i < MR; ++i) a[i] = r->a[i];
#pragma GCC unroll 8
    for (size_t n = 0; n < NR; ++n) w[n] = t->col[n] + r->k;
    const uint32_t* const end = a[0] + r->count;
    do {
      uint32_t av[MR];
#pragma GCC unroll 8
      for (size_t i = 0; i < MR; ++i) av[i] = *a[i]++;
#pragma GCC unroll 8
      for (size_t n = 0; n < NR; ++n) {
        const uint32_t wv = *w[n]++;
#pragma GCC unroll 8
        for (size_t i = 0; i < MR; ++i) lanes[i][n] += byte_counts(av[i] ^ wv);
      }
    } while (a[0] != end);
    if (r->fold) {
#pragma GCC unroll 8
      for (size_t i = 0; i < MR; ++i)
#pragma GCC unroll 8
        for (size_t n = 0; n < NR; ++n) t->acc[i][n] += sum_bytes(lanes[i][n]), lanes[i][n] = 0;
    }
  }
}

/// Where the run list stands: segment s, word k of it, done words of K, used words of the lanes.
struct RunCursor {
  size_t s = 0, k = 0, done = 0, used = 0;
};

/// Writes the next runs of the rows into t->runs (at most kMaxRuns, cut at segment ends and where the lanes
/// fill up; the list's last run folds) and ends the list; returns whether K is done.
template <size_t MR, size_t NR>
bool next_runs(Tile<MR, NR>* t, const uint32_t* const* const* row, size_t segs, size_t seg_words,
               RunCursor* at) {
  const size_t k_words = segs * seg_words;
  size_t runs = 0;
  while (at->done < k_words && runs < kMaxRuns) {
    Run<MR>& run = t->runs[runs++];
    for (size_t i = 0; i < MR; ++i) run.a[i] = row[i][at->s] + at->k;
    run.k = at->done;
    run.count = seg_words - at->k < kLaneWords - at->used ? seg_words - at->k : kLaneWords - at->used;
    at->done += run.count;
    at->used += run.count;
    at->k += run.count;
    if (at->k == seg_words) at->k = 0, ++at->s;
    run.fold = at->used == kLaneWords || at->done == k_words || runs == kMaxRuns;
    if (run.fold) at->used = 0;
  }
  t->runs[runs].count = 0;
  return at->done == k_words;
}

/// The ukernel (bgemm.h, row-weight ABI) on an MR x NR tile.
template <size_t MR, size_t NR>
__attribute__((always_inline)) inline void bgemm(size_t mr, size_t nc, size_t segs, size_t seg_words,
                                                 const uint32_t* const* a, const uint32_t* w, size_t w_stride,
                                                 int32_t* c, size_t c_stride) {
  assert(mr >= 1 && mr <= MR && nc >= 1 && segs >= 1 && seg_words >= 1);
  const uint32_t* const* row[MR];
  for (size_t i = 0; i < MR; ++i) row[i] = a + (i < mr ? i : mr - 1) * segs;
  // The run list depends on the rows only: made once for every column tile when K fits in one list, else
  // list by list for each column tile (each list's last run folds into the totals).
  Tile<MR, NR> t;
  RunCursor first;
  const bool one_list = next_runs(&t, row, segs, seg_words, &first);
  for (size_t n0 = 0; n0 < nc; n0 += NR) {
    // Columns past nc alias the last one (read, never stored).
    for (size_t n = 0; n < NR; ++n) t.col[n] = w + (n0 + n < nc ? n0 + n : nc - 1) * w_stride;
    for (size_t i = 0; i < MR; ++i)
      for (size_t n = 0; n < NR; ++n) t.acc[i][n] = 0;
    if (one_list) {
      count_runs(&t);
    } else {
      RunCursor at;
      for (bool last = false; !last;) {
        last = next_runs(&t, row, segs, seg_words, &at);
        count_runs(&t);
      }
    }
    // Rows >= mr alias row mr - 1: not written.
    const size_t nn = nc - n0 < NR ? nc - n0 : NR;
    for (size_t i = 0; i < mr; ++i) {
      int32_t* out = reinterpret_cast<int32_t*>(reinterpret_cast<char*>(c) + i * c_stride) + n0;
      for (size_t n = 0; n < nn; ++n) out[n] = static_cast<int32_t>(t.acc[i][n]);
    }
  }
}

}  // namespace onebit::kernels::rows
