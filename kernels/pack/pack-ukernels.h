// Pack family: float -> bits (Quantize) and float -> k-bit levels (QuantizeLevels). One ukernel per ISA;
// pack-config.cc and quantize-levels-config.cc pick one per Isa.
#pragma once

#include <cmath>
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

// Quantizes `pixels` rows of `channels` floats into quantizer->bits planes (pack.h quantize_levels):
// plane i of pixel p at out + i * plane_words + p * packed_words(channels). The quantizer is already
// validated (kind / bits pair allowed, see quantize_levels). Padding bits 0; no over-reads or over-writes.
typedef void (*onebit_quantize_levels_ukernel_fn)(size_t pixels, size_t channels, const float* x, uint32_t* out,
                                                  size_t plane_words,
                                                  const onebit::kernels::LevelQuantizer* quantizer);
#define ONEBIT_QUANTIZE_LEVELS_UKERNEL(name)                                                    \
  void name(size_t pixels, size_t channels, const float* x, uint32_t* out, size_t plane_words, \
            const onebit::kernels::LevelQuantizer* quantizer)
ONEBIT_QUANTIZE_LEVELS_UKERNEL(onebit_quantize_levels_ukernel_x32__scalar);
ONEBIT_QUANTIZE_LEVELS_UKERNEL(onebit_quantize_levels_ukernel_x32__avx2);
ONEBIT_QUANTIZE_LEVELS_UKERNEL(onebit_quantize_levels_ukernel_x32__avx512vpopcnt);
ONEBIT_QUANTIZE_LEVELS_UKERNEL(onebit_quantize_levels_ukernel_x32__neon);  // aarch64 only

namespace onebit::kernels {
/// Best pack ukernel allowed by `isa` and supported by this CPU (scalar at worst).
onebit_pack_ukernel_fn pack_select(Isa isa, Isa* chosen = nullptr);
/// Best quantize-levels ukernel allowed by `isa` and supported by this CPU (scalar at worst).
onebit_quantize_levels_ukernel_fn quantize_levels_select(Isa isa, Isa* chosen = nullptr);

/// The level index of one transformed value t (scalar reference semantics, shared by every ukernel's
/// tail handling): Unipolar / Bipolar clamp(round_half_even(t), 0, 2^bits - 1) with NaN -> 0; Ternary
/// bit0 = (t < 0), bit1 = !(t > 0); Binary bit0 = (t < 0).
/// Rounding: std::nearbyint in the default floating-point environment (round to nearest, ties to even).
inline uint32_t quantize_level_index(LevelKind kind, int bits, float t) {
  if (kind == LevelKind::kTernary) return uint32_t{t < 0.0f} | (uint32_t{!(t > 0.0f)} << 1);
  if (kind == LevelKind::kBinary) return uint32_t{t < 0.0f};
  if (!(t == t)) return 0;  // NaN
  const float r = std::nearbyint(t);
  const float top = static_cast<float>((1u << bits) - 1);
  return r <= 0.0f ? 0u : r >= top ? static_cast<uint32_t>(top) : static_cast<uint32_t>(r);
}
}  // namespace onebit::kernels
