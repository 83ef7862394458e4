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

#include "peak-chains.h"
#include "peak.h"

uint64_t onebit_peak_xor_popcount__avx2(size_t iterations) {
  const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1,
                                       2, 2, 3, 2, 3, 3, 4);
  const __m256i low = _mm256_set1_epi8(0x0F), w = _mm256_set1_epi64x(0x5555AAAA3333CCCCll);
  const __m256i t = peak_chains<__m256i>(
      iterations, [](int k) { return _mm256_set1_epi64x(k + 1); },
      [=](__m256i a) {
        const __m256i x = _mm256_xor_si256(a, w);
        return _mm256_add_epi8(a, _mm256_add_epi8(_mm256_shuffle_epi8(lut, _mm256_and_si256(x, low)),
                                                  _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(x, 4), low))));
      },
      [](__m256i(&a)[16]) { __asm__ volatile("" : "+x"(a[0]), "+x"(a[4]), "+x"(a[8]), "+x"(a[12])); },
      [](__m256i x, __m256i y) { return _mm256_add_epi64(x, _mm256_sad_epu8(y, _mm256_setzero_si256())); });
  return static_cast<uint64_t>(_mm256_extract_epi64(t, 0) + _mm256_extract_epi64(t, 3));
}

uint64_t onebit_peak_xor_popcount__scalar_popcnt(size_t iterations) {
  const uint64_t w = 0x5555AAAA3333CCCCull;
  return peak_chains<uint64_t>(
      iterations, [](int k) { return uint64_t(k + 1); },
      [w](uint64_t a) { return a + static_cast<uint64_t>(_mm_popcnt_u64(a ^ w)); },
      [](uint64_t(&a)[16]) { __asm__ volatile("" : "+r"(a[0]), "+r"(a[4]), "+r"(a[8]), "+r"(a[12])); },
      [](uint64_t x, uint64_t y) { return x + y; });
}

float onebit_peak_fma__avx2(size_t iterations) {
  const __m256 a = _mm256_set1_ps(0.999f), b = _mm256_set1_ps(0.0001f);
  const __m256 t = peak_chains<__m256>(
      iterations, [](int k) { return _mm256_set1_ps(0.001f * float(k)); },
      [a, b](__m256 x) { return _mm256_fmadd_ps(x, a, b); },
      [](__m256(&x)[16]) { __asm__ volatile("" : "+x"(x[0]), "+x"(x[4]), "+x"(x[8]), "+x"(x[12])); },
      [](__m256 x, __m256 y) { return _mm256_add_ps(x, y); });
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
