// Pack family: its table (pack-ukernels.h), selection, and the public pack_bits / unpack_bits entry points.
#include "pack/pack-ukernels.h"

#include "onebit/kernels/bit_contract.h"

namespace onebit::kernels {
namespace {

#define ONEBIT_PACK_ENTRY(tile, isa) {Isa::isa, onebit_pack_ukernel_##tile, #tile},
const PackUkernel kUkernels[] = {ONEBIT_COMPILED_UKERNELS(ONEBIT_PACK_UKERNELS, ONEBIT_PACK_ENTRY)};
#undef ONEBIT_PACK_ENTRY

}  // namespace

const PackUkernel& pack_select(Isa isa) { return select_ukernel(kUkernels, isa); }
const PackUkernel* pack_ukernels(size_t* count) { return ukernel_table(kUkernels, count); }

void pack_bits(const PackUkernel& ukernel, size_t pixels, size_t channels, const float* x, uint32_t* out,
               const QuantizeThresholds* thresholds) {
  if (pixels == 0 || channels == 0) return;
  ukernel.fn(pixels, channels, x, out, thresholds);
}

void unpack_bits(size_t pixels, size_t channels, const uint32_t* in, float* out) {
  const size_t words = packed_words(channels);
  for (size_t p = 0; p < pixels; ++p, in += words, out += channels) {
    for (size_t c = 0; c < channels; ++c) out[c] = bit_value((in[c / 32] >> (c % 32)) & 1u);
  }
}

}  // namespace onebit::kernels
