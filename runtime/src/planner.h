// Arena planner: places buffers with known lifetimes in one arena (the greedy scheme of TensorFlow Lite
// Micro's GreedyMemoryPlanner).
//
// Each buffer is live over the closed step interval [first, last]. Buffers are placed largest first
// (ties: lower index first); each goes at the lowest 16-byte aligned offset where it does not overlap any
// already placed buffer whose lifetime intersects its own. Two buffers that are never live at the same step
// may share bytes. The arena is the highest end of any buffer plus kArenaSlack bytes, so kernels that read
// a little past an input (XNNPACK reads up to 16 bytes) stay inside it.
#pragma once

#include <cstddef>
#include <vector>

namespace onebit::rt {

inline constexpr size_t kArenaAlignment = 16;
inline constexpr size_t kArenaSlack = 16;

struct PlannedBuffer {
  size_t bytes = 0;
  int first = 0;  // first step at which the buffer is live (written)
  int last = 0;   // last step at which it is read
};

struct ArenaPlan {
  std::vector<size_t> offsets;  // one per buffer, multiples of kArenaAlignment
  size_t arena_bytes = 0;       // includes kArenaSlack
};

ArenaPlan plan_arena(const std::vector<PlannedBuffer>& buffers);

/// Lower bound of any valid plan: the largest sum of the sizes of buffers live at one step.
size_t liveness_lower_bound(const std::vector<PlannedBuffer>& buffers);

}  // namespace onebit::rt
