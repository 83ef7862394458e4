// The Cortex-M build's stand-in for pthreadpool (ONEBIT_MCU): no threads, so no pool ever exists and every
// "parallel" loop runs inline on the caller's stack, in index order. Only the calls onebit makes are here,
// with pthreadpool's signatures, so kernels and operators compile unchanged. On the CMake include path of
// the Cortex-M build only (core/CMakeLists.txt), never beside the real header.
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef struct pthreadpool* pthreadpool_t;
typedef void (*pthreadpool_task_1d_t)(void*, size_t);
typedef void (*pthreadpool_task_1d_tile_1d_t)(void*, size_t, size_t);

static inline pthreadpool_t pthreadpool_create(size_t threads) {
  (void)threads;
  return NULL;  // the interpreter treats a null pool as "run inline"; threads > 1 is refused before this
}
static inline void pthreadpool_destroy(pthreadpool_t pool) { (void)pool; }
static inline size_t pthreadpool_get_threads_count(pthreadpool_t pool) {
  (void)pool;
  return 1;
}
static inline void pthreadpool_parallelize_1d(pthreadpool_t pool, pthreadpool_task_1d_t task, void* context,
                                              size_t range, uint32_t flags) {
  (void)pool;
  (void)flags;
  for (size_t i = 0; i < range; ++i) task(context, i);
}
static inline void pthreadpool_parallelize_1d_tile_1d(pthreadpool_t pool, pthreadpool_task_1d_tile_1d_t task,
                                                      void* context, size_t range, size_t tile, uint32_t flags) {
  (void)pool;
  (void)flags;
  for (size_t i = 0; i < range; i += tile) task(context, i, range - i < tile ? range - i : tile);
}
