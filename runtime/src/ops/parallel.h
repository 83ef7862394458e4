// Splitting an operator's run() over the interpreter's pthreadpool, for the plain-loop operators.
//
// The work is a range of independent items (pixels, rows of an NHWC image, rows of a batch, spans of output
// elements); each item is computed by the same code whatever the partition, so the output is bit-identical
// for every thread count (never a reduction split across tasks). A task writes at least kMinTaskBytes of
// output (for bit-packed outputs that is 32 times as many values as for floats: their tasks read >= 512 KB
// of floats or AND >= 4K words per window tap) so that the dispatch (microseconds) is amortized, and
// about kTasksPerThread tasks per thread are made for balance. A null pool, or work that fits one task,
// runs inline: no dispatch.
// Nothing here allocates or locks; pthreadpool's own dispatch is its business.
#pragma once

#include <pthreadpool.h>

#include <algorithm>
#include <cstddef>

namespace onebit::rt {

constexpr size_t kMinTaskBytes = 16 * 1024;
constexpr size_t kTasksPerThread = 4;

/// Items per task for `items` items writing `bytes_per_item` bytes of output each; `items` means one task
/// (run serially).
inline size_t task_items(pthreadpool_t pool, size_t items, size_t bytes_per_item) {
  if (pool == nullptr || items == 0) return items;
  const size_t threads = pthreadpool_get_threads_count(pool);
  if (threads <= 1) return items;
  const size_t min_items = std::max<size_t>(1, (kMinTaskBytes + bytes_per_item - 1) / std::max<size_t>(1, bytes_per_item));
  const size_t tasks = threads * kTasksPerThread;
  return std::min(items, std::max(min_items, (items + tasks - 1) / tasks));
}

/// Calls body(begin, end) over [0, items) in tiles of task_items(); body must be safe to run concurrently on
/// disjoint ranges. No std::function (it could allocate): the body's address is pthreadpool's context.
template <typename Body>
void parallel_for(pthreadpool_t pool, size_t items, size_t bytes_per_item, const Body& body) {
  if (items == 0) return;
  const size_t tile = task_items(pool, items, bytes_per_item);
  if (tile >= items) {
    body(size_t{0}, items);
    return;
  }
  pthreadpool_parallelize_1d_tile_1d(
      pool,
      [](void* context, size_t begin, size_t count) { (*static_cast<const Body*>(context))(begin, begin + count); },
      const_cast<Body*>(&body), items, tile, 0);
}

}  // namespace onebit::rt
