// NEON binary max pool: AND of the taps, 4 words per vector; the last words % 4 words in scalar code.
// Two taps per inner step: their pointer and data loads are independent, so an in-order core (Cortex-A55)
// overlaps them instead of waiting out pointer load -> data load -> AND for every tap (llvm-mca:
// bench/RESULTS.md).
#include <arm_neon.h>

#include "bpool/bpool.h"

void onebit_bpool_ukernel_x128__neon(size_t taps, size_t words, const uint32_t* const* input, uint32_t* out) {
  size_t w = 0;
  for (; w + 4 <= words; w += 4) {
    uint32x4_t v = vld1q_u32(input[0] + w);
    size_t t = 1;
    for (; t + 2 <= taps; t += 2) v = vandq_u32(v, vandq_u32(vld1q_u32(input[t] + w), vld1q_u32(input[t + 1] + w)));
    if (t < taps) v = vandq_u32(v, vld1q_u32(input[t] + w));
    vst1q_u32(out + w, v);
  }
  for (; w < words; ++w) {
    uint32_t v = input[0][w];
    for (size_t t = 1; t < taps; ++t) v &= input[t][w];
    out[w] = v;
  }
}
