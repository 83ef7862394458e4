// Scalar reference binary max pool ukernel.
#include "bpool/bpool.h"

void onebit_bpool_ukernel_x32__scalar(size_t taps, size_t words, const uint32_t* const* input, uint32_t* out) {
  for (size_t w = 0; w < words; ++w) {
    uint32_t v = input[0][w];
    for (size_t t = 1; t < taps; ++t) v &= input[t][w];
    out[w] = v;
  }
}
