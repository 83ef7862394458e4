// Small bit helpers shared by the kernel families (internal header).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace onebit::kernels {

#if ONEBIT_MCU
/// Cortex-M (no popcount instruction; __builtin_popcount calls libgcc's __popcountsi2): SWAR on the two
/// 32-bit halves, their byte counts (<= 16 each) summed before one multiply, and always inlined - at -Os GCC
/// otherwise calls it, per word. Instructions per word under qemu: mcu/README.md "Popcount".
__attribute__((always_inline)) inline uint32_t popcount64(uint64_t x) {
  uint32_t lo = static_cast<uint32_t>(x), hi = static_cast<uint32_t>(x >> 32);
  lo = lo - ((lo >> 1) & 0x55555555u);
  hi = hi - ((hi >> 1) & 0x55555555u);
  lo = (lo & 0x33333333u) + ((lo >> 2) & 0x33333333u);
  hi = (hi & 0x33333333u) + ((hi >> 2) & 0x33333333u);
  const uint32_t bytes = ((lo + (lo >> 4)) & 0x0F0F0F0Fu) + ((hi + (hi >> 4)) & 0x0F0F0F0Fu);
  return (bytes * 0x01010101u) >> 24;
}
#else
/// Portable popcount (SWAR). At the default x86-64 target __builtin_popcountll is a library call, so the
/// scalar reference uses this; the SIMD paths bring their own popcount.
inline uint32_t popcount64(uint64_t x) {
  x = x - ((x >> 1) & 0x5555555555555555ull);
  x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
  x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Full;
  return static_cast<uint32_t>((x * 0x0101010101010101ull) >> 56);
}
#endif

inline uint32_t popcount32(uint32_t x) { return popcount64(x); }

/// Two consecutive packed words as one 64-bit chunk, in memory order (memcpy: any alignment, any
/// endianness, as long as activations and packed weights are both read this way).
inline uint64_t load_pair(const uint32_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

/// The single last word of an odd-length row, placed where load_pair would put word 0 of a pair.
inline uint64_t load_single(const uint32_t* p) {
  uint64_t v = 0;
  std::memcpy(&v, p, sizeof(uint32_t));
  return v;
}

/// Copies `bits` bits starting at bit `first` of `src` (bit i of word i / 32) to `dst` starting at bit 0,
/// writing packed_words(bits) words with zeros above the copied bits.
inline void extract_bits(const uint32_t* src, size_t first, size_t bits, uint32_t* dst) {
  const size_t words = (bits + 31) / 32;
  const size_t shift = first % 32;
  const uint32_t* s = src + first / 32;
  for (size_t i = 0; i < words; ++i) {
    uint32_t v = s[i] >> shift;
    const size_t taken = 32 - shift;  // bits that came from s[i]
    if (shift != 0 && taken < bits - i * 32) v |= s[i + 1] << taken;
    const size_t left = bits - i * 32;
    if (left < 32) v &= (uint32_t{1} << left) - 1;
    dst[i] = v;
  }
}

}  // namespace onebit::kernels
