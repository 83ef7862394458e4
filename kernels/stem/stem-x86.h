// What the x86 vector types of the stem ukernels (stem-impl.h's V) share, for the intrinsics prefix P
// (_mm256 for AVX2, _mm512 for AVX-512): every operation, the same intrinsic under each prefix, except the
// masked store of the first n < kLanes lanes, which each type defines as store_first(p, x, n). Included by
// the per-ISA files only, after util/immintrin.h.
// vmaxps / vminps return their second operand when either is NaN: a NaN sum stays NaN, as float.h's clamp.
// max(acc, v) = vmaxps(v, acc) = v > acc ? v : acc, which is acc < v ? v : acc in every case.
#pragma once

#define ONEBIT_STEM_X86_OPS(P)                                                   \
  static T set1(float s) { return P##_set1_ps(s); }                             \
  static T zero() { return P##_setzero_ps(); }                                  \
  static T load(const float* p) { return P##_loadu_ps(p); }                     \
  static T broadcast(const float* p) { return P##_set1_ps(*p); }                \
  static T fma(T acc, T a, T b) { return P##_fmadd_ps(a, b, acc); }             \
  static T add(T a, T b) { return P##_add_ps(a, b); }                           \
  static T clamp(T x, T lo, T hi) { return P##_min_ps(hi, P##_max_ps(lo, x)); } \
  static T max(T acc, T v) { return P##_max_ps(v, acc); }                       \
  static void store(float* p, T x, int n) {                                     \
    if (n >= kLanes)                                                            \
      P##_storeu_ps(p, x);                                                      \
    else                                                                        \
      store_first(p, x, n);                                                     \
  }
