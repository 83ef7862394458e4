// Binary GEMM selection (best ISA first) and weight packing into the micro-kernels' tile layout.
#include <cstring>

#include "bgemm/bgemm.h"

#if defined(ONEBIT_HAVE_NEON)
ONEBIT_BGEMM_UKERNEL(onebit_bgemm_ukernel_4x8__neon);  // aarch64 tile (32 vector registers)
ONEBIT_BGEMM_UKERNEL(onebit_bgemm_ukernel_4x4__neon);  // armv7 tile (16 q registers)
#endif

namespace onebit::kernels {

BgemmConfig bgemm_select(Isa isa) {
  static const BgemmConfig candidates[] = {
#if defined(ONEBIT_HAVE_AVX512VPOPCNT)
      {Isa::kAvx512Vpopcnt, 6, 32, onebit_bgemm_ukernel_6x32__avx512vpopcnt},
#endif
#if defined(ONEBIT_HAVE_AVX2)
      {Isa::kAvx2, 3, 8, onebit_bgemm_ukernel_3x8__avx2},
#endif
#if defined(ONEBIT_HAVE_NEON) && defined(__aarch64__)
      {Isa::kNeon, 4, 8, onebit_bgemm_ukernel_4x8__neon},
#elif defined(ONEBIT_HAVE_NEON)
      {Isa::kNeon, 4, 4, onebit_bgemm_ukernel_4x4__neon},
#endif
      {Isa::kScalar, 4, 4, onebit_bgemm_ukernel_4x4__scalar},
  };
  for (const BgemmConfig& c : candidates) {
    if (isa_allows(isa, c.isa) && isa_supported(c.isa)) return c;
  }
  return candidates[sizeof(candidates) / sizeof(candidates[0]) - 1];
}

void bgemm_pack_weights(size_t nr, size_t n, size_t segs, size_t seg_words, const uint32_t* w, size_t w_stride,
                        uint64_t* packed) {
  const size_t k64 = (seg_words + 1) / 2;
  for (size_t n0 = 0; n0 < n; n0 += nr) {
    for (size_t s = 0; s < segs; ++s) {
      for (size_t j = 0; j < k64; ++j) {
        for (size_t i = 0; i < nr; ++i, ++packed) {
          *packed = 0;
          if (n0 + i >= n) continue;
          const uint32_t* seg = w + (n0 + i) * w_stride + s * seg_words;
          const size_t words = 2 * j + 1 < seg_words ? 2 : 1;
          std::memcpy(packed, seg + 2 * j, words * sizeof(uint32_t));
        }
      }
    }
  }
}

}  // namespace onebit::kernels
