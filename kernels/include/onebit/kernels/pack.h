// Float <-> bits. Packing is the Quantize operator; unpacking is Dequantize.
#pragma once

#include <cstddef>
#include <cstdint>

#include "onebit/kernels/isa.h"

namespace onebit::kernels {

/// Per-channel thresholds of a fused BatchNorm -> Sign, prepared once per operator.
/// For channel c (word w = c / 32, bit b = c % 32):
///   bit = const_mask[w].b ? const_bits[w].b
///       : flip[w].b       ? (x > threshold[c])
///       :                   (x < threshold[c])
/// Derivation: y = gamma (x - mean) / sigma + beta is negative iff gamma x < gamma mean - beta sigma, i.e.
/// x < t for gamma > 0, x > t for gamma < 0 (t = mean - beta sigma / gamma), and the constant bit (beta < 0)
/// for gamma = 0. Padding channels (c >= C) must have const_mask 1, const_bits 0.
struct QuantizeThresholds {
  const float* threshold = nullptr;       // [C]
  const uint32_t* flip = nullptr;         // [packed_words(C)]
  const uint32_t* const_mask = nullptr;   // [packed_words(C)]
  const uint32_t* const_bits = nullptr;   // [packed_words(C)]
};

/// x: [pixels][channels] floats (NHWC flattened). out: [pixels][packed_words(channels)] words.
/// thresholds == nullptr means plain sign: bit = (x < 0).
void pack_bits(Isa isa, size_t pixels, size_t channels, const float* x, uint32_t* out,
               const QuantizeThresholds* thresholds = nullptr);

/// in: [pixels][packed_words(channels)] words -> out: [pixels][channels] floats of ±1.
void unpack_bits(size_t pixels, size_t channels, const uint32_t* in, float* out);

}  // namespace onebit::kernels
