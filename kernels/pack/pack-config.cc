// Pack family selection (best ISA first) and the public pack_bits / unpack_bits entry points.
#include "pack/pack-ukernels.h"

#include "onebit/kernels/bit_contract.h"

#if defined(ONEBIT_HAVE_NEON)
void onebit_pack_ukernel_x32__neon(size_t, size_t, const float*, uint32_t*, const onebit::kernels::QuantizeThresholds*);
#endif

namespace onebit::kernels {

onebit_pack_ukernel_fn pack_select(Isa isa, Isa* chosen) {
  struct Candidate { Isa isa; onebit_pack_ukernel_fn fn; };
  static const Candidate candidates[] = {
#if defined(ONEBIT_HAVE_AVX512VPOPCNT)
      {Isa::kAvx512Vpopcnt, onebit_pack_ukernel_x32__avx512vpopcnt},
#endif
#if defined(ONEBIT_HAVE_AVX2)
      {Isa::kAvx2, onebit_pack_ukernel_x32__avx2},
#endif
#if defined(ONEBIT_HAVE_NEON)
      {Isa::kNeon, onebit_pack_ukernel_x32__neon},
#endif
      {Isa::kScalar, onebit_pack_ukernel_x32__scalar},
  };
  for (const Candidate& c : candidates) {
    if (isa_allows(isa, c.isa) && isa_supported(c.isa)) {
      if (chosen != nullptr) *chosen = c.isa;
      return c.fn;
    }
  }
  if (chosen != nullptr) *chosen = Isa::kScalar;
  return onebit_pack_ukernel_x32__scalar;
}

void pack_bits(Isa isa, size_t pixels, size_t channels, const float* x, uint32_t* out,
               const QuantizeThresholds* thresholds) {
  if (pixels == 0 || channels == 0) return;
  pack_select(isa)(pixels, channels, x, out, thresholds);
}

void unpack_bits(size_t pixels, size_t channels, const uint32_t* in, float* out) {
  const size_t words = packed_words(channels);
  for (size_t p = 0; p < pixels; ++p, in += words, out += channels) {
    for (size_t c = 0; c < channels; ++c) out[c] = bit_value((in[c / 32] >> (c % 32)) & 1u);
  }
}

}  // namespace onebit::kernels
