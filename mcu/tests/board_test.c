// The board API on the board itself: the instruction counter against a loop of known length, the stack
// high-water mark against a known stack use, the linker's figures, and a heap that works until forbidden.
// Exits 0 when every check holds (scripts/mcu-qemu passes the code through).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onebit/mcu/board.h"

static int failures;

static void check(int ok, const char* what) {
  if (!ok) {
    printf("FAILED: %s\n", what);
    ++failures;
  }
}

// 2 * n + 1 instructions (mov, then n times subs + bne), whatever the compiler does around it.
static void __attribute__((noinline)) count_down(unsigned n) {
  __asm__ volatile(
      "mov r0, %0\n"
      "1: subs r0, r0, #1\n"
      "bne 1b\n" ::"r"(n)
      : "r0", "cc");
}

// Uses about `bytes` of stack (a volatile array the compiler cannot drop).
static unsigned __attribute__((noinline)) use_stack(size_t bytes) {
  volatile unsigned char buffer[bytes];
  for (size_t i = 0; i < bytes; i += 64) buffer[i] = (unsigned char)i;
  return buffer[bytes / 2];
}

int main(int argc, char** argv) {
  printf("board_test: %d argument(s) after the image:", argc - 1);
  for (int i = 1; i < argc; ++i) printf(" %s", argv[i]);
  printf("\n");

  // The counter: n = 10^6 and 4 * 10^6 iterations; their difference is 6 * 10^6 instructions exactly, the
  // call overhead cancels; SysTick's tick (40 / 31.25 instructions) bounds the error.
  const unsigned n1 = 1000000, n2 = 4000000;
  const uint64_t t0 = board_instructions();
  count_down(n1);
  const uint64_t t1 = board_instructions();
  count_down(n2);
  const uint64_t t2 = board_instructions();
  // (newlib-nano's printf has no %lld: the figures here fit 32 bits.)
  const long d1 = (long)(t1 - t0), d2 = (long)(t2 - t1);
  const long excess = (d2 - d1) - 2L * (long)(n2 - n1);
  printf("board_test: count_down(%u) %ld instructions, count_down(%u) %ld, difference - 2 x %u = %ld\n", n1, d1,
         n2, d2, n2 - n1, excess);
  check(excess > -100 && excess < 100, "instruction count of a known loop");
  check(d1 >= 2L * (long)n1 && d1 < 2L * (long)n1 + 200, "instruction count of count_down(10^6)");
  // Across a SysTick wrap (2^24 ticks: 671 M instructions at 25 MHz) the count stays monotonic; checked
  // here over 40 M instructions (several hundred thousand ticks).
  uint64_t last = board_instructions();
  int monotonic = 1;
  for (int i = 0; i < 20; ++i) {
    count_down(1000000);
    const uint64_t now = board_instructions();
    monotonic &= now > last;
    last = now;
  }
  check(monotonic, "counter monotonic");

  // The stack: 20 KiB below main's frame must raise the high-water mark to a little over 20 KiB.
  const size_t before = board_stack_high_water();
  use_stack(20 * 1024);
  const size_t after = board_stack_high_water();
  printf("board_test: stack high water %u B before, %u B after using 20 KiB (stack %u B)\n", (unsigned)before,
         (unsigned)after, (unsigned)board_stack_size());
  check(before < 2048 && after >= 20 * 1024 && after < 21 * 1024, "stack high-water mark");

  static int initialized = 42;  // .data
  static char zeroed[1000];     // .bss
  check(initialized == 42 && zeroed[999] == 0, ".data copied and .bss zeroed");
  printf("board_test: flash %u B, .data %u B, .bss %u B\n", (unsigned)board_flash_bytes(),
         (unsigned)board_data_bytes(), (unsigned)board_bss_bytes());
  check(board_data_bytes() >= sizeof(int) && board_bss_bytes() >= sizeof(zeroed), "linker figures");

  // The heap works until forbidden (the trap itself: heap_trap_test).
  char* p = malloc(100000);
  check(p != NULL, "malloc before board_forbid_heap");
  if (p != NULL) memset(p, 1, 100000);
  free(p);
  check(board_heap_bytes() >= 100000, "heap figure");
  board_forbid_heap();
  check(board_heap_forbidden(), "forbidden");
  board_allow_heap();

  printf("board_test: %s\n", failures == 0 ? "ok" : "FAILED");
  return failures == 0 ? 0 : 1;
}
