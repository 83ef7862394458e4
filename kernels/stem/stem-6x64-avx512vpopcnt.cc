// AVX-512F stem ukernel: 6 pixels x 4 vectors of 16 channels (24 accumulators, 4 weight vectors and a
// broadcast in the 32 zmm registers); per tap 4 weight loads, 6 broadcasts, 24 FMAs, so the two FMA ports
// bound it, not the loads. Only AVX-512F instructions; listed under the avx512vpopcnt path, the AVX-512
// path this build compiles (cmake/Isa.cmake).
#include "util/immintrin.h"

#include "stem/stem-impl.h"
#include "stem/stem-ukernels.h"
#include "stem/stem-x86.h"

namespace {

struct Avx512 {
  using T = __m512;
  static constexpr int kLanes = 16, kVectors = 4, kPixels = 6;
  ONEBIT_STEM_X86_OPS(_mm512)
  static void store_first(float* p, T x, int n) { _mm512_mask_storeu_ps(p, __mmask16((1u << n) - 1u), x); }
};

}  // namespace

ONEBIT_STEM_UKERNEL(onebit_stem_ukernel_6x64__avx512vpopcnt) {
  onebit::kernels::stem::rows<Avx512>(*g, x, packed, y, row_begin, row_end);
}
ONEBIT_STEM_MAX_POOL(onebit_stem_max_pool_6x64__avx512vpopcnt) {
  onebit::kernels::stem::max_pool_row<Avx512>(*p, rows, n, columns, y);
}
