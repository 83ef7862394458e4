// AVX-512F stem ukernel: 6 pixels x 4 vectors of 16 channels (24 accumulators, 4 weight vectors and a
// broadcast in the 32 zmm registers); per tap 4 weight loads, 6 broadcasts, 24 FMAs, so the two FMA ports
// bound it, not the loads. Only AVX-512F instructions; listed under the avx512vpopcnt path, the AVX-512
// path this build compiles (cmake/Isa.cmake).
#include "util/immintrin.h"

#include "stem/stem-impl.h"
#include "stem/stem-ukernels.h"

namespace {

struct Avx512 {
  using T = __m512;
  static constexpr int kLanes = 16, kVectors = 4, kPixels = 6;
  static T set1(float s) { return _mm512_set1_ps(s); }
  static T zero() { return _mm512_setzero_ps(); }
  static T load(const float* p) { return _mm512_loadu_ps(p); }
  static T broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static T fma(T acc, T a, T b) { return _mm512_fmadd_ps(a, b, acc); }
  static T add(T a, T b) { return _mm512_add_ps(a, b); }
  // vmaxps / vminps return their second operand when either is NaN: a NaN sum stays NaN, as float.h's clamp.
  static T clamp(T x, T lo, T hi) { return _mm512_min_ps(hi, _mm512_max_ps(lo, x)); }
  static void store(float* p, T x, int n) {
    if (n >= kLanes) {
      _mm512_storeu_ps(p, x);
      return;
    }
    _mm512_mask_storeu_ps(p, __mmask16((1u << n) - 1u), x);
  }
};

}  // namespace

ONEBIT_STEM_UKERNEL(onebit_stem_ukernel_6x64__avx512vpopcnt) {
  onebit::kernels::stem::rows<Avx512>(*g, x, packed, y, row_begin, row_end);
}
