// The board-support API (include/onebit/mcu/board.h) except the heap: instruction counter, stack
// high-water mark, memory figures, exit and console output through semihosting.
#include "onebit/mcu/board.h"

#include "board-internal.h"
#include "semihosting.h"

#ifndef ONEBIT_MCU_CPU_HZ
#error "ONEBIT_MCU_CPU_HZ (the board's CPU clock, which SysTick counts) comes from mcu/CMakeLists.txt"
#endif

extern uint32_t __data_start[], __data_end[], __bss_start__[], __bss_end__[];
extern uint32_t __stack_limit[], __stack_top[];
extern char __flash_bytes[];  // an absolute symbol: its address is the value

// ---- instruction counter: SysTick on the processor clock, 24 bits, extended by its wrap interrupt ----

#define SYST_CSR (*(volatile uint32_t*)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t*)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t*)0xE000E018u)
#define SCB_ICSR (*(volatile uint32_t*)0xE000ED04u)
#define SYSTICK_MAX 0xFFFFFFu
#define ICSR_PENDSTSET (1u << 26)

static volatile uint32_t systick_wraps;

void board_start_counter(void) {
  SYST_RVR = SYSTICK_MAX;
  SYST_CVR = 0;
  SYST_CSR = 0x7;  // CLKSOURCE = processor clock, TICKINT, ENABLE (the SSE-300 wires no reference clock)
}

void board_systick_handler(void) { systick_wraps = systick_wraps + 1; }

uint64_t board_instructions(void) {
  uint32_t primask;
  __asm__ volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask)::"memory");
  uint32_t wraps = systick_wraps;
  uint32_t value = SYST_CVR;
  // A wrap whose interrupt is still pending (masked just now) is not in systick_wraps yet: count it, with
  // the counter read again after it (the first read may predate the wrap).
  if (SCB_ICSR & ICSR_PENDSTSET) {
    wraps += 1;
    value = SYST_CVR;
  }
  __asm__ volatile("msr primask, %0" ::"r"(primask) : "memory");
  const uint64_t ticks = ((uint64_t)wraps << 24) + (SYSTICK_MAX - value);
  // ns per tick = 1000 / MHz: 40 at 25 MHz, 31.25 at 32 MHz (exact after the multiplication).
  return ticks * 1000u / ((ONEBIT_MCU_CPU_HZ) / 1000000u);
}

// ---- stack high-water mark: paint at reset, scan later ----

#define STACK_PAINT 0xC5AC5AC5u

void board_paint_stack(void) {
  // Paint up to a little below the current stack pointer (the reset handler's own frame).
  uint32_t* sp;
  __asm__ volatile("mov %0, sp" : "=r"(sp));
  for (uint32_t* p = __stack_limit; p < sp - 16;) *p++ = STACK_PAINT;
}

size_t board_stack_high_water(void) {
  const uint32_t* p = __stack_limit;
  while (p < __stack_top && *p == STACK_PAINT) ++p;
  return (size_t)((const char*)__stack_top - (const char*)p);
}

size_t board_stack_size(void) { return (size_t)((char*)__stack_top - (char*)__stack_limit); }

// ---- memory figures ----

size_t board_data_bytes(void) { return (size_t)((char*)__data_end - (char*)__data_start); }
size_t board_bss_bytes(void) { return (size_t)((char*)__bss_end__ - (char*)__bss_start__); }
size_t board_flash_bytes(void) { return (size_t)(uintptr_t)__flash_bytes; }

// ---- semihosting exit and output ----

void board_exit(int code) {
  const uintptr_t block[2] = {SEMIHOSTING_ADP_STOPPED_APPLICATION_EXIT, (uintptr_t)code};
  for (;;) semihosting_call(SEMIHOSTING_SYS_EXIT_EXTENDED, (uintptr_t)block);
}

void board_write(const char* text) { semihosting_call(SEMIHOSTING_SYS_WRITE0, (uintptr_t)text); }

// ---- host files through semihosting (no stdio) ----

#include <string.h>

int board_file_open(const char* path, const char* mode) {
  // Semihosting open modes: 1 = "rb", 5 = "wb" (the ISO C fopen modes, numbered).
  const uintptr_t block[3] = {(uintptr_t)path, (uintptr_t)(strcmp(mode, "wb") == 0 ? 5 : 1), strlen(path)};
  return (int)semihosting_call(SEMIHOSTING_SYS_OPEN, (uintptr_t)block);
}

long board_file_read(int handle, void* buffer, size_t bytes) {
  const uintptr_t block[3] = {(uintptr_t)handle, (uintptr_t)buffer, bytes};
  const uintptr_t not_read = semihosting_call(SEMIHOSTING_SYS_READ, (uintptr_t)block);
  return not_read > bytes ? -1 : (long)(bytes - not_read);
}

long board_file_write(int handle, const void* buffer, size_t bytes) {
  const uintptr_t block[3] = {(uintptr_t)handle, (uintptr_t)buffer, bytes};
  return semihosting_call(SEMIHOSTING_SYS_WRITE, (uintptr_t)block) == 0 ? (long)bytes : -1;
}

long board_file_length(int handle) {
  const uintptr_t block[1] = {(uintptr_t)handle};
  return (long)(intptr_t)semihosting_call(SEMIHOSTING_SYS_FLEN, (uintptr_t)block);
}

void board_file_close(int handle) {
  const uintptr_t block[1] = {(uintptr_t)handle};
  (void)semihosting_call(SEMIHOSTING_SYS_CLOSE, (uintptr_t)block);
}

// The runtime's records did not fit LoadOptions::memory or InterpreterOptions::arena (onebit/pool.h: no
// exception to unwind with on these cores); replaces the runtime's weak default, which only traps.
void onebit_pool_fatal(const char* why) __attribute__((noreturn));
void onebit_pool_fatal(const char* why) {
  board_write(why);
  board_write("\n");
  board_exit(BOARD_POOL_EXIT);
}
