// Reset and exceptions for the qemu Cortex-M boards (one file for mps2-an386, mps2-an500, mps3-an547; the
// memory map is the board's linker script, boards/<board>.ld). Reset: enable the FPU (and Helium on the
// M55: both live behind CPACR's CP10/CP11), copy .data, zero .bss, paint the stack, start the SysTick
// instruction counter, open semihosting stdio (unbuffered, so printing never allocates a buffer later),
// run the C++ constructors, then exit(main(argc, argv)) with argv from the semihosting command line
// (scripts/mcu-qemu passes its arguments with -append). newlib's crt0 is not used (it faults here).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board-internal.h"
#include "onebit/mcu/board.h"
#include "semihosting.h"

extern uint32_t __data_load[], __data_start[], __data_end[], __bss_start__[], __bss_end__[];
extern uint32_t __stack_top[];

int main(int argc, char** argv);
void initialise_monitor_handles(void);
void __libc_init_array(void);

// What the C runtime's start files (crti.o, crtbegin.o: -nostartfiles leaves them out) would define: newlib's
// __libc_init_array / __libc_fini_array call _init / _fini, and C++ static destructors register with
// __cxa_atexit under this image's __dso_handle.
void _init(void) {}
void _fini(void) {}
void* __dso_handle = &__dso_handle;

enum { kMaxArgs = 32, kCmdlineBytes = 1024 };

static int split_command_line(char** argv) {
  static char line[kCmdlineBytes];
  struct {
    char* buffer;
    uintptr_t size;
  } block = {line, sizeof(line) - 1};
  int argc = 0;
  if (semihosting_call(SEMIHOSTING_SYS_GET_CMDLINE, (uintptr_t)&block) != 0) block.size = 0;
  line[block.size] = '\0';
  for (char* p = line; *p != '\0' && argc < kMaxArgs;) {
    while (*p == ' ') *p++ = '\0';
    if (*p == '\0') break;
    argv[argc++] = p;
    while (*p != '\0' && *p != ' ') ++p;
  }
  argv[argc] = NULL;
  return argc;
}

static void enable_fpu(void) {
  volatile uint32_t* const cpacr = (volatile uint32_t*)0xE000ED88u;
  *cpacr |= 0xFu << 20;  // CP10 and CP11: full access
  __asm__ volatile("dsb\n\tisb" ::: "memory");
}

void Reset_Handler(void) __attribute__((noreturn, used));
void Reset_Handler(void) {
  enable_fpu();
  for (uint32_t *src = __data_load, *dst = __data_start; dst < __data_end;) *dst++ = *src++;
  for (uint32_t* dst = __bss_start__; dst < __bss_end__;) *dst++ = 0;
  board_paint_stack();
  board_start_counter();
  initialise_monitor_handles();
  setvbuf(stdout, NULL, _IONBF, 0);
  setvbuf(stderr, NULL, _IONBF, 0);
  __libc_init_array();
  static char* argv[kMaxArgs + 1];
  const int argc = split_command_line(argv);
  exit(main(argc, argv));
}

static void fault(const char* what) {
  board_write("onebit mcu: ");
  board_write(what);
  board_write(" (a fault: bad address, unaligned access or undefined instruction)\n");
  board_exit(BOARD_FAULT_EXIT);
}

static void NMI_Handler(void) { fault("NMI"); }
static void HardFault_Handler(void) { fault("HardFault"); }
static void MemManage_Handler(void) { fault("MemManage fault"); }
static void BusFault_Handler(void) { fault("BusFault"); }
static void UsageFault_Handler(void) { fault("UsageFault"); }
static void SecureFault_Handler(void) { fault("SecureFault"); }
static void Unexpected_Handler(void) { fault("unexpected exception"); }

typedef void (*Vector)(void);

// The Armv7-M / Armv8-M system exceptions (entry 7 is SecureFault on Armv8-M, reserved on Armv7-M).
// Interrupts are never enabled at the NVIC, so no external entries are needed.
__attribute__((section(".vectors"), used)) static const Vector vector_table[16] = {
    (Vector)(uintptr_t)__stack_top, Reset_Handler, NMI_Handler, HardFault_Handler, MemManage_Handler,
    BusFault_Handler, UsageFault_Handler, SecureFault_Handler, 0, 0, 0, Unexpected_Handler,
    Unexpected_Handler, 0, Unexpected_Handler, board_systick_handler};
