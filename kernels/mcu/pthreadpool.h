// Bare-metal stand-in for pthreadpool's header (ONEBIT_MCU builds only: kernels/CMakeLists.txt puts this
// folder on the include path instead of the library's). There are no threads and no heap: a "pool" of n
// threads is the number n in pointer form (null: one thread), and parallelize runs every task inline, in
// order, on the caller - what pthreadpool itself does for a null pool. So code written for a pool (the
// kernels' work split, the tests that run it on pools of 1-4) runs unchanged and computes the same.
// Only what the kernels and their tests use is here.
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pthreadpool* pthreadpool_t;
typedef void (*pthreadpool_task_1d_t)(void* context, size_t i);

static inline pthreadpool_t pthreadpool_create(size_t threads) {
  return (pthreadpool_t)(uintptr_t)(threads > 1 ? threads : 1);
}

static inline void pthreadpool_destroy(pthreadpool_t pool) { (void)pool; }

static inline size_t pthreadpool_get_threads_count(pthreadpool_t pool) {
  return pool != NULL ? (size_t)(uintptr_t)pool : 1;
}

static inline void pthreadpool_parallelize_1d(pthreadpool_t pool, pthreadpool_task_1d_t task, void* context,
                                              size_t range, uint32_t flags) {
  (void)pool;
  (void)flags;
  for (size_t i = 0; i < range; ++i) task(context, i);
}

typedef void (*pthreadpool_task_1d_tile_1d_t)(void* context, size_t start, size_t count);

static inline void pthreadpool_parallelize_1d_tile_1d(pthreadpool_t pool, pthreadpool_task_1d_tile_1d_t task,
                                                      void* context, size_t range, size_t tile, uint32_t flags) {
  (void)pool;
  (void)flags;
  for (size_t i = 0; i < range; i += tile) task(context, i, range - i < tile ? range - i : tile);
}

#ifdef __cplusplus
}
#endif
