// AVX-512 VNNI int8 stem ukernel 4x64__avx512vnni: 4 output pixels x 4 vectors of 16 int32 channels (16
// accumulators); per 4-byte group of a kernel row 4 weight loads, 4 broadcasts of the pixels' 4 input bytes,
// 16 vpdpbusd (u8 x s8, 64 MACs each); a block of fewer channels (out_c < 64, the last block) takes more
// pixels for the same 16 accumulators (up to 8). 16 accumulators, not the 24 of the float stem: on Zen 5
// vpdpbusd runs 2 per cycle with 8 to 24 independent accumulators (hand-written loops, also with this tile's
// loads and broadcasts), but GCC spills a 24-accumulator array to the stack around every kernel row, and
// with the whole 7x7 window unrolled (no spill) a 6x64 tile measured no faster (Bi-Real-18 stem, convolution
// alone: 386-401 us against 372-391), nor did this tile with a row's 6 groups unrolled (357-390). Compiled
// with the avx512vpopcnt path's flags; VNNI is enabled for this file's functions only (the pragmas below),
// and the table lists the ukernel only for CPUs with VNNI (stem_int8_runs).
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "stem/stem-int8-ukernels.h"
#include "util/immintrin.h"

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512vnni"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512vnni")
#endif

#include "stem/stem-int8-impl.h"

namespace {

using onebit::kernels::StemInt8;
using onebit::kernels::stem_int8::Tile;

struct Vnni {
  static constexpr int kBlock = 64, kLanes = 16, kTapBytes = 1;
  /// Pixels per tile of n vectors: 16 accumulators (at most 8 pixels), see the header comment.
  static constexpr int pixels(int n) { return 16 / n < 8 ? 16 / n : 8; }
  template <int P, int N>
  static void tile(const Tile& t);
};

template <int P, int N>
void Vnni::tile(const Tile& t) {
  __m512i acc[P][N];  // start at the packed bias
  for (int n = 0; n < N; ++n) acc[0][n] = _mm512_loadu_si512(t.bias + n * 16);
  for (int p = 1; p < P; ++p)
    for (int n = 0; n < N; ++n) acc[p][n] = acc[0][n];
  const uint8_t* xr = t.x;
  const uint8_t* w = t.w;
  for (int r = 0; r < t.rows; ++r, xr += t.x_row) {
    _Pragma("GCC unroll 2") for (int j = 0; j < t.groups; ++j, w += Vnni::kBlock * 4) {
      for (int p = 0; p < P; ++p) {
        int32_t v;
        std::memcpy(&v, xr + p * t.x_step + 4 * j, 4);
        const __m512i xv = _mm512_set1_epi32(v);
        for (int n = 0; n < N; ++n) acc[p][n] = _mm512_dpbusd_epi32(acc[p][n], xv, _mm512_loadu_si512(w + n * 64));
      }
    }
  }
  // stem_int8::requantize, clamped in float to [qmin - zp, qmax - zp] before rounding (the same integer
  // as clamping after it, the bounds being integers), so the float output needs no conversion back.
  const StemInt8& q = *t.p;
  const __m512 lo = _mm512_set1_ps(float(q.qmin - q.output_zero_point));
  const __m512 hi = _mm512_set1_ps(float(q.qmax - q.output_zero_point));
  const __m512 out_scale = _mm512_set1_ps(q.output_scale);
  const __m512i zp = _mm512_set1_epi32(q.output_zero_point);
  const __m512 zero = _mm512_setzero_ps();
  for (int n = 0; n < N; ++n) {
    const __m512 mult = _mm512_loadu_ps(t.mult + n * 16);
    const int lanes = t.valid - n * 16 >= 16 ? 16 : t.valid - n * 16;
    const __mmask16 mask = __mmask16((1u << lanes) - 1u);
    for (int p = 0; p < P; ++p) {
      __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(acc[p][n]), mult);
      v = _mm512_roundscale_ps(_mm512_min_ps(_mm512_max_ps(v, lo), hi), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      v = _mm512_add_ps(v, zero);  // -0 -> +0, as the scalar form
      const ptrdiff_t at = p * t.y_step + n * 16;
      if (q.float_output)
        _mm512_mask_storeu_ps(static_cast<float*>(t.y) + at, mask, _mm512_mul_ps(v, out_scale));
      else
        _mm_mask_storeu_epi8(static_cast<int8_t*>(t.y) + at, mask,
                             _mm512_cvtepi32_epi8(_mm512_add_epi32(_mm512_cvtps_epi32(v), zp)));
    }
  }
}

}  // namespace

ONEBIT_STEM_INT8_QUANTIZE(onebit_stem_int8_quantize_4x64__avx512vnni) {
  const __m512 scale = _mm512_set1_ps(inv_scale), lo = _mm512_set1_ps(-1024.0f), hi = _mm512_set1_ps(1024.0f);
  const __m512i off = _mm512_set1_epi32(offset), zero = _mm512_setzero_si512();
  size_t i = 0;
  for (; i < n; i += 16) {
    const unsigned left = n - i >= 16 ? 16u : unsigned(n - i);
    const __mmask16 mask = __mmask16((1u << left) - 1u);
    __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(mask, x + i), scale);
    v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);  // NaN -> lo, as the scalar quantizer
    const __m512i q = _mm512_max_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(v), off), zero);
    _mm_mask_storeu_epi8(u + i, mask, _mm512_cvtusepi32_epi8(q));  // unsigned saturation: <= 255
  }
}

ONEBIT_STEM_INT8_UKERNEL(onebit_stem_int8_ukernel_4x64__avx512vnni) {
  onebit::kernels::stem_int8::rows<Vnni>(p, xq, packed, y, row_begin, row_end);
}

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
