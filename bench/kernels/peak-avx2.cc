// AVX2 peak loops. AVX2 has no vector popcount; candidates measured here for the AVX2 bgemm:
//  - nibble lookup: vpshufb on the low and high nibbles, byte adds, vpsadbw every 15 steps;
//  - the same lookup behind a Harley-Seal full adder over 3 steps (what the bgemm runs: the AVX2 peak that
//    bconv_bench's peak_% refers to);
//  - scalar 64-bit POPCNT (xor, popcnt, add per 64 bits).
// Each loop has independent chains fed back into themselves, so nothing is loop-invariant.
// GCC 12 reports its own AVX-512 intrinsics' "undefined" operands (bug 105593): silenced for the header only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include "peak.h"

uint64_t onebit_peak_xor_popcount__avx2(size_t iterations) {
  const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1,
                                       2, 2, 3, 2, 3, 3, 4);
  const __m256i low = _mm256_set1_epi8(0x0F), w = _mm256_set1_epi64x(0x5555AAAA3333CCCCll);
  __m256i acc0 = _mm256_set1_epi64x(1);
  __m256i acc1 = _mm256_set1_epi64x(2);
  __m256i acc2 = _mm256_set1_epi64x(3);
  __m256i acc3 = _mm256_set1_epi64x(4);
  __m256i acc4 = _mm256_set1_epi64x(5);
  __m256i acc5 = _mm256_set1_epi64x(6);
  __m256i acc6 = _mm256_set1_epi64x(7);
  __m256i acc7 = _mm256_set1_epi64x(8);
  __m256i acc8 = _mm256_set1_epi64x(9);
  __m256i acc9 = _mm256_set1_epi64x(10);
  __m256i acc10 = _mm256_set1_epi64x(11);
  __m256i acc11 = _mm256_set1_epi64x(12);
  __m256i acc12 = _mm256_set1_epi64x(13);
  __m256i acc13 = _mm256_set1_epi64x(14);
  __m256i acc14 = _mm256_set1_epi64x(15);
  __m256i acc15 = _mm256_set1_epi64x(16);
  for (size_t it = 0; it < iterations; ++it) {
    { const __m256i x = _mm256_xor_si256(acc0, w); acc0 = _mm256_add_epi8(acc0, _mm256_add_epi8(_mm256_shuffle_epi8(lut, _mm256_and_si256(x, low)), _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(x, 4), low)))); }
    { const __m256i x = _mm256_xor_si256(acc1, w); acc1 = _mm256_add_epi8(acc1, _mm256_add_epi8(_mm256_shuffle_epi8(lut, _mm256_and_si256(x, low)), _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(x, 4), low)))); }
    { const __m256i x = _mm256_xor_si256(acc2, w); acc2 = _mm256_add_epi8(acc2, _mm256_add_epi8(_mm256_shuffle_epi8(lut, _mm256_and_si256(x, low)), _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(x, 4), low)))); }
    { const __m256i x = _mm256_xor_si256(acc3, w); acc3 = _mm256_add_epi8(acc3, _mm256_add_epi8(_mm256_shuffle_epi8(lut, _mm256_and_si256(x, low)), _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(x, 4), low)))); }
    { const __m256i x = _mm256_xor_si256(acc4, w); acc4 = _mm256_add_epi8(acc4, _mm256_add_epi8(_mm256_shuffle_epi8(lut, _mm256_and_si256(x, low)), _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(x, 4), low)))); }
    { const __m256i x = _mm256_xor_si256(acc5, w); acc5 = _mm256_add_epi8(acc5, _mm256_add_epi8(_mm256_shuffle_epi8(lut, _mm256_and_si256(x, low)), _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(x, 4), low)))); }
    { const __m256i x = _mm256_xor_si256(acc6, w); acc6 = _mm256_add_epi8(acc6, _mm256_add_epi8(_mm256_shuffle_epi8(lut, _mm256_and_si256(x, low)), _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(x, 4), low)))); }
    { const __m256i x = _mm256_xor_si256(acc7, w); acc7 = _mm256_add_epi8(acc7, _mm256_add_epi8(_mm256_shuffle_epi8(lut, _mm256_and_si256(x, low)), _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(x, 4), low)))); }
    { const __m256i x = _mm256_xor_si256(acc8, w); acc8 = _mm256_add_epi8(acc8, _mm256_add_epi8(_mm256_shuffle_epi8(lut, _mm256_and_si256(x, low)), _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(x, 4), low)))); }
    { const __m256i x = _mm256_xor_si256(acc9, w); acc9 = _mm256_add_epi8(acc9, _mm256_add_epi8(_mm256_shuffle_epi8(lut, _mm256_and_si256(x, low)), _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(x, 4), low)))); }
    { const __m256i x = _mm256_xor_si256(acc10, w); acc10 = _mm256_add_epi8(acc10, _mm256_add_epi8(_mm256_shuffle_epi8(lut, _mm256_and_si256(x, low)), _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(x, 4), low)))); }
    { const __m256i x = _mm256_xor_si256(acc11, w); acc11 = _mm256_add_epi8(acc11, _mm256_add_epi8(_mm256_shuffle_epi8(lut, _mm256_and_si256(x, low)), _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(x, 4), low)))); }
    { const __m256i x = _mm256_xor_si256(acc12, w); acc12 = _mm256_add_epi8(acc12, _mm256_add_epi8(_mm256_shuffle_epi8(lut, _mm256_and_si256(x, low)), _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(x, 4), low)))); }
    { const __m256i x = _mm256_xor_si256(acc13, w); acc13 = _mm256_add_epi8(acc13, _mm256_add_epi8(_mm256_shuffle_epi8(lut, _mm256_and_si256(x, low)), _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(x, 4), low)))); }
    { const __m256i x = _mm256_xor_si256(acc14, w); acc14 = _mm256_add_epi8(acc14, _mm256_add_epi8(_mm256_shuffle_epi8(lut, _mm256_and_si256(x, low)), _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(x, 4), low)))); }
    { const __m256i x = _mm256_xor_si256(acc15, w); acc15 = _mm256_add_epi8(acc15, _mm256_add_epi8(_mm256_shuffle_epi8(lut, _mm256_and_si256(x, low)), _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(x, 4), low)))); }
    __asm__ volatile("" : "+x"(acc0), "+x"(acc4), "+x"(acc8), "+x"(acc12));
  }
  __m256i t = _mm256_setzero_si256();
  t = _mm256_add_epi64(t, _mm256_sad_epu8(acc0, _mm256_setzero_si256()));
  t = _mm256_add_epi64(t, _mm256_sad_epu8(acc1, _mm256_setzero_si256()));
  t = _mm256_add_epi64(t, _mm256_sad_epu8(acc2, _mm256_setzero_si256()));
  t = _mm256_add_epi64(t, _mm256_sad_epu8(acc3, _mm256_setzero_si256()));
  t = _mm256_add_epi64(t, _mm256_sad_epu8(acc4, _mm256_setzero_si256()));
  t = _mm256_add_epi64(t, _mm256_sad_epu8(acc5, _mm256_setzero_si256()));
  t = _mm256_add_epi64(t, _mm256_sad_epu8(acc6, _mm256_setzero_si256()));
  t = _mm256_add_epi64(t, _mm256_sad_epu8(acc7, _mm256_setzero_si256()));
  t = _mm256_add_epi64(t, _mm256_sad_epu8(acc8, _mm256_setzero_si256()));
  t = _mm256_add_epi64(t, _mm256_sad_epu8(acc9, _mm256_setzero_si256()));
  t = _mm256_add_epi64(t, _mm256_sad_epu8(acc10, _mm256_setzero_si256()));
  t = _mm256_add_epi64(t, _mm256_sad_epu8(acc11, _mm256_setzero_si256()));
  t = _mm256_add_epi64(t, _mm256_sad_epu8(acc12, _mm256_setzero_si256()));
  t = _mm256_add_epi64(t, _mm256_sad_epu8(acc13, _mm256_setzero_si256()));
  t = _mm256_add_epi64(t, _mm256_sad_epu8(acc14, _mm256_setzero_si256()));
  t = _mm256_add_epi64(t, _mm256_sad_epu8(acc15, _mm256_setzero_si256()));
  return static_cast<uint64_t>(_mm256_extract_epi64(t, 0) + _mm256_extract_epi64(t, 3));
}

uint64_t onebit_peak_xor_popcount__scalar_popcnt(size_t iterations) {
  const uint64_t w = 0x5555AAAA3333CCCCull;
  uint64_t acc0 = 1;
  uint64_t acc1 = 2;
  uint64_t acc2 = 3;
  uint64_t acc3 = 4;
  uint64_t acc4 = 5;
  uint64_t acc5 = 6;
  uint64_t acc6 = 7;
  uint64_t acc7 = 8;
  uint64_t acc8 = 9;
  uint64_t acc9 = 10;
  uint64_t acc10 = 11;
  uint64_t acc11 = 12;
  uint64_t acc12 = 13;
  uint64_t acc13 = 14;
  uint64_t acc14 = 15;
  uint64_t acc15 = 16;
  for (size_t it = 0; it < iterations; ++it) {
    acc0 += static_cast<uint64_t>(_mm_popcnt_u64(acc0 ^ w));
    acc1 += static_cast<uint64_t>(_mm_popcnt_u64(acc1 ^ w));
    acc2 += static_cast<uint64_t>(_mm_popcnt_u64(acc2 ^ w));
    acc3 += static_cast<uint64_t>(_mm_popcnt_u64(acc3 ^ w));
    acc4 += static_cast<uint64_t>(_mm_popcnt_u64(acc4 ^ w));
    acc5 += static_cast<uint64_t>(_mm_popcnt_u64(acc5 ^ w));
    acc6 += static_cast<uint64_t>(_mm_popcnt_u64(acc6 ^ w));
    acc7 += static_cast<uint64_t>(_mm_popcnt_u64(acc7 ^ w));
    acc8 += static_cast<uint64_t>(_mm_popcnt_u64(acc8 ^ w));
    acc9 += static_cast<uint64_t>(_mm_popcnt_u64(acc9 ^ w));
    acc10 += static_cast<uint64_t>(_mm_popcnt_u64(acc10 ^ w));
    acc11 += static_cast<uint64_t>(_mm_popcnt_u64(acc11 ^ w));
    acc12 += static_cast<uint64_t>(_mm_popcnt_u64(acc12 ^ w));
    acc13 += static_cast<uint64_t>(_mm_popcnt_u64(acc13 ^ w));
    acc14 += static_cast<uint64_t>(_mm_popcnt_u64(acc14 ^ w));
    acc15 += static_cast<uint64_t>(_mm_popcnt_u64(acc15 ^ w));
    __asm__ volatile("" : "+r"(acc0), "+r"(acc4), "+r"(acc8), "+r"(acc12));
  }
  return acc0 + acc1 + acc2 + acc3 + acc4 + acc5 + acc6 + acc7 + acc8 + acc9 + acc10 + acc11 + acc12 + acc13 + acc14 + acc15;
}

// 12 accumulators, not 16: with the two constants that is 14 of the 16 ymm registers. 16 spilled three
// accumulators to the stack every iteration (store-forwarding chains), which measured about 1 FMA per cycle
// instead of 2. 12 chains still hide the FMA latency (4-5 cycles x 2 ports).
float onebit_peak_fma__avx2(size_t iterations) {
  const __m256 a = _mm256_set1_ps(0.999f), b = _mm256_set1_ps(0.0001f);
  __m256 acc0 = _mm256_set1_ps(0.001f * 0);
  __m256 acc1 = _mm256_set1_ps(0.001f * 1);
  __m256 acc2 = _mm256_set1_ps(0.001f * 2);
  __m256 acc3 = _mm256_set1_ps(0.001f * 3);
  __m256 acc4 = _mm256_set1_ps(0.001f * 4);
  __m256 acc5 = _mm256_set1_ps(0.001f * 5);
  __m256 acc6 = _mm256_set1_ps(0.001f * 6);
  __m256 acc7 = _mm256_set1_ps(0.001f * 7);
  __m256 acc8 = _mm256_set1_ps(0.001f * 8);
  __m256 acc9 = _mm256_set1_ps(0.001f * 9);
  __m256 acc10 = _mm256_set1_ps(0.001f * 10);
  __m256 acc11 = _mm256_set1_ps(0.001f * 11);
  for (size_t it = 0; it < iterations; ++it) {
    acc0 = _mm256_fmadd_ps(acc0, a, b);
    acc1 = _mm256_fmadd_ps(acc1, a, b);
    acc2 = _mm256_fmadd_ps(acc2, a, b);
    acc3 = _mm256_fmadd_ps(acc3, a, b);
    acc4 = _mm256_fmadd_ps(acc4, a, b);
    acc5 = _mm256_fmadd_ps(acc5, a, b);
    acc6 = _mm256_fmadd_ps(acc6, a, b);
    acc7 = _mm256_fmadd_ps(acc7, a, b);
    acc8 = _mm256_fmadd_ps(acc8, a, b);
    acc9 = _mm256_fmadd_ps(acc9, a, b);
    acc10 = _mm256_fmadd_ps(acc10, a, b);
    acc11 = _mm256_fmadd_ps(acc11, a, b);
    __asm__ volatile("" : "+x"(acc0), "+x"(acc4), "+x"(acc8));
  }
  __m256 t = acc0;
  t = _mm256_add_ps(t, acc1);
  t = _mm256_add_ps(t, acc2);
  t = _mm256_add_ps(t, acc3);
  t = _mm256_add_ps(t, acc4);
  t = _mm256_add_ps(t, acc5);
  t = _mm256_add_ps(t, acc6);
  t = _mm256_add_ps(t, acc7);
  t = _mm256_add_ps(t, acc8);
  t = _mm256_add_ps(t, acc9);
  t = _mm256_add_ps(t, acc10);
  t = _mm256_add_ps(t, acc11);
  float out[8];
  _mm256_storeu_ps(out, t);
  return out[0] + out[7];
}

namespace {
// Per byte: the nibble-table popcount of x (as the lookup loop above and kernels/bgemm/bgemm-avx2.h).
inline __m256i nibble_count(__m256i x, __m256i table, __m256i low) {
  return _mm256_add_epi8(_mm256_shuffle_epi8(table, _mm256_and_si256(x, low)),
                         _mm256_shuffle_epi8(table, _mm256_and_si256(_mm256_srli_epi16(x, 4), low)));
}
}  // namespace

// Harley-Seal full adder over 3 steps, what the AVX2 bgemm runs (kernels/bgemm/bgemm-avx2.h): the xor results
// x1, x2, x3 of one chain become s = x1 ^ x2 ^ x3 and k = maj(x1, x2, x3), and popcount(x1 + x2 + x3) =
// popcount(s) + 2 popcount(k), k counted with the doubled table: 22 vector instructions per 3 x 256 MACs
// instead of 24, 6 of them shuffles / shifts instead of 9. Same MACs per `iteration` as the lookup loop
// (16 x 256): iterations / 3 trips of 16 chains x 3 steps, the remainder as lookup steps.
uint64_t onebit_peak_xor_popcount_full_adder__avx2(size_t iterations) {
  const __m256i one = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1,
                                       2, 2, 3, 2, 3, 3, 4);
  const __m256i two = _mm256_add_epi8(one, one), low = _mm256_set1_epi8(0x0F);
  const __m256i w1 = _mm256_set1_epi64x(0x5555AAAA3333CCCCll), w2 = _mm256_set1_epi64x(0x0F0FF0F00FF00FF0ll),
                w3 = _mm256_set1_epi64x(0x123456789ABCDEF0ll);
  __m256i acc[16];
  for (int i = 0; i < 16; ++i) acc[i] = _mm256_set1_epi64x(i + 1);
  // Chain i's three steps xor the previous values of chains i, i ^ 1, i ^ 2 (one group of 4 at a time), so
  // the three operands are unrelated and nothing folds (one accumulator xored with three constants would
  // make x1 ^ x2 loop-invariant).
  for (size_t it = 0; it + 3 <= iterations; it += 3) {
#pragma GCC unroll 4
    for (int g = 0; g < 16; g += 4) {
      const __m256i prev[4] = {acc[g], acc[g + 1], acc[g + 2], acc[g + 3]};
#pragma GCC unroll 4
      for (int i = 0; i < 4; ++i) {
        const __m256i x1 = _mm256_xor_si256(prev[i], w1), x2 = _mm256_xor_si256(prev[i ^ 1], w2),
                      x3 = _mm256_xor_si256(prev[i ^ 2], w3);
        const __m256i u = _mm256_xor_si256(x1, x2);
        const __m256i s = _mm256_xor_si256(u, x3);
        const __m256i k = _mm256_or_si256(_mm256_and_si256(x1, x2), _mm256_and_si256(u, x3));
        acc[g + i] = _mm256_add_epi8(prev[i], _mm256_add_epi8(nibble_count(s, one, low), nibble_count(k, two, low)));
      }
    }
    __asm__ volatile("" : "+x"(acc[0]), "+x"(acc[4]), "+x"(acc[8]), "+x"(acc[12]));
  }
  for (size_t it = iterations / 3 * 3; it < iterations; ++it)
    for (int i = 0; i < 16; ++i) acc[i] = _mm256_add_epi8(acc[i], nibble_count(_mm256_xor_si256(acc[i], w1), one, low));
  __m256i t = _mm256_setzero_si256();
  for (int i = 0; i < 16; ++i) t = _mm256_add_epi64(t, _mm256_sad_epu8(acc[i], _mm256_setzero_si256()));
  return static_cast<uint64_t>(_mm256_extract_epi64(t, 0) + _mm256_extract_epi64(t, 3));
}
