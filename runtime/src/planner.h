// Arena planner: places buffers with known lifetimes in one arena (the greedy scheme of TensorFlow Lite
// Micro's GreedyMemoryPlanner).
//
// Each buffer is live over the closed step interval [first, last]. Buffers are placed largest first
// (ties: lower index first); each goes at the lowest 16-byte aligned offset where it does not overlap any
// already placed buffer whose lifetime intersects its own. Two buffers that are never live at the same step
// may share bytes. Empty buffers get offset 0. The arena is the highest end of any buffer plus kArenaSlack
// bytes, so kernels that read a little past an input (XNNPACK reads up to 16 bytes) stay inside it.
//
// Cost: O(n log n + K log K) for K pairs of buffers live together (a chain: K ~ n). Above
// kMaxGreedyConflicts pairs, buffers are placed by a first-fit free list in step order instead (O(n log n),
// still valid, arena possibly larger), so a file can never make planning quadratic.
#pragma once

#include <cstddef>
#include <vector>

#include "onebit/pool.h"

namespace onebit::rt {

inline constexpr size_t kArenaAlignment = 16;
inline constexpr size_t kArenaSlack = 16;
inline constexpr size_t kMaxGreedyConflicts = size_t(1) << 21;

struct PlannedBuffer {
  size_t bytes = 0;
  int first = 0;  // first step at which the buffer is live (written)
  int last = 0;   // last step at which it is read
};

struct ArenaPlan {
  Vec<size_t> offsets;  // one per buffer, multiples of kArenaAlignment
  size_t arena_bytes = 0;       // includes kArenaSlack
};

/// max_greedy_conflicts: tests pass 0 to exercise the free-list placement.
ArenaPlan plan_arena(const Vec<PlannedBuffer>& buffers, size_t max_greedy_conflicts = kMaxGreedyConflicts);

/// Lower bound of any valid plan: the largest sum of the sizes of buffers live at one step (O(n log n));
/// *peak_step, when given, is a step where it is reached.
size_t liveness_lower_bound(const Vec<PlannedBuffer>& buffers, int* peak_step = nullptr);

}  // namespace onebit::rt
