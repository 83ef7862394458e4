// AVX-512 peak loops: 16 independent accumulator chains (each step feeds its own accumulator back in, so
// nothing is loop-invariant), enough to hide latency: throughput bounds them.
// GCC 12 reports its own AVX-512 intrinsics' "undefined" operands (bug 105593): silenced for the header only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include "peak-chains.h"
#include "peak.h"

uint64_t onebit_peak_xor_popcount__avx512vpopcnt(size_t iterations) {
  const __m512i w = _mm512_set1_epi64(0x5555AAAA3333CCCCll);
  const __m512i t = peak_chains<__m512i>(
      iterations, [](int k) { return _mm512_set1_epi64(k + 1); },
      [w](__m512i a) { return _mm512_add_epi64(a, _mm512_popcnt_epi64(_mm512_xor_si512(a, w))); },
      [](__m512i(&a)[16]) { __asm__ volatile("" : "+v"(a[0]), "+v"(a[4]), "+v"(a[8]), "+v"(a[12])); },
      [](__m512i x, __m512i y) { return _mm512_add_epi64(x, y); });
  return static_cast<uint64_t>(_mm512_reduce_add_epi64(t));
}

float onebit_peak_fma__avx512vpopcnt(size_t iterations) {
  const __m512 a = _mm512_set1_ps(0.999f), b = _mm512_set1_ps(0.0001f);
  const __m512 t = peak_chains<__m512>(
      iterations, [](int k) { return _mm512_set1_ps(0.001f * float(k)); },
      [a, b](__m512 x) { return _mm512_fmadd_ps(x, a, b); },
      [](__m512(&x)[16]) { __asm__ volatile("" : "+v"(x[0]), "+v"(x[4]), "+v"(x[8]), "+v"(x[12])); },
      [](__m512 x, __m512 y) { return _mm512_add_ps(x, y); });
  return _mm512_reduce_add_ps(t);
}
