// Binary max pool over a range of output rows: the form of bconv.h's binary_max_pool that a thread pool can
// split (one task per block of rows of the NHWC output).
#pragma once

#include <cstddef>
#include <cstdint>

#include "onebit/kernels/bconv.h"

namespace onebit::kernels {

/// Output rows [row_begin, row_end) of binary_max_pool(isa, geometry, input, output), rows numbered over
/// batch * out_h (input and output are still the whole tensors): writes exactly those rows' words, the same
/// words the whole call writes there. Allocates nothing, whatever the window.
void binary_max_pool_rows(Isa isa, const BPoolGeometry& geometry, const uint32_t* input, uint32_t* output,
                          size_t row_begin, size_t row_end);

}  // namespace onebit::kernels
