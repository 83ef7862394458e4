// QuantizeOptions (threshold [C] or none, flip [C] or empty, constant [C] or empty) as the word masks of
// kernels::QuantizeThresholds (pack.h), for the Quantize operator (ops/quantize.cc) and for a fused Quantize,
// BinaryConv2D's FloatAndBitPacked output, whose bits must be exactly the Quantize operator's: one builder.
//   bit c = constant[c] >= 0 ? constant[c] : flip[c] ? (x > t[c]) : (x < t[c])    (t = 0 when absent)
//   padding channels c >= C: const_mask 1, const_bits 0 (pack.h's requirement: padding bits are 0).
#pragma once

#include <flatbuffers/flatbuffers.h>

#include <cstdint>
#include <vector>

#include "onebit/kernels/bit_contract.h"
#include "onebit/kernels/pack.h"
#include "onebit/pool.h"

namespace onebit::rt {

struct QuantizeMasks {
  Vec<float> threshold;  // zeros, only when the model gives no thresholds (else they are read in place)
  Vec<uint32_t> flip, const_mask, const_bits;
  kernels::QuantizeThresholds thresholds;

  /// False (nothing set) for a plain sign: no threshold, no flips, no constants.
  bool prepare(size_t channels, const float* t, const flatbuffers::Vector<uint8_t>* flips,
               const flatbuffers::Vector<int8_t>* constants) {
    const bool has_flip = flips != nullptr && flips->size() != 0;
    const bool has_const = constants != nullptr && constants->size() != 0;
    if (t == nullptr && !has_flip && !has_const) return false;
    const size_t words = packed_words(channels);
    // The model's thresholds are read where they lie (constants outlive every interpreter of the model).
    if (t == nullptr) threshold.assign(channels, 0.0f);
    flip.assign(words, 0);
    const_mask.assign(words, 0);
    const_bits.assign(words, 0);
    for (size_t w = 0; w < words; ++w) {
      for (size_t b = 0; b < kBitsPerWord; ++b) {
        const size_t c = w * kBitsPerWord + b;
        const auto i = flatbuffers::uoffset_t(c);
        const int constant = c >= channels ? 0 : has_const ? constants->Get(i) : -1;
        flip[w] |= uint32_t{c < channels && has_flip && flips->Get(i) != 0} << b;
        const_mask[w] |= uint32_t{constant >= 0} << b;
        const_bits[w] |= uint32_t{constant == 1} << b;
      }
    }
    thresholds = {t != nullptr ? t : threshold.data(), flip.data(), const_mask.data(), const_bits.data()};
    return true;
  }
};

}  // namespace onebit::rt
