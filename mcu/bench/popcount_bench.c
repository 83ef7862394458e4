// Instructions per 32-bit word of popcount(a XOR b) summed over arrays, on the board (scripts/mcu-qemu;
// qemu counts instructions, not cycles): GCC's __builtin_popcount (a call to libgcc's __popcountsi2: no
// Cortex-M has a popcount instruction), SWAR on 32-bit words, the 64-bit SWAR of kernels/util/bits.h
// (the desktop's scalar popcount64, on word pairs), and a Harley-Seal carry-save adder over 8 words.
// Prints one line per method and checks that all agree. Figures: mcu/README.md.
#include <stdint.h>
#include <stdio.h>

#include "onebit/mcu/board.h"

enum { kWords = 4096, kRepeats = 4 };
static uint32_t a[kWords], b[kWords];

static inline __attribute__((always_inline)) uint32_t swar32(uint32_t x) {
  x = x - ((x >> 1) & 0x55555555u);
  x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
  x = (x + (x >> 4)) & 0x0F0F0F0Fu;
  return (x * 0x01010101u) >> 24;
}

static inline __attribute__((always_inline)) uint32_t swar64(uint64_t x) {
  x = x - ((x >> 1) & 0x5555555555555555ull);
  x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
  x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Full;
  return (uint32_t)((x * 0x0101010101010101ull) >> 56);
}

static uint32_t __attribute__((noinline)) sum_builtin(const uint32_t* x, const uint32_t* y, int n) {
  uint32_t s = 0;
  for (int i = 0; i < n; ++i) s += (uint32_t)__builtin_popcount(x[i] ^ y[i]);
  return s;
}

static uint32_t __attribute__((noinline)) sum_swar32(const uint32_t* x, const uint32_t* y, int n) {
  uint32_t s = 0;
  for (int i = 0; i < n; ++i) s += swar32(x[i] ^ y[i]);
  return s;
}

static uint32_t __attribute__((noinline)) sum_swar64(const uint32_t* x, const uint32_t* y, int n) {
  uint32_t s = 0;
  for (int i = 0; i < n; i += 2) {
    const uint64_t u = x[i] | (uint64_t)x[i + 1] << 32, v = y[i] | (uint64_t)y[i + 1] << 32;
    s += swar64(u ^ v);
  }
  return s;
}

// Bytes of 4 SWAR popcounts summed before the final multiply (each byte <= 4 * 8 = 32: no overflow).
static uint32_t __attribute__((noinline)) sum_swar32x4(const uint32_t* x, const uint32_t* y, int n) {
  uint32_t s = 0;
  for (int i = 0; i < n; i += 4) {
    uint32_t t = 0;
    for (int k = 0; k < 4; ++k) {
      uint32_t v = x[i + k] ^ y[i + k];
      v = v - ((v >> 1) & 0x55555555u);
      v = (v & 0x33333333u) + ((v >> 2) & 0x33333333u);
      t += (v + (v >> 4)) & 0x0F0F0F0Fu;
    }
    s += (t * 0x01010101u) >> 24;
  }
  return s;
}

#define CSA(h, l, p, q, r)        \
  do {                            \
    const uint32_t u_ = (p) ^ (q); \
    h = ((p) & (q)) | (u_ & (r));  \
    l = u_ ^ (r);                  \
  } while (0)

// Harley-Seal: 8 words -> ones / twos / fours / one eights word by carry-save adders, one popcount per 8
// words for eights and the three partial counts at the end.
static uint32_t __attribute__((noinline)) sum_harley_seal(const uint32_t* x, const uint32_t* y, int n) {
  uint32_t total = 0, ones = 0, twos = 0, fours = 0;
  for (int i = 0; i < n; i += 8) {
    uint32_t twos_a, twos_b, fours_a, fours_b, eights;
    CSA(twos_a, ones, ones, x[i] ^ y[i], x[i + 1] ^ y[i + 1]);
    CSA(twos_b, ones, ones, x[i + 2] ^ y[i + 2], x[i + 3] ^ y[i + 3]);
    CSA(fours_a, twos, twos, twos_a, twos_b);
    CSA(twos_a, ones, ones, x[i + 4] ^ y[i + 4], x[i + 5] ^ y[i + 5]);
    CSA(twos_b, ones, ones, x[i + 6] ^ y[i + 6], x[i + 7] ^ y[i + 7]);
    CSA(fours_b, twos, twos, twos_a, twos_b);
    CSA(eights, fours, fours, fours_a, fours_b);
    total += swar32(eights);
  }
  return 8 * total + 4 * swar32(fours) + 2 * swar32(twos) + swar32(ones);
}

typedef uint32_t (*Method)(const uint32_t*, const uint32_t*, int);

int main(void) {
  uint32_t state = 12345;
  for (int i = 0; i < kWords; ++i) {
    state = state * 1664525u + 1013904223u;
    a[i] = state;
    state = state * 1664525u + 1013904223u;
    b[i] = state;
  }
  static const struct {
    const char* name;
    Method fn;
  } methods[] = {{"__builtin_popcount (libgcc __popcountsi2)", sum_builtin},
                 {"SWAR, 32-bit words", sum_swar32},
                 {"SWAR, 64-bit pairs (bits.h popcount64)", sum_swar64},
                 {"SWAR, 4 words per multiply", sum_swar32x4},
                 {"Harley-Seal CSA, 8 words", sum_harley_seal}};
  const uint32_t expect = sum_builtin(a, b, kWords);
  int failures = 0;
  for (unsigned m = 0; m < sizeof(methods) / sizeof(methods[0]); ++m) {
    uint32_t got = 0;
    const uint64_t t0 = board_instructions();
    for (int r = 0; r < kRepeats; ++r) got += methods[m].fn(a, b, kWords);
    const uint64_t t1 = board_instructions();
    const unsigned hundredths = (unsigned)((t1 - t0) * 100 / (kWords * kRepeats));
    printf("popcount_bench: %-42s %u.%02u instructions per word%s\n", methods[m].name, hundredths / 100,
           hundredths % 100, got == expect * kRepeats ? "" : "  WRONG SUM");
    failures += got != expect * kRepeats;
  }
  return failures;
}
