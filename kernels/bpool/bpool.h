// Binary max pool family. The max of ±1 values is -1 only if all are -1: the AND of the "is -1" bits.
// A ukernel combines `taps` input pixels (pointers, each `words` packed words) into one output pixel:
//   out[w] = AND over t of taps[t][w]       (taps >= 1; padded taps are simply not passed)
// Word w of every tap is read before out[w] is written, so out may be one of the taps (chunked windows).
// A window with no real tap (all padding) yields all-ones masked to real channels by the caller, as float
// max pool over -inf padding gives -inf.
#pragma once

#include <cstddef>
#include <cstdint>

#include "onebit/kernels/isa.h"

typedef void (*onebit_bpool_ukernel_fn)(size_t taps, size_t words, const uint32_t* const* input, uint32_t* out);

void onebit_bpool_ukernel__scalar(size_t, size_t, const uint32_t* const*, uint32_t*);
void onebit_bpool_ukernel_x256__avx2(size_t, size_t, const uint32_t* const*, uint32_t*);
void onebit_bpool_ukernel_x512__avx512vpopcnt(size_t, size_t, const uint32_t* const*, uint32_t*);

namespace onebit::kernels {
onebit_bpool_ukernel_fn bpool_select(Isa isa, Isa* chosen = nullptr);
}
