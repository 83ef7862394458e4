// The bit contract: the one place that says how binary values are stored. Every kernel, the runtime, the
// builder and the converter include this header instead of restating it.
//
//  * A binary value is +1 or -1. Bit 1 means -1, bit 0 means +1 (bit 1 is the float's sign bit).
//    Binarizing a float x gives bit (x < 0): sign(0) = sign(-0) = +1, NaN binarizes to +1.
//  * Tensors are NHWC. Binary activations are packed along C: channel c is bit (c mod 32) of uint32 word
//    c / 32. C is padded up to a multiple of 32 with 0-bits, in activations and in weights alike, so that
//    padding bits XOR to 0 and never reach a popcount. Kernels may read 64/128/512 bits at a time as long
//    as results do not change.
//  * Weights are OHWI, packed along I in the same way (each (o, kh, kw) row starts on a word boundary).
//  * Over K real taps, the dot product of two ±1 vectors a, w is  dot = K - 2 * popcount(a XOR w):
//    every agreeing pair contributes +1 and every disagreeing pair (a set XOR bit) -1.
//
// k-bit tensors (schema Tensor.bits / levels / zero_level):
//  * A k-bit tensor (k = 1..4) is k bit-planes stored planes-major: plane i is a whole packed tensor of the
//    logical shape (the layout above, channel padding bits 0), holding bit i of each element's level index
//    q = sum_i 2^i * bit_i. Plane i of a tensor of `words` packed words per plane starts at word i * words.
//  * The integer level L of an element, by kind:
//      Binary   (k = 1)    L = 1 - 2 * bit                       {-1, +1}
//      Unipolar (k = 1..4) L = q - zero_level                    e.g. {0, 1, 2, 3} (zero_level 0)
//      Bipolar  (k = 1..4) L = 2q - (2^k - 1)                    odd levels, e.g. {-3, -1, 1, 3}
//      Ternary  (k = 2)    planes (L < 0, L <= 0)                {-1, 0, +1}: (0,0) = +1, (0,1) = 0,
//                          (1,1) = -1; (1,0) never occurs        (a Sign whose input can be exactly 0)
//    The real value is level_scale * L; kernels compute on L only.
//  * Zero (L = 0) is a level of Unipolar (q = zero_level) and Ternary (planes (0, 1)) tensors, so a
//    convolution's zero padding is a constant bit per plane and costs nothing; Bipolar and Binary have no
//    zero level and need the per-position padding correction.
#pragma once

#include <cstddef>
#include <cstdint>

#include "onebit/core/levels.h"

namespace onebit {

using PackedWord = uint32_t;
inline constexpr size_t kBitsPerWord = 32;

/// Number of packed words that hold `channels` binary channels.
constexpr size_t packed_words(size_t channels) { return (channels + kBitsPerWord - 1) / kBitsPerWord; }

/// Bit for a float value: 1 (meaning -1) iff x < 0.
constexpr PackedWord binarize_bit(float x) { return x < 0.0f ? 1u : 0u; }

/// ±1 float for a bit.
constexpr float bit_value(PackedWord bit) { return bit ? -1.0f : 1.0f; }

/// Mask of the real (non-padding) channel bits of word `word_index` for a tensor of `channels` channels.
constexpr PackedWord channel_mask(size_t channels, size_t word_index) {
  const size_t first = word_index * kBitsPerWord;
  if (first >= channels) return 0;
  const size_t n = channels - first;
  return n >= kBitsPerWord ? ~PackedWord{0} : ((PackedWord{1} << n) - 1);
}

/// Kinds of levels and their integer values: core/include/onebit/core/levels.h.
using core::LevelKind;
using core::level_value;

}  // namespace onebit
