// Binary GEMM selection (best ISA first) and weight packing into the micro-kernels' tile layout.
#include <cstring>

#include "bgemm/bgemm.h"

namespace onebit::kernels {

BgemmConfig bgemm_select(Isa isa) {
  static const BgemmConfig candidates[] = {
#if defined(ONEBIT_HAVE_AVX512VPOPCNT)
      {Isa::kAvx512Vpopcnt, 6, 32, onebit_bgemm_ukernel_6x32__avx512vpopcnt},
#endif
#if defined(ONEBIT_HAVE_AVX2)
      {Isa::kAvx2, 3, 8, onebit_bgemm_ukernel_3x8__avx2},
#endif
      {Isa::kScalar, 4, 4, onebit_bgemm_ukernel_4x4__scalar},
  };
  for (const BgemmConfig& c : candidates) {
    if (isa_allows(isa, c.isa) && isa_supported(c.isa)) return c;
  }
  return candidates[sizeof(candidates) / sizeof(candidates[0]) - 1];
}

void bgemm_pack_weights(size_t nr, size_t n, size_t kw, const uint32_t* w, size_t w_stride, uint64_t* packed) {
  const size_t k64 = (kw + 1) / 2;
  for (size_t n0 = 0; n0 < n; n0 += nr) {
    for (size_t j = 0; j < k64; ++j) {
      for (size_t i = 0; i < nr; ++i, ++packed) {
        *packed = 0;
        if (n0 + i >= n) continue;
        const uint32_t* row = w + (n0 + i) * w_stride;
        const size_t words = 2 * j + 1 < kw ? 2 : 1;
        std::memcpy(packed, row + 2 * j, words * sizeof(uint32_t));
      }
    }
  }
}

}  // namespace onebit::kernels
