// Arm semihosting calls (the debugger interface qemu-system-arm implements with -semihosting-config
// enable=on): BKPT 0xAB with the operation in r0 and its argument in r1 on M-profile cores.
#pragma once

#include <stdint.h>

enum {
  SEMIHOSTING_SYS_OPEN = 0x01,
  SEMIHOSTING_SYS_CLOSE = 0x02,
  SEMIHOSTING_SYS_WRITE = 0x05,
  SEMIHOSTING_SYS_READ = 0x06,
  SEMIHOSTING_SYS_FLEN = 0x0C,
  SEMIHOSTING_SYS_WRITE0 = 0x04,
  SEMIHOSTING_SYS_GET_CMDLINE = 0x15,
  SEMIHOSTING_SYS_EXIT_EXTENDED = 0x20,
  SEMIHOSTING_ADP_STOPPED_APPLICATION_EXIT = 0x20026,
};

static inline uintptr_t semihosting_call(uintptr_t op, uintptr_t arg) {
  register uintptr_t r0 __asm__("r0") = op;
  register uintptr_t r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}
