// Register-resident peak loops, one per ISA (peak-<isa>.cc). Each returns a value that depends on every
// iteration so the compiler cannot drop the work.
#pragma once

#include <cstddef>
#include <cstdint>

/// `iterations` x 16 independent (xor, popcount, add) on full vectors (64-bit words for scalar_popcnt).
/// Binary MACs done = iterations * 16 * vector bits.
uint64_t onebit_peak_xor_popcount__avx512vpopcnt(size_t iterations);
uint64_t onebit_peak_xor_popcount__avx2(size_t iterations);  // nibble-LUT popcount on 256-bit vectors
uint64_t onebit_peak_xor_popcount_full_adder__avx2(size_t iterations);  // the same behind a 3-step full adder
uint64_t onebit_peak_xor_popcount__scalar_popcnt(size_t iterations);  // 16 x 64-bit POPCNT (avx2 file)
/// `iterations` x 16 (AVX-512) or 12 (AVX2: 16 ymm registers) independent FMAs on full vectors. Float
/// MACs = iterations * that * lanes.
float onebit_peak_fma__avx512vpopcnt(size_t iterations);
float onebit_peak_fma__avx2(size_t iterations);
