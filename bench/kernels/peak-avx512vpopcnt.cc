// AVX-512 peak loops: 16 independent accumulator chains (each step feeds its own accumulator back in, so
// nothing is loop-invariant), enough to hide latency: throughput bounds them.
// GCC 12 reports its own AVX-512 intrinsics' "undefined" operands (bug 105593): silenced for the header only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include "peak.h"

uint64_t onebit_peak_xor_popcount__avx512vpopcnt(size_t iterations) {
  const __m512i w = _mm512_set1_epi64(0x5555AAAA3333CCCCll);
  __m512i acc0 = _mm512_set1_epi64(1);
  __m512i acc1 = _mm512_set1_epi64(2);
  __m512i acc2 = _mm512_set1_epi64(3);
  __m512i acc3 = _mm512_set1_epi64(4);
  __m512i acc4 = _mm512_set1_epi64(5);
  __m512i acc5 = _mm512_set1_epi64(6);
  __m512i acc6 = _mm512_set1_epi64(7);
  __m512i acc7 = _mm512_set1_epi64(8);
  __m512i acc8 = _mm512_set1_epi64(9);
  __m512i acc9 = _mm512_set1_epi64(10);
  __m512i acc10 = _mm512_set1_epi64(11);
  __m512i acc11 = _mm512_set1_epi64(12);
  __m512i acc12 = _mm512_set1_epi64(13);
  __m512i acc13 = _mm512_set1_epi64(14);
  __m512i acc14 = _mm512_set1_epi64(15);
  __m512i acc15 = _mm512_set1_epi64(16);
  for (size_t it = 0; it < iterations; ++it) {
    acc0 = _mm512_add_epi64(acc0, _mm512_popcnt_epi64(_mm512_xor_si512(acc0, w)));
    acc1 = _mm512_add_epi64(acc1, _mm512_popcnt_epi64(_mm512_xor_si512(acc1, w)));
    acc2 = _mm512_add_epi64(acc2, _mm512_popcnt_epi64(_mm512_xor_si512(acc2, w)));
    acc3 = _mm512_add_epi64(acc3, _mm512_popcnt_epi64(_mm512_xor_si512(acc3, w)));
    acc4 = _mm512_add_epi64(acc4, _mm512_popcnt_epi64(_mm512_xor_si512(acc4, w)));
    acc5 = _mm512_add_epi64(acc5, _mm512_popcnt_epi64(_mm512_xor_si512(acc5, w)));
    acc6 = _mm512_add_epi64(acc6, _mm512_popcnt_epi64(_mm512_xor_si512(acc6, w)));
    acc7 = _mm512_add_epi64(acc7, _mm512_popcnt_epi64(_mm512_xor_si512(acc7, w)));
    acc8 = _mm512_add_epi64(acc8, _mm512_popcnt_epi64(_mm512_xor_si512(acc8, w)));
    acc9 = _mm512_add_epi64(acc9, _mm512_popcnt_epi64(_mm512_xor_si512(acc9, w)));
    acc10 = _mm512_add_epi64(acc10, _mm512_popcnt_epi64(_mm512_xor_si512(acc10, w)));
    acc11 = _mm512_add_epi64(acc11, _mm512_popcnt_epi64(_mm512_xor_si512(acc11, w)));
    acc12 = _mm512_add_epi64(acc12, _mm512_popcnt_epi64(_mm512_xor_si512(acc12, w)));
    acc13 = _mm512_add_epi64(acc13, _mm512_popcnt_epi64(_mm512_xor_si512(acc13, w)));
    acc14 = _mm512_add_epi64(acc14, _mm512_popcnt_epi64(_mm512_xor_si512(acc14, w)));
    acc15 = _mm512_add_epi64(acc15, _mm512_popcnt_epi64(_mm512_xor_si512(acc15, w)));
    __asm__ volatile("" : "+v"(acc0), "+v"(acc4), "+v"(acc8), "+v"(acc12));
  }
  const __m512i s = acc0;
  __m512i t = s;
  t = _mm512_add_epi64(t, acc1);
  t = _mm512_add_epi64(t, acc2);
  t = _mm512_add_epi64(t, acc3);
  t = _mm512_add_epi64(t, acc4);
  t = _mm512_add_epi64(t, acc5);
  t = _mm512_add_epi64(t, acc6);
  t = _mm512_add_epi64(t, acc7);
  t = _mm512_add_epi64(t, acc8);
  t = _mm512_add_epi64(t, acc9);
  t = _mm512_add_epi64(t, acc10);
  t = _mm512_add_epi64(t, acc11);
  t = _mm512_add_epi64(t, acc12);
  t = _mm512_add_epi64(t, acc13);
  t = _mm512_add_epi64(t, acc14);
  t = _mm512_add_epi64(t, acc15);
  alignas(64) uint64_t lanes[8];
  _mm512_store_si512(lanes, t);
  return lanes[0] + lanes[1] + lanes[2] + lanes[3] + lanes[4] + lanes[5] + lanes[6] + lanes[7];
}

float onebit_peak_fma__avx512vpopcnt(size_t iterations) {
  const __m512 a = _mm512_set1_ps(0.999f), b = _mm512_set1_ps(0.0001f);
  __m512 acc0 = _mm512_set1_ps(0.001f * 0);
  __m512 acc1 = _mm512_set1_ps(0.001f * 1);
  __m512 acc2 = _mm512_set1_ps(0.001f * 2);
  __m512 acc3 = _mm512_set1_ps(0.001f * 3);
  __m512 acc4 = _mm512_set1_ps(0.001f * 4);
  __m512 acc5 = _mm512_set1_ps(0.001f * 5);
  __m512 acc6 = _mm512_set1_ps(0.001f * 6);
  __m512 acc7 = _mm512_set1_ps(0.001f * 7);
  __m512 acc8 = _mm512_set1_ps(0.001f * 8);
  __m512 acc9 = _mm512_set1_ps(0.001f * 9);
  __m512 acc10 = _mm512_set1_ps(0.001f * 10);
  __m512 acc11 = _mm512_set1_ps(0.001f * 11);
  __m512 acc12 = _mm512_set1_ps(0.001f * 12);
  __m512 acc13 = _mm512_set1_ps(0.001f * 13);
  __m512 acc14 = _mm512_set1_ps(0.001f * 14);
  __m512 acc15 = _mm512_set1_ps(0.001f * 15);
  for (size_t it = 0; it < iterations; ++it) {
    acc0 = _mm512_fmadd_ps(acc0, a, b);
    acc1 = _mm512_fmadd_ps(acc1, a, b);
    acc2 = _mm512_fmadd_ps(acc2, a, b);
    acc3 = _mm512_fmadd_ps(acc3, a, b);
    acc4 = _mm512_fmadd_ps(acc4, a, b);
    acc5 = _mm512_fmadd_ps(acc5, a, b);
    acc6 = _mm512_fmadd_ps(acc6, a, b);
    acc7 = _mm512_fmadd_ps(acc7, a, b);
    acc8 = _mm512_fmadd_ps(acc8, a, b);
    acc9 = _mm512_fmadd_ps(acc9, a, b);
    acc10 = _mm512_fmadd_ps(acc10, a, b);
    acc11 = _mm512_fmadd_ps(acc11, a, b);
    acc12 = _mm512_fmadd_ps(acc12, a, b);
    acc13 = _mm512_fmadd_ps(acc13, a, b);
    acc14 = _mm512_fmadd_ps(acc14, a, b);
    acc15 = _mm512_fmadd_ps(acc15, a, b);
    __asm__ volatile("" : "+v"(acc0), "+v"(acc4), "+v"(acc8), "+v"(acc12));
  }
  __m512 t = acc0;
  t = _mm512_add_ps(t, acc1);
  t = _mm512_add_ps(t, acc2);
  t = _mm512_add_ps(t, acc3);
  t = _mm512_add_ps(t, acc4);
  t = _mm512_add_ps(t, acc5);
  t = _mm512_add_ps(t, acc6);
  t = _mm512_add_ps(t, acc7);
  t = _mm512_add_ps(t, acc8);
  t = _mm512_add_ps(t, acc9);
  t = _mm512_add_ps(t, acc10);
  t = _mm512_add_ps(t, acc11);
  t = _mm512_add_ps(t, acc12);
  t = _mm512_add_ps(t, acc13);
  t = _mm512_add_ps(t, acc14);
  t = _mm512_add_ps(t, acc15);
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, t);
  return lanes[0] + lanes[15];
}
