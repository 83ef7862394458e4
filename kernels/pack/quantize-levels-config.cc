// QuantizeLevels: its table (pack-ukernels.h), selection, and the public quantize_levels /
// dequantize_levels entry points.
//
// Kinds and bits accepted by quantize_levels (anything else is a caller bug: the runtime validates the model
// first): Unipolar and Bipolar with bits 1..4, Ternary with bits 2, and Binary with bits 1 (plain sign,
// bit = (t < 0), as pack_bits). Unipolar and Bipolar share one level-index rule (pack.h); they differ only in
// what the index means (bit_contract.h level_value), which dequantize_levels and the convolution apply.
#include <cassert>

#include "onebit/kernels/bit_contract.h"
#include "pack/pack-ukernels.h"

namespace onebit::kernels {
namespace {

#define ONEBIT_QUANTIZE_LEVELS_ENTRY(tile, isa) {Isa::isa, onebit_quantize_levels_ukernel_##tile, #tile},
const QuantizeLevelsUkernel kUkernels[] = {
    ONEBIT_COMPILED_UKERNELS(ONEBIT_QUANTIZE_LEVELS_UKERNELS, ONEBIT_QUANTIZE_LEVELS_ENTRY)};
#undef ONEBIT_QUANTIZE_LEVELS_ENTRY

}  // namespace

const QuantizeLevelsUkernel& quantize_levels_select(Isa isa) { return select_ukernel(kUkernels, isa); }
const QuantizeLevelsUkernel* quantize_levels_ukernels(size_t* count) { return ukernel_table(kUkernels, count); }

void quantize_levels(const QuantizeLevelsUkernel& ukernel, size_t pixels, size_t channels, const float* x,
                     uint32_t* out, const LevelQuantizer& quantizer) {
  quantize_levels(ukernel, pixels, 0, pixels, channels, x, out, quantizer);
}

void quantize_levels(const QuantizeLevelsUkernel& ukernel, size_t pixels, size_t begin, size_t end,
                     size_t channels, const float* x, uint32_t* out, const LevelQuantizer& quantizer) {
  assert(core::levels_allowed(quantizer.kind, quantizer.bits));
  assert(begin <= end && end <= pixels);
  if (begin == end || channels == 0) return;
  const size_t words = packed_words(channels);
  ukernel.fn(end - begin, channels, x + begin * channels, out + begin * words, pixels * words, &quantizer);
}

void dequantize_levels(size_t pixels, size_t channels, const uint32_t* in, LevelKind kind, int bits,
                       int zero_level, float level_scale, float* out) {
  dequantize_levels(pixels, 0, pixels, channels, in, kind, bits, zero_level, level_scale, out);
}

void dequantize_levels(size_t pixels, size_t begin, size_t end, size_t channels, const uint32_t* in, LevelKind kind,
                       int bits, int zero_level, float level_scale, float* out) {
  const size_t words = packed_words(channels);
  const size_t plane_words = pixels * words;
  in += begin * words;
  out += begin * channels;
  for (size_t p = begin; p < end; ++p, in += words, out += channels) {
    for (size_t c = 0; c < channels; ++c) {
      uint32_t q = 0;
      for (int i = 0; i < bits; ++i) q |= ((in[static_cast<size_t>(i) * plane_words + c / 32] >> (c % 32)) & 1u) << i;
      out[c] = level_scale * static_cast<float>(level_value(kind, bits, zero_level, q));
    }
  }
}

}  // namespace onebit::kernels
