// AVX-512 binary max pool: AND of the taps, 16 words per vector, masked tail (no over-reads).
#include "util/immintrin.h"

#include "bpool/bpool.h"

void onebit_bpool_ukernel_x512__avx512vpopcnt(size_t taps, size_t words, const uint32_t* const* input,
                                              uint32_t* out) {
  for (size_t w = 0; w < words; w += 16) {
    const __mmask16 mask = words - w >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (words - w)) - 1);
    __m512i v = _mm512_maskz_loadu_epi32(mask, input[0] + w);
    for (size_t t = 1; t < taps; ++t) v = _mm512_and_si512(v, _mm512_maskz_loadu_epi32(mask, input[t] + w));
    _mm512_mask_storeu_epi32(out + w, mask, v);
  }
}
