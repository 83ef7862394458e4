// Float <-> bits. Packing is the Quantize operator; unpacking is Dequantize. The packing families (pack,
// quantize-levels) choose their ukernel once: an operator keeps what pack_select / quantize_levels_select
// return at prepare and passes it to every pack_bits / quantize_levels call.
#pragma once

#include <cstddef>
#include <cstdint>

#include "onebit/kernels/bit_contract.h"
#include "onebit/kernels/isa.h"

namespace onebit::kernels {
struct QuantizeThresholds;
struct LevelQuantizer;
}  // namespace onebit::kernels

// Packs `pixels` rows of `channels` floats (row stride = channels) into rows of packed_words(channels)
// words. thresholds == nullptr: bit = (x < 0). Padding bits are 0. No over-reads or over-writes.
typedef void (*onebit_pack_ukernel_fn)(size_t pixels, size_t channels, const float* x, uint32_t* out,
                                       const onebit::kernels::QuantizeThresholds* thresholds);
// Quantizes `pixels` rows of `channels` floats into quantizer->bits planes (quantize_levels below): plane i
// of pixel p at out + i * plane_words + p * packed_words(channels). The quantizer is already validated
// (kind / bits pair allowed, see quantize_levels). Padding bits 0; no over-reads or over-writes.
typedef void (*onebit_quantize_levels_ukernel_fn)(size_t pixels, size_t channels, const float* x, uint32_t* out,
                                                  size_t plane_words,
                                                  const onebit::kernels::LevelQuantizer* quantizer);

namespace onebit::kernels {

using PackUkernel = Ukernel<onebit_pack_ukernel_fn>;
using QuantizeLevelsUkernel = Ukernel<onebit_quantize_levels_ukernel_fn>;

/// Best pack ukernel allowed by `isa` and supported by this CPU (scalar at worst).
const PackUkernel& pack_select(Isa isa);
/// Every pack ukernel compiled into this binary (pack-ukernels.h), best ISA first; the CPU may lack some
/// (check isa_supported). Sets *count.
const PackUkernel* pack_ukernels(size_t* count);
/// Best quantize-levels ukernel allowed by `isa` and supported by this CPU (scalar at worst).
const QuantizeLevelsUkernel& quantize_levels_select(Isa isa);
/// Every quantize-levels ukernel compiled into this binary, best ISA first. Sets *count.
const QuantizeLevelsUkernel* quantize_levels_ukernels(size_t* count);

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
void pack_bits(const PackUkernel& ukernel, size_t pixels, size_t channels, const float* x, uint32_t* out,
               const QuantizeThresholds* thresholds = nullptr);

/// in: [pixels][packed_words(channels)] words -> out: [pixels][channels] floats of ±1.
void unpack_bits(size_t pixels, size_t channels, const uint32_t* in, float* out);

/// Float -> k-bit levels (the QuantizeLevels operator; bit_contract.h "k-bit tensors"). For channel c,
/// t = fl(fl(x * scale[c]) + shift[c]) (scale / shift null: 1 / 0);
///   kUnipolar, kBipolar: q = clamp(round_half_even(t), 0, 2^bits - 1), NaN -> 0; plane i = bit i of q;
///   kTernary (bits 2):   L = sign(t), NaN -> 0; planes (t < 0, !(t > 0)).
/// out: [bits][pixels][packed_words(channels)] words, channel padding bits 0 in every plane.
struct LevelQuantizer {
  LevelKind kind = LevelKind::kUnipolar;
  int bits = 2;
  const float* scale = nullptr;  // [channels] or null
  const float* shift = nullptr;  // [channels] or null
};
void quantize_levels(const QuantizeLevelsUkernel& ukernel, size_t pixels, size_t channels, const float* x,
                     uint32_t* out, const LevelQuantizer& quantizer);
/// Pixels [begin, end) of the same call (x and out still the whole tensor's): writes exactly the words the
/// whole call writes for those pixels, in every plane, so disjoint ranges may run on different threads.
void quantize_levels(const QuantizeLevelsUkernel& ukernel, size_t pixels, size_t begin, size_t end,
                     size_t channels, const float* x, uint32_t* out, const LevelQuantizer& quantizer);

/// k-bit levels -> floats level_scale * L. in: [bits][pixels][packed_words(channels)].
void dequantize_levels(size_t pixels, size_t channels, const uint32_t* in, LevelKind kind, int bits,
                       int zero_level, float level_scale, float* out);
/// Pixels [begin, end) of the same call (in and out still the whole tensor's), as quantize_levels' range form.
void dequantize_levels(size_t pixels, size_t begin, size_t end, size_t channels, const uint32_t* in, LevelKind kind,
                       int bits, int zero_level, float level_scale, float* out);

}  // namespace onebit::kernels
