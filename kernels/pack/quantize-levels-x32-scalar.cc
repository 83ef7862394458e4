// Scalar reference of QuantizeLevels (float -> k-bit level planes), the truth the SIMD variants are compared
// with. Built with -ffp-contract=off: t = fl(fl(x * scale) + shift), never an FMA.
#include "onebit/kernels/bit_contract.h"
#include "pack/pack-ukernels.h"

using onebit::kernels::quantize_level_index;

ONEBIT_QUANTIZE_LEVELS_UKERNEL(onebit_quantize_levels_ukernel_x32__scalar) {
  const size_t words = onebit::packed_words(channels);
  const int bits = quantizer->bits;
  for (size_t p = 0; p < pixels; ++p, x += channels, out += words) {
    for (size_t w = 0; w < words; ++w) {
      const size_t c0 = w * 32;
      const size_t n = channels - c0 < 32 ? channels - c0 : 32;
      uint32_t planes[4] = {0, 0, 0, 0};
      for (size_t b = 0; b < n; ++b) {
        const size_t c = c0 + b;
        float t = x[c];
        if (quantizer->scale != nullptr) t = t * quantizer->scale[c];
        if (quantizer->shift != nullptr) t = t + quantizer->shift[c];
        const uint32_t q = quantize_level_index(quantizer->kind, bits, t);
        for (int i = 0; i < bits; ++i) planes[i] |= ((q >> i) & 1u) << b;
      }
      for (int i = 0; i < bits; ++i) out[static_cast<size_t>(i) * plane_words + w] = planes[i];
    }
  }
}
