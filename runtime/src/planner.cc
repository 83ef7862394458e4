#include "planner.h"

#include <algorithm>
#include <numeric>

namespace onebit::rt {
namespace {

size_t align_up(size_t v) { return (v + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment; }

bool lifetimes_intersect(const PlannedBuffer& a, const PlannedBuffer& b) {
  return a.first <= b.last && b.first <= a.last;
}

}  // namespace

ArenaPlan plan_arena(const std::vector<PlannedBuffer>& buffers) {
  ArenaPlan plan;
  plan.offsets.assign(buffers.size(), 0);
  std::vector<size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return buffers[a].bytes > buffers[b].bytes; });

  std::vector<size_t> placed;  // indices already placed
  std::vector<std::pair<size_t, size_t>> busy;  // [begin, end) of conflicting placed buffers
  size_t high = 0;
  for (size_t i : order) {
    const size_t bytes = buffers[i].bytes;
    busy.clear();
    for (size_t j : placed) {
      if (lifetimes_intersect(buffers[i], buffers[j]) && buffers[j].bytes > 0)
        busy.emplace_back(plan.offsets[j], plan.offsets[j] + buffers[j].bytes);
    }
    std::sort(busy.begin(), busy.end());
    // Lowest gap: walk the conflicting intervals by start offset.
    size_t offset = 0;
    for (const auto& [begin, end] : busy) {
      if (bytes > 0 && offset + bytes <= begin) break;
      offset = std::max(offset, align_up(end));
    }
    plan.offsets[i] = offset;
    high = std::max(high, offset + bytes);
    placed.push_back(i);
  }
  plan.arena_bytes = high + kArenaSlack;
  return plan;
}

size_t liveness_lower_bound(const std::vector<PlannedBuffer>& buffers) {
  int steps = 0;
  for (const PlannedBuffer& b : buffers) steps = std::max(steps, b.last + 1);
  size_t best = 0;
  for (int s = 0; s < steps; ++s) {
    size_t live = 0;
    for (const PlannedBuffer& b : buffers) {
      if (b.first <= s && s <= b.last) live += b.bytes;
    }
    best = std::max(best, live);
  }
  return best;
}

}  // namespace onebit::rt
