// Board support for the bare-metal Cortex-M images (mcu/): an instruction counter, the stack's high-water
// mark, the image's memory figures from the linker script, and a heap that traps once forbidden.
// C and C++; the startup code (src/startup.c) has set up .data, .bss, the FPU, semihosting stdio, the
// SysTick counter and the stack paint before main() runs.
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Instructions executed since reset, under qemu-system-arm -icount shift=0 (scripts/mcu-qemu), where the
/// virtual clock advances 1 ns per instruction: SysTick counts the board's CPU clock (mps2: 25 MHz, mps3
/// an547: 32 MHz) off that virtual clock, so this is ticks x ns per tick, exact to one tick (40 / 31.25
/// instructions). qemu is not cycle-accurate: an instruction count is a proxy for cycles, say so wherever
/// it is reported. On real hardware this is nanoseconds at the board's clock.
uint64_t board_instructions(void);

/// The deepest the stack has been since reset, in bytes: the startup code paints the stack region with a
/// pattern, and this scans for the first word that is no longer the pattern.
size_t board_stack_high_water(void);
/// The stack region's size (the linker script's __stack_size).
size_t board_stack_size(void);

/// Sizes from the linker script: initialized data (in RAM, and its initial values in flash), zeroed data,
/// and everything the image puts in flash (vector table, code, constants, .data's initial values).
size_t board_data_bytes(void);
size_t board_bss_bytes(void);
size_t board_flash_bytes(void);
/// Heap bytes handed out by _sbrk so far (what malloc has taken from the system, not what is in use).
size_t board_heap_bytes(void);

/// From now on, any malloc / calloc / realloc / free / memalign / operator new / _sbrk (also newlib's
/// internal _malloc_r family: stdio buffers, float printing) prints a message through semihosting and
/// exits with BOARD_HEAP_TRAP_EXIT. exit() lifts it (its cleanup frees stdio buffers).
void board_forbid_heap(void);
/// Lifts board_forbid_heap().
void board_allow_heap(void);
/// Whether the heap is forbidden now.
int board_heap_forbidden(void);

#define BOARD_HEAP_TRAP_EXIT 86
/// The runtime's records did not fit the memory given for them (onebit_pool_fatal, onebit/pool.h): the
/// board prints the reason and exits with this code.
#define BOARD_POOL_EXIT 88

/// Host files through semihosting, without stdio (no buffer, no allocation: usable with the heap forbidden).
/// board_file_open: mode "rb" or "wb"; returns a handle >= 0, or -1. board_file_read / _write: bytes moved
/// (read: fewer at the end of the file), or -1. board_file_length: the file's size, or -1.
int board_file_open(const char* path, const char* mode);
long board_file_read(int handle, void* buffer, size_t bytes);
long board_file_write(int handle, const void* buffer, size_t bytes);
long board_file_length(int handle);
void board_file_close(int handle);
/// Ends the program with `code` through semihosting at once (no atexit handlers, no stdio flush).
void board_exit(int code) __attribute__((noreturn));
/// Writes a NUL-terminated string to the host's stderr-like console through semihosting (SYS_WRITE0),
/// without stdio (so without any buffer or allocation).
void board_write(const char* text);

#ifdef __cplusplus
}
#endif
