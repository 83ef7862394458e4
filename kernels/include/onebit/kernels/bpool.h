// Binary max pool (BPoolGeometry: bconv.h). Its ukernel is chosen once: an operator keeps what
// bpool_select returns at prepare and passes it to every call.
#pragma once

#include <cstddef>
#include <cstdint>

#include "onebit/kernels/bconv.h"
#include "onebit/kernels/isa.h"

// Combines `taps` input pixels (pointers, each `words` packed words) into one output pixel:
//   out[w] = AND over t of taps[t][w]       (taps >= 1; padded taps are simply not passed)
// Word w of every tap is read before out[w] is written, so out may be one of the taps (chunked windows).
typedef void (*onebit_bpool_ukernel_fn)(size_t taps, size_t words, const uint32_t* const* input, uint32_t* out);

namespace onebit::kernels {

using BPoolUkernel = Ukernel<onebit_bpool_ukernel_fn>;

/// Best binary max pool ukernel allowed by `isa` and supported by this CPU (scalar at worst).
const BPoolUkernel& bpool_select(Isa isa);
/// Every bpool ukernel compiled into this binary (bpool/bpool.h), best ISA first; the CPU may lack some
/// (check isa_supported). Sets *count.
const BPoolUkernel* bpool_ukernels(size_t* count);

/// Binary max pool on packed NHWC: the max of ±1 values is -1 only if all are -1, i.e. the AND of the
/// "is -1" bits. Padded taps are ignored (as float max pool's -inf padding).
void binary_max_pool(const BPoolUkernel& ukernel, const BPoolGeometry& geometry, const uint32_t* input,
                     uint32_t* output);

/// Output rows [row_begin, row_end) of binary_max_pool(ukernel, geometry, input, output), rows numbered
/// over batch * out_h (input and output are still the whole tensors): writes exactly those rows' words, the
/// same words the whole call writes there, so a thread pool can split the rows. Allocates nothing, whatever
/// the window.
void binary_max_pool_rows(const BPoolUkernel& ukernel, const BPoolGeometry& geometry, const uint32_t* input,
                          uint32_t* output, size_t row_begin, size_t row_end);

}  // namespace onebit::kernels
