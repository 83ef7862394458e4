// AVX2 int8 stem ukernel 6x16__avx2: 6 output pixels x 2 vectors of 8 int32 channels (12 accumulators, 2
// weight vectors, a broadcast and a product in the 16 ymm registers); per 4-byte group of a kernel row (2
// taps) 2 weight loads, 6 broadcasts of the pixels' 2 int16 inputs, 12 vpmaddwd + 12 vpaddd (16 MACs each).
// int16 pairs, not vpmaddubsw's u8 x s8 ones: vpmaddubsw adds two u8 x s8 products into int16 with
// saturation (255 * -128 * 2 = -65,280 saturates), so a u8 x s8 scheme is exact only for restricted inputs
// or weights, and even then it takes two multiplies per 32 MACs (vpmaddubsw, then vpmaddwd by ones to
// widen): the same multiply-port work as vpmaddwd's one per 16 MACs. vpmaddwd's int16 products and their
// int32 pair sums cannot overflow (|u * w| <= 255 * 128), so every input and weight is exact, and on the
// ports that run the FMA it does 16 MACs per instruction against the fp32 stem's 8. The input is quantized
// to int16 (tap_bytes 2), so a broadcast is a plain load.
// 6x16__avxvnni, for AVX2 CPUs with AVX-VNNI (VEX vpdpbusd: Alder Lake, Zen 5): the same tile on u8 x s8
// groups of 4 as the AVX-512 VNNI ukernel (tap_bytes 1), 12 vpdpbusd per group, no product register. Listed
// where the CPU has AVX-VNNI (stem_int8_runs); its functions only are compiled for it (target attribute).
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "stem/stem-int8-impl.h"
#include "util/immintrin.h"

namespace {

using onebit::kernels::StemInt8;
using onebit::kernels::stem_int8::Tile;

/// Pixels per tile of n vectors: 12 accumulators.
constexpr int pixels(int n) { return 12 / n < 8 ? 12 / n : 8; }

struct Avx2 {
  static constexpr int kBlock = 16, kLanes = 8, kTapBytes = 2;
  static constexpr int pixels(int n) { return ::pixels(n); }
  template <int P, int N>
  static void tile(const Tile& t);
};

struct AvxVnni {
  static constexpr int kBlock = 16, kLanes = 8, kTapBytes = 1;
  static constexpr int pixels(int n) { return ::pixels(n); }
  template <int P, int N>
  __attribute__((target("avxvnni"))) static void tile(const Tile& t);
};

/// The first n of 8 int8 outputs at y.
void store_int8(int8_t* y, __m256i q, int n) {
  const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
  const __m128i b = _mm_packs_epi16(w, w);  // values in [-128, 127]: no saturation
  if (n >= 8) {
    _mm_storel_epi64(reinterpret_cast<__m128i*>(y), b);
  } else {
    int8_t tmp[16];
    _mm_storeu_si128(reinterpret_cast<__m128i*>(tmp), b);
    std::memcpy(y, tmp, size_t(n));
  }
}

/// stem_int8::requantize of the tile's accumulators, as the AVX-512 ukernel's epilogue, and the stores.
template <int P, int N>
void store(const Tile& t, const __m256i (&acc)[P][N]) {
  const StemInt8& q = *t.p;
  const __m256 lo = _mm256_set1_ps(float(q.qmin - q.output_zero_point));
  const __m256 hi = _mm256_set1_ps(float(q.qmax - q.output_zero_point));
  const __m256 out_scale = _mm256_set1_ps(q.output_scale);
  const __m256i zp = _mm256_set1_epi32(q.output_zero_point);
  const __m256 zero = _mm256_setzero_ps();
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  for (int n = 0; n < N; ++n) {
    const __m256 mult = _mm256_loadu_ps(t.mult + n * 8);
    const int lanes = t.valid - n * 8 >= 8 ? 8 : t.valid - n * 8;
    const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(lanes), lane);
    for (int p = 0; p < P; ++p) {
      __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(acc[p][n]), mult);
      v = _mm256_round_ps(_mm256_min_ps(_mm256_max_ps(v, lo), hi), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      v = _mm256_add_ps(v, zero);  // -0 -> +0, as the scalar form
      const ptrdiff_t at = p * t.y_step + n * 8;
      if (q.float_output)
        _mm256_maskstore_ps(static_cast<float*>(t.y) + at, mask, _mm256_mul_ps(v, out_scale));
      else
        store_int8(static_cast<int8_t*>(t.y) + at, _mm256_add_epi32(_mm256_cvtps_epi32(v), zp), lanes);
    }
  }
}

template <int P, int N>
void Avx2::tile(const Tile& t) {
  __m256i acc[P][N];  // start at the packed bias
  for (int n = 0; n < N; ++n) acc[0][n] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(t.bias + n * 8));
  for (int p = 1; p < P; ++p)
    for (int n = 0; n < N; ++n) acc[p][n] = acc[0][n];
  const uint8_t* xr = t.x;
  const uint8_t* w = t.w;
  for (int r = 0; r < t.rows; ++r, xr += t.x_row) {
    for (int j = 0; j < t.groups; ++j, w += Avx2::kBlock * 4) {
      __m256i wv[N];
      for (int n = 0; n < N; ++n) wv[n] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + n * 32));
      for (int p = 0; p < P; ++p) {
        int32_t v;
        std::memcpy(&v, xr + p * t.x_step + 4 * j, 4);
        const __m256i xv = _mm256_set1_epi32(v);
        for (int n = 0; n < N; ++n) acc[p][n] = _mm256_add_epi32(acc[p][n], _mm256_madd_epi16(xv, wv[n]));
      }
    }
  }
  store(t, acc);
}

template <int P, int N>
__attribute__((target("avxvnni"))) void AvxVnni::tile(const Tile& t) {
  __m256i acc[P][N];  // start at the packed bias
  for (int n = 0; n < N; ++n) acc[0][n] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(t.bias + n * 8));
  for (int p = 1; p < P; ++p)
    for (int n = 0; n < N; ++n) acc[p][n] = acc[0][n];
  const uint8_t* xr = t.x;
  const uint8_t* w = t.w;
  for (int r = 0; r < t.rows; ++r, xr += t.x_row) {
    for (int j = 0; j < t.groups; ++j, w += kBlock * 4) {
      __m256i wv[N];
      for (int n = 0; n < N; ++n) wv[n] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + n * 32));
      for (int p = 0; p < P; ++p) {
        int32_t v;
        std::memcpy(&v, xr + p * t.x_step + 4 * j, 4);
        const __m256i xv = _mm256_set1_epi32(v);
        for (int n = 0; n < N; ++n) acc[p][n] = _mm256_dpbusd_avx_epi32(acc[p][n], xv, wv[n]);
      }
    }
  }
  store(t, acc);
}

/// The quantizer (stem_int8.h) writing elements of type E: uint16_t (int16 pairs) or uint8_t.
template <class E>
void quantize(const float* x, size_t n, float inv_scale, int offset, uint8_t* u) {
  const __m256 scale = _mm256_set1_ps(inv_scale), lo = _mm256_set1_ps(-1024.0f), hi = _mm256_set1_ps(1024.0f);
  const __m256i off = _mm256_set1_epi32(offset), zero = _mm256_setzero_si256(), top = _mm256_set1_epi32(255);
  E* out = reinterpret_cast<E*>(u);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + i), scale);
    v = _mm256_min_ps(_mm256_max_ps(v, lo), hi);  // NaN -> lo, as the scalar quantizer
    const __m256i q = _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(v), off), zero), top);
    const __m128i w = _mm_packus_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
    if (sizeof(E) == 2)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), w);
    else
      _mm_storel_epi64(reinterpret_cast<__m128i*>(out + i), _mm_packus_epi16(w, w));
  }
  for (; i < n; ++i) {
    float v = x[i] * inv_scale;
    v = v > -1024.0f ? v : -1024.0f;  // NaN -> -1024, as above
    v = v < 1024.0f ? v : 1024.0f;
    const int q = int(__builtin_nearbyintf(v)) + offset;
    out[i] = E(q < 0 ? 0 : q > 255 ? 255 : q);
  }
}

}  // namespace

ONEBIT_STEM_INT8_QUANTIZE(onebit_stem_int8_quantize_6x16__avx2) { quantize<uint16_t>(x, n, inv_scale, offset, u); }

ONEBIT_STEM_INT8_UKERNEL(onebit_stem_int8_ukernel_6x16__avx2) {
  onebit::kernels::stem_int8::rows<Avx2>(p, xq, packed, y, row_begin, row_end);
}

ONEBIT_STEM_INT8_QUANTIZE(onebit_stem_int8_quantize_6x16__avxvnni) { quantize<uint8_t>(x, n, inv_scale, offset, u); }

ONEBIT_STEM_INT8_UKERNEL(onebit_stem_int8_ukernel_6x16__avxvnni) {
  onebit::kernels::stem_int8::rows<AvxVnni>(p, xq, packed, y, row_begin, row_end);
}
