// QuantizeLevels selection (best ISA first) and the public quantize_levels / dequantize_levels entry points.
//
// Kinds and bits accepted by quantize_levels (anything else is a caller bug: the runtime validates the model
// first): Unipolar and Bipolar with bits 1..4, Ternary with bits 2, and Binary with bits 1 (plain sign,
// bit = (t < 0), as pack_bits). Unipolar and Bipolar share one level-index rule (pack.h); they differ only in
// what the index means (bit_contract.h level_value), which dequantize_levels and the convolution apply.
#include <cassert>

#include "onebit/kernels/bit_contract.h"
#include "pack/pack-ukernels.h"

namespace onebit::kernels {

onebit_quantize_levels_ukernel_fn quantize_levels_select(Isa isa, Isa* chosen) {
  struct Candidate { Isa isa; onebit_quantize_levels_ukernel_fn fn; };
  static const Candidate candidates[] = {
#if defined(ONEBIT_HAVE_AVX512VPOPCNT)
      {Isa::kAvx512Vpopcnt, onebit_quantize_levels_ukernel_x32__avx512vpopcnt},
#endif
#if defined(ONEBIT_HAVE_AVX2)
      {Isa::kAvx2, onebit_quantize_levels_ukernel_x32__avx2},
#endif
#if defined(ONEBIT_HAVE_NEON) && defined(__aarch64__)
      // armv7 NEON flushes subnormals to zero (t = -1e-40 would lose its sign) and has no round-to-nearest-
      // even instruction, so armv7 keeps the scalar (VFP, IEEE) path.
      {Isa::kNeon, onebit_quantize_levels_ukernel_x32__neon},
#endif
      {Isa::kScalar, onebit_quantize_levels_ukernel_x32__scalar},
  };
  for (const Candidate& c : candidates) {
    if (isa_allows(isa, c.isa) && isa_supported(c.isa)) {
      if (chosen != nullptr) *chosen = c.isa;
      return c.fn;
    }
  }
  if (chosen != nullptr) *chosen = Isa::kScalar;
  return onebit_quantize_levels_ukernel_x32__scalar;
}

void quantize_levels(Isa isa, size_t pixels, size_t channels, const float* x, uint32_t* out,
                     const LevelQuantizer& quantizer) {
  quantize_levels(isa, pixels, 0, pixels, channels, x, out, quantizer);
}

void quantize_levels(Isa isa, size_t pixels, size_t begin, size_t end, size_t channels, const float* x,
                     uint32_t* out, const LevelQuantizer& quantizer) {
  assert((quantizer.kind == LevelKind::kTernary && quantizer.bits == 2) ||
         (quantizer.kind == LevelKind::kBinary && quantizer.bits == 1) ||
         ((quantizer.kind == LevelKind::kUnipolar || quantizer.kind == LevelKind::kBipolar) &&
          quantizer.bits >= 1 && quantizer.bits <= 4));
  assert(begin <= end && end <= pixels);
  if (begin == end || channels == 0) return;
  const size_t words = packed_words(channels);
  quantize_levels_select(isa)(end - begin, channels, x + begin * channels, out + begin * words, pixels * words,
                              &quantizer);
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
