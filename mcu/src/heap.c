// The heap that traps (include/onebit/mcu/board.h, board_forbid_heap). mcu/CMakeLists.txt links every image
// with -Wl,--wrap for each allocation entry point below, so the calls from the application, libstdc++
// (operator new calls malloc) and newlib's own internals (stdio buffers and float printing call the
// reentrant _malloc_r family directly) all come here first. _sbrk, which hands the linker script's heap
// region to malloc, checks too. exit() lifts the ban: newlib's cleanup at exit frees stdio buffers.
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "onebit/mcu/board.h"

struct _reent;

static volatile int heap_forbidden;

void board_forbid_heap(void) { heap_forbidden = 1; }
void board_allow_heap(void) { heap_forbidden = 0; }
int board_heap_forbidden(void) { return heap_forbidden; }

static void check(const char* what) {
  if (!heap_forbidden) return;
  board_write("onebit mcu: heap use after board_forbid_heap(): ");
  board_write(what);
  board_write("\n");
  board_exit(BOARD_HEAP_TRAP_EXIT);
}

// The wrapped entry points: __real_X is the library's X (the linker resolves the names).
#define ONEBIT_WRAP(ret, name, params, args) \
  ret __real_##name params;                  \
  ret __wrap_##name params;                  \
  ret __wrap_##name params {                 \
    check(#name);                            \
    return __real_##name args;               \
  }

ONEBIT_WRAP(void*, malloc, (size_t n), (n))
ONEBIT_WRAP(void*, calloc, (size_t n, size_t size), (n, size))
ONEBIT_WRAP(void*, realloc, (void* p, size_t n), (p, n))
ONEBIT_WRAP(void, free, (void* p), (p))
ONEBIT_WRAP(void*, memalign, (size_t align, size_t n), (align, n))
ONEBIT_WRAP(void*, _malloc_r, (struct _reent* r, size_t n), (r, n))
ONEBIT_WRAP(void*, _calloc_r, (struct _reent* r, size_t n, size_t size), (r, n, size))
ONEBIT_WRAP(void*, _realloc_r, (struct _reent* r, void* p, size_t n), (r, p, n))
ONEBIT_WRAP(void, _free_r, (struct _reent* r, void* p), (r, p))
ONEBIT_WRAP(void*, _memalign_r, (struct _reent* r, size_t align, size_t n), (r, align, n))

void __real_exit(int code) __attribute__((noreturn));
void __wrap_exit(int code) __attribute__((noreturn));
void __wrap_exit(int code) {
  board_allow_heap();
  __real_exit(code);
}

// The heap is the linker script's region between .bss and the stack (librdimon's weak _sbrk compares with
// the stack pointer instead, which lets malloc take the painted stack region).
extern char __heap_start[], __heap_end[];
static char* heap_top = __heap_start;

size_t board_heap_bytes(void) { return (size_t)(heap_top - __heap_start); }

void* _sbrk(ptrdiff_t increment) {
  check("_sbrk");
  if (increment > __heap_end - heap_top || increment < __heap_start - heap_top) {
    // Said here because without exceptions a failed operator new ends in abort() without a word.
    board_write("onebit mcu: out of heap (the RAM between .bss and the stack is used up)\n");
    errno = ENOMEM;
    return (void*)-1;
  }
  char* previous = heap_top;
  heap_top += increment;
  return previous;
}
