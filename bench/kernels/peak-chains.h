// The shape every register-resident peak loop shares: 16 independent accumulator chains, each step feeding
// its own accumulator back in (nothing is loop-invariant, and 16 chains hide any latency, so throughput
// bounds the loop), with 4 of them pinned by an empty asm each iteration so the compiler cannot fold or
// vectorize the chains away. Include only from the per-ISA peak files (their flags compile the lambdas).
#pragma once

#include <cstddef>

/// acc[k] = init(k), then `iterations` times acc[k] = step(acc[k]) for k = 0..15 with pin(acc) after each
/// round; returns fold(fold(...fold(acc[0], acc[1])..., acc[15]).
template <class V, class Init, class Step, class Pin, class Fold>
V peak_chains(size_t iterations, Init init, Step step, Pin pin, Fold fold) {
  V acc[16];
  for (int k = 0; k < 16; ++k) acc[k] = init(k);
  for (size_t it = 0; it < iterations; ++it) {
#pragma GCC unroll 16
    for (int k = 0; k < 16; ++k) acc[k] = step(acc[k]);
    pin(acc);
  }
  V t = acc[0];
  for (int k = 1; k < 16; ++k) t = fold(t, acc[k]);
  return t;
}
