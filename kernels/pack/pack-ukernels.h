// Pack family: float -> bits (Quantize). One ukernel per ISA; pack-config.cc picks one per Isa.
#pragma once

#include <cstddef>
#include <cstdint>

#include "onebit/kernels/isa.h"
#include "onebit/kernels/pack.h"

// Packs `pixels` rows of `channels` floats (row stride = channels) into rows of packed_words(channels)
// words. thresholds == nullptr: bit = (x < 0). Padding bits are 0. No over-reads or over-writes.
typedef void (*onebit_pack_ukernel_fn)(size_t pixels, size_t channels, const float* x, uint32_t* out,
                                       const onebit::kernels::QuantizeThresholds* thresholds);

void onebit_pack_ukernel_x32__scalar(size_t, size_t, const float*, uint32_t*,
                                     const onebit::kernels::QuantizeThresholds*);
void onebit_pack_ukernel_x32__avx2(size_t, size_t, const float*, uint32_t*,
                                   const onebit::kernels::QuantizeThresholds*);
void onebit_pack_ukernel_x32__avx512vpopcnt(size_t, size_t, const float*, uint32_t*,
                                            const onebit::kernels::QuantizeThresholds*);

namespace onebit::kernels {
/// Best pack ukernel allowed by `isa` and supported by this CPU (scalar at worst).
onebit_pack_ukernel_fn pack_select(Isa isa, Isa* chosen = nullptr);
}  // namespace onebit::kernels
