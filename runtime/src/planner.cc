// Greedy placement in O(n log n + K log K), K = number of pairs of (non-empty) buffers whose lifetimes
// intersect: the conflicting pairs are listed once by a sweep over first steps, then each buffer, largest
// first, looks only at its own placed neighbours (one that shrank before the buffer is first written counts
// with its head only). When K is above kMaxGreedyConflicts (many buffers live at once), a first-fit
// free-list allocator in step order places them instead in O(n log n): a valid plan, possibly a larger
// arena, never a quadratic plan.
#include "onebit/pool.h"
#include "planner.h"

#include <algorithm>
#include <cstdint>
#include <numeric>
#if !ONEBIT_MCU
#include <map>
#include <set>
#endif

namespace onebit::rt {
namespace {

/// Buffer indices: unsigned, which is uint32_t on the desktop targets and size_t's type on Cortex-M (there
/// uint32_t is unsigned long, another type): the index vectors share their code with the size_t ones in flash.
using Index = unsigned;

size_t align_up(size_t v) { return (v + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment; }

/// Heap sort of n elements of `size` bytes into ascending order by less(a, b, ctx): one out-of-line function
/// for every list the planner sorts (std::sort, instantiated per element type and comparator, took ~3 KB of
/// Cortex-M flash), with no temporary buffer (none from the heap on Cortex-M). Not stable: every caller's
/// order is total or its ties are equal elements or leave the result alone (liveness_lower_bound), so the
/// result is the one std::sort gave.
using ElementLess = bool (*)(const void* a, const void* b, const void* ctx);
void heap_sort(void* base, size_t n, size_t size, ElementLess less, const void* ctx) {
  unsigned char* p = static_cast<unsigned char*>(base);
  const auto swap = [p, size](size_t i, size_t j) {
    for (size_t k = 0; k < size; ++k) std::swap(p[i * size + k], p[j * size + k]);
  };
  const auto sift_down = [&](size_t i, size_t end) {  // a max-heap over [0, end)
    for (size_t c = 2 * i + 1; c < end; i = c, c = 2 * i + 1) {
      if (c + 1 < end && less(p + c * size, p + (c + 1) * size, ctx)) ++c;
      if (!less(p + i * size, p + c * size, ctx)) return;
      swap(i, c);
    }
  };
  for (size_t i = n / 2; i-- > 0;) sift_down(i, n);
  for (size_t end = n; end > 1; --end) {
    swap(0, end - 1);
    sift_down(0, end - 1);
  }
}

using BufferLess = bool (*)(const PlannedBuffer& a, const PlannedBuffer& b);
struct IndexOrder {
  const Vec<PlannedBuffer>* buffers;
  BufferLess less;
};
bool index_less(const void* a, const void* b, const void* ctx) {
  const IndexOrder& o = *static_cast<const IndexOrder*>(ctx);
  const Index i = *static_cast<const Index*>(a), j = *static_cast<const Index*>(b);
  const PlannedBuffer &x = (*o.buffers)[i], &y = (*o.buffers)[j];
  return o.less(x, y) || (!o.less(y, x) && i < j);
}

/// std::stable_sort of a list of distinct buffer indices by `less` of their buffers: the same order (ties by
/// index).
void stable_sort_indices(Vec<Index>& v, const Vec<PlannedBuffer>& buffers, BufferLess less) {
  const IndexOrder order{&buffers, less};
  heap_sort(v.data(), v.size(), sizeof(Index), index_less, &order);
}

template <typename Pair>
bool pair_less(const void* a, const void* b, const void*) {
  return *static_cast<const Pair*>(a) < *static_cast<const Pair*>(b);
}

/// Conflicting pairs of `live` (indices of non-empty buffers), by a sweep in order of first step: when a
/// buffer starts, every buffer still live (started no later, last >= its first) conflicts with it. Stops
/// counting at `limit` + 1 and returns false then; *pairs is filled only when it returns true.
bool conflicting_pairs(const Vec<PlannedBuffer>& buffers, const Vec<Index>& live, size_t limit,
                       Vec<std::pair<Index, Index>>* pairs) {
  Vec<Index> by_first = live;
  stable_sort_indices(by_first, buffers,
                      [](const PlannedBuffer& a, const PlannedBuffer& b) { return a.first < b.first; });
  using Entry = std::pair<int, Index>;  // (last, index), a min-heap on last
  Vec<Entry> open;  // heap storage in a vector we can iterate
  auto later = [](const Entry& a, const Entry& b) { return a > b; };
  // Pass 0 counts; pass 1 lists (so that a huge K never allocates its list). One heap code for both.
  size_t k = 0;
  for (int pass = 0; pass < 2; ++pass) {
    open.clear();
    for (Index i : by_first) {
      while (!open.empty() && open.front().first < buffers[i].first) {
        std::pop_heap(open.begin(), open.end(), later);
        open.pop_back();
      }
      if (pass == 0) {
        k += open.size();
        if (k > limit) return false;
      } else {
        for (const Entry& e : open) pairs->emplace_back(e.second, i);
      }
      open.emplace_back(buffers[i].last, i);
      std::push_heap(open.begin(), open.end(), later);
    }
    if (pass == 0) pairs->reserve(k);
  }
  return true;
}

/// TensorFlow Lite Micro's greedy scheme: largest first (ties: lower index first), each at the lowest
/// aligned offset that overlaps no placed neighbour.
void place_greedy(const Vec<PlannedBuffer>& buffers, const Vec<Index>& live,
                  const Vec<std::pair<Index, Index>>& pairs, ArenaPlan* plan, size_t* high) {
  Vec<Index> degree_start(buffers.size() + 1, 0);
  for (const auto& [a, b] : pairs) ++degree_start[a + 1], ++degree_start[b + 1];
  std::partial_sum(degree_start.begin(), degree_start.end(), degree_start.begin());
  Vec<Index> neighbours(degree_start.back());
  Vec<Index> fill(degree_start.begin(), degree_start.end() - 1);
  for (const auto& [a, b] : pairs) neighbours[fill[a]++] = b, neighbours[fill[b]++] = a;

  Vec<Index> order = live;
  stable_sort_indices(order, buffers, [](const PlannedBuffer& a, const PlannedBuffer& b) { return a.bytes > b.bytes; });
  Vec<uint8_t> placed(buffers.size(), 0);  // bytes: no Vec<bool> code in flash
  Vec<std::pair<size_t, size_t>> busy;  // [begin, end) of placed neighbours
  for (Index i : order) {
    const size_t bytes = buffers[i].bytes;
    busy.clear();
    for (Index k = degree_start[i]; k < degree_start[i + 1]; ++k) {
      const Index j = neighbours[k];
      // A neighbour that shrank before i is first written takes only its head from i's point of view.
      const size_t extent = buffers[j].bytes_at(buffers[i].first);
      if (placed[j] && extent > 0) busy.emplace_back(plan->offsets[j], plan->offsets[j] + extent);
    }
    heap_sort(busy.data(), busy.size(), sizeof busy[0], pair_less<std::pair<size_t, size_t>>, nullptr);
    size_t offset = 0;
    for (const auto& [begin, end] : busy) {
      if (offset + bytes <= begin) break;
      offset = std::max(offset, align_up(end));
    }
    plan->offsets[i] = offset;
    *high = std::max(*high, offset + bytes);
    placed[i] = true;
  }
}

#if ONEBIT_MCU
/// Each buffer after the previous one (planner.h: Cortex-M's fallback above kMaxGreedyConflicts).
void place_in_sequence(const Vec<PlannedBuffer>& buffers, const Vec<Index>& live, ArenaPlan* plan,
                       size_t* high) {
  size_t top = 0;
  for (Index i : live) {
    plan->offsets[i] = top;
    *high = top + buffers[i].bytes;
    top += align_up(buffers[i].bytes);
  }
}
#else
/// First fit from a free list, in step order: at each step the buffers whose last read was the previous
/// step are freed (coalescing neighbours), and the tails of those that shrank after it, then the buffers
/// first written at this step are placed, largest first. Free blocks live in an ordered map by offset plus
/// a set by size for the best-fit lookup.
void place_free_list(const Vec<PlannedBuffer>& buffers, const Vec<Index>& live,
                     ArenaPlan* plan, size_t* high) {
  Vec<Index> by_first = live, by_last = live, by_shrink;
  for (Index i : live) {
    if (buffers[i].shrinks()) by_shrink.push_back(i);
  }
  stable_sort_indices(by_first, buffers, [](const PlannedBuffer& a, const PlannedBuffer& b) {
    return a.first != b.first ? a.first < b.first : a.bytes > b.bytes;
  });
  stable_sort_indices(by_last, buffers, [](const PlannedBuffer& a, const PlannedBuffer& b) { return a.last < b.last; });
  stable_sort_indices(by_shrink, buffers,
                      [](const PlannedBuffer& a, const PlannedBuffer& b) { return a.shrink_after < b.shrink_after; });
  std::map<size_t, size_t, std::less<size_t>, Allocator<std::pair<const size_t, size_t>>> free_at;  // offset -> size
  std::set<std::pair<size_t, size_t>, std::less<std::pair<size_t, size_t>>, Allocator<std::pair<size_t, size_t>>>
      by_size;  // (size, offset)
  size_t top = 0;                               // aligned end of everything ever placed
  auto release = [&](size_t offset, size_t size) {
    auto next = free_at.lower_bound(offset);
    if (next != free_at.end() && offset + size == next->first) {
      size += next->second;
      by_size.erase({next->second, next->first});
      next = free_at.erase(next);
    }
    if (next != free_at.begin()) {
      auto prev = std::prev(next);
      if (prev->first + prev->second == offset) {
        by_size.erase({prev->second, prev->first});
        offset = prev->first;
        size += prev->second;
        free_at.erase(prev);
      }
    }
    if (offset + size == top) {  // the top block shrinks the high end instead of staying free
      top = offset;
      return;
    }
    free_at[offset] = size;
    by_size.insert({size, offset});
  };
  // The aligned bytes a buffer holds to its last read: its head when it shrinks (its tail is freed earlier).
  auto kept = [&](Index j) { return align_up(buffers[j].shrinks() ? buffers[j].head_bytes : buffers[j].bytes); };
  size_t freed = 0, shrunk = 0;
  for (Index i : by_first) {
    while (shrunk < by_shrink.size() && buffers[by_shrink[shrunk]].shrink_after < buffers[i].first) {
      const Index j = by_shrink[shrunk++];
      const size_t full = align_up(buffers[j].bytes);
      if (kept(j) < full) release(plan->offsets[j] + kept(j), full - kept(j));
    }
    while (freed < by_last.size() && buffers[by_last[freed]].last < buffers[i].first) {
      const Index j = by_last[freed++];
      if (kept(j) > 0) release(plan->offsets[j], kept(j));
    }
    const size_t need = align_up(buffers[i].bytes);
    auto fit = by_size.lower_bound({need, 0});
    size_t offset;
    if (fit != by_size.end()) {
      offset = fit->second;
      const size_t size = fit->first;
      by_size.erase(fit);
      free_at.erase(offset);
      if (size > need) {
        free_at[offset + need] = size - need;
        by_size.insert({size - need, offset + need});
      }
    } else {
      offset = top;
      top += need;
    }
    plan->offsets[i] = offset;
    *high = std::max(*high, offset + buffers[i].bytes);
  }
}
#endif

}  // namespace

ArenaPlan plan_arena(const Vec<PlannedBuffer>& buffers, size_t max_greedy_conflicts) {
  ArenaPlan plan;
  plan.offsets.assign(buffers.size(), 0);
  Vec<Index> live;  // empty buffers stay at offset 0 and conflict with nothing
  for (size_t i = 0; i < buffers.size(); ++i) {
    if (buffers[i].bytes > 0) live.push_back(Index(i));
  }
  size_t high = 0;
  Vec<std::pair<Index, Index>> pairs;
  if (conflicting_pairs(buffers, live, max_greedy_conflicts, &pairs))
    place_greedy(buffers, live, pairs, &plan, &high);
  else
#if ONEBIT_MCU
    place_in_sequence(buffers, live, &plan, &high);
#else
    place_free_list(buffers, live, &plan, &high);
#endif
  plan.arena_bytes = high + kArenaSlack;
  return plan;
}

size_t liveness_lower_bound(const Vec<PlannedBuffer>& buffers, int* peak_step) {
  // Sweep: +bytes at first, -(bytes - head) after the shrink step, -the rest after last; at equal steps
  // starts come before ends.
  Vec<std::pair<int64_t, int64_t>> events;  // (step * 2 + (0 start | 1 end), delta)
  size_t shrinking = 0;
  for (const PlannedBuffer& b : buffers) shrinking += b.shrinks() ? 1 : 0;
  events.reserve(2 * buffers.size() + shrinking);
  for (const PlannedBuffer& b : buffers) {
    if (b.bytes == 0) continue;
    const size_t kept = b.shrinks() ? b.head_bytes : b.bytes;
    events.emplace_back(int64_t(b.first) * 2, int64_t(b.bytes));
    if (kept < b.bytes) events.emplace_back(int64_t(b.shrink_after) * 2 + 1, -int64_t(b.bytes - kept));
    events.emplace_back(int64_t(b.last) * 2 + 1, -int64_t(kept));
  }
  // By key alone: events of one key are all starts (+) or all ends (-), so their order leaves the peak alone.
  heap_sort(events.data(), events.size(), sizeof events[0],
            [](const void* a, const void* b, const void*) {
              return static_cast<const std::pair<int64_t, int64_t>*>(a)->first <
                     static_cast<const std::pair<int64_t, int64_t>*>(b)->first;
            },
            nullptr);
  int64_t live = 0, best = 0, best_key = 0;
  for (const auto& [key, delta] : events) {
    live += delta;
    if (live > best) best = live, best_key = key;
  }
  if (peak_step != nullptr) *peak_step = int(best_key / 2);
  return size_t(best);
}

}  // namespace onebit::rt
