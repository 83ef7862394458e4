// AVX2 + FMA stem ukernel: 6 pixels x 2 vectors of 8 channels (12 accumulators, 2 weight vectors and a
// broadcast in the 16 ymm registers); per tap 2 weight loads, 6 broadcasts, 12 FMAs.
#include "util/immintrin.h"

#include "stem/stem-impl.h"
#include "stem/stem-ukernels.h"

namespace {

struct Avx2 {
  using T = __m256;
  static constexpr int kLanes = 8, kVectors = 2, kPixels = 6;
  static T set1(float s) { return _mm256_set1_ps(s); }
  static T zero() { return _mm256_setzero_ps(); }
  static T load(const float* p) { return _mm256_loadu_ps(p); }
  static T broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static T fma(T acc, T a, T b) { return _mm256_fmadd_ps(a, b, acc); }
  static T add(T a, T b) { return _mm256_add_ps(a, b); }
  // vmaxps / vminps return their second operand when either is NaN: a NaN sum stays NaN, as float.h's clamp.
  static T clamp(T x, T lo, T hi) { return _mm256_min_ps(hi, _mm256_max_ps(lo, x)); }
  static void store(float* p, T x, int n) {
    if (n >= kLanes) {
      _mm256_storeu_ps(p, x);
      return;
    }
    const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    _mm256_maskstore_ps(p, mask, x);
  }
};

}  // namespace

ONEBIT_STEM_UKERNEL(onebit_stem_ukernel_6x16__avx2) {
  onebit::kernels::stem::rows<Avx2>(*g, x, packed, y, row_begin, row_end);
}
