// AVX2 binary max pool: AND of the taps, 8 words per vector; the last words % 8 words in scalar code.
#include "util/immintrin.h"

#include "bpool/bpool.h"

void onebit_bpool_ukernel_x256__avx2(size_t taps, size_t words, const uint32_t* const* input, uint32_t* out) {
  size_t w = 0;
  for (; w + 8 <= words; w += 8) {
    __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(input[0] + w));
    for (size_t t = 1; t < taps; ++t)
      v = _mm256_and_si256(v, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(input[t] + w)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + w), v);
  }
  for (; w < words; ++w) {
    uint32_t v = input[0][w];
    for (size_t t = 1; t < taps; ++t) v &= input[t][w];
    out[w] = v;
  }
}
