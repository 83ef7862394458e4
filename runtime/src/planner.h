// Arena planner: places buffers with known lifetimes in one arena (the greedy scheme of TensorFlow Lite
// Micro's GreedyMemoryPlanner).
//
// Each buffer is live over the closed step interval [first, last]; a buffer may shrink: after step
// shrink_after only its first head_bytes stay live (an operator wrote a smaller output over the start of
// its input). Buffers are placed largest first (ties: lower index first); each goes at the lowest 16-byte
// aligned offset where it does not overlap any already placed buffer whose lifetime intersects its own, a
// neighbour that shrank before this buffer's first step counting with its head only (so its freed tail is
// reused; a shrinking buffer is itself placed at its full size). Two buffers may share bytes only where they
// are never live at the same step. Empty buffers get offset 0. The arena is the highest end of any buffer
// plus kArenaSlack bytes, so kernels that read a little past an input (XNNPACK reads up to 16 bytes) stay
// inside it.
//
// Cost: O(n log n + K log K) for K pairs of buffers live together (a chain: K ~ n). Above
// kMaxGreedyConflicts pairs, buffers are placed by a first-fit free list in step order instead (O(n log n),
// still valid, arena possibly larger; a shrinking buffer frees its tail after its shrink step), so a file can
// never make planning quadratic. On Cortex-M (ONEBIT_MCU) the limit is 4096 pairs (their lists come from
// the caller's arena) and above it each buffer gets bytes of its own, one after another (O(n), valid, the
// largest arena; no ordered map and set in flash for a case no microcontroller model reaches).
#pragma once

#include <climits>
#include <cstddef>
#include <vector>

#include "onebit/pool.h"

namespace onebit::rt {

inline constexpr size_t kArenaAlignment = 16;
inline constexpr size_t kArenaSlack = 16;
#if ONEBIT_MCU
inline constexpr size_t kMaxGreedyConflicts = size_t(1) << 12;
#else
inline constexpr size_t kMaxGreedyConflicts = size_t(1) << 21;
#endif

struct PlannedBuffer {
  size_t bytes = 0;
  int first = 0;  // first step at which the buffer is live (written)
  int last = 0;   // last step at which it is read
  // After step shrink_after, only the first head_bytes are live (to `last`); only when
  // first <= shrink_after < last and head_bytes < bytes (shrinks()), which the defaults are not.
  int shrink_after = INT_MAX;
  size_t head_bytes = 0;

  bool shrinks() const { return first <= shrink_after && shrink_after < last && head_bytes < bytes; }
  /// The bytes live at `step` (within [first, last]).
  size_t bytes_at(int step) const { return shrinks() && step > shrink_after ? head_bytes : bytes; }
};

struct ArenaPlan {
  Vec<size_t> offsets;  // one per buffer, multiples of kArenaAlignment
  size_t arena_bytes = 0;       // includes kArenaSlack
};

/// max_greedy_conflicts: tests pass 0 to exercise the free-list placement.
ArenaPlan plan_arena(const Vec<PlannedBuffer>& buffers, size_t max_greedy_conflicts = kMaxGreedyConflicts);

/// Lower bound of any valid plan: the largest sum of the bytes live at one step (heads after a shrink;
/// O(n log n)); *peak_step, when given, is a step where it is reached.
size_t liveness_lower_bound(const Vec<PlannedBuffer>& buffers, int* peak_step = nullptr);

}  // namespace onebit::rt
