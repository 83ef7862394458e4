// AVX2 + FMA stem ukernel: 6 pixels x 2 vectors of 8 channels (12 accumulators, 2 weight vectors and a
// broadcast in the 16 ymm registers); per tap 2 weight loads, 6 broadcasts, 12 FMAs.
#include "util/immintrin.h"

#include "stem/stem-impl.h"
#include "stem/stem-ukernels.h"
#include "stem/stem-x86.h"

namespace {

struct Avx2 {
  using T = __m256;
  static constexpr int kLanes = 8, kVectors = 2, kPixels = 6;
  ONEBIT_STEM_X86_OPS(_mm256)
  static void store_first(float* p, T x, int n) {
    _mm256_maskstore_ps(p, _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)), x);
  }
};

}  // namespace

ONEBIT_STEM_UKERNEL(onebit_stem_ukernel_6x16__avx2) {
  onebit::kernels::stem::rows<Avx2>(*g, x, packed, y, row_begin, row_end);
}
ONEBIT_STEM_MAX_POOL(onebit_stem_max_pool_6x16__avx2) {
  onebit::kernels::stem::max_pool_row<Avx2>(*p, rows, n, columns, y);
}
