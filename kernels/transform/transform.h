// Output transforms: the integer dot of a binary conv becomes a float or a bit.
//   dot = taps - 2 * popcount - correction     (correction: zero-padding term, 0 when absent)
//   float:     y = min(max(fl(fl(multiplier * dot) + bias), clamp_min), clamp_max)
//   bitpacked: bit = (fl(fl(multiplier * dot) + bias) < 0), as the integer compare (s * dot < T); see
//              transform-threshold.cc for the derivation of s and T.
#pragma once

#include <cstddef>
#include <cstdint>

#include "onebit/kernels/isa.h"

namespace onebit::kernels {

struct FloatTransform {
  int32_t taps = 0;
  const float* multiplier = nullptr;  // [n]
  const float* bias = nullptr;        // [n]
  float clamp_min = 0, clamp_max = 0;
};

struct BitsTransform {
  int32_t taps = 0;
  const int32_t* threshold = nullptr;  // [n]  T
  const int32_t* sign_mask = nullptr;  // [n]  0 (s = +1) or -1 (s = -1, compare on -dot)
};

/// Derives threshold / sign_mask so that bit == (fl(fl(multiplier * dot) + bias) < 0) for every integer
/// dot in [-taps, taps]. taps must be <= 2^24 (so float(dot) is exact).
void bits_transform_thresholds(size_t n, int32_t taps, const float* multiplier, const float* bias,
                               int32_t* threshold, int32_t* sign_mask);

}  // namespace onebit::kernels

// Ukernels: n channels of one output pixel. popcount[n] from bgemm, correction[n] may be null.
// Float: writes n floats. Bits: writes packed_words(n) words (padding bits 0). No over-reads.
typedef void (*onebit_transform_f32_ukernel_fn)(size_t n, const int32_t* popcount, const int32_t* correction,
                                               const onebit::kernels::FloatTransform* params, float* out);
typedef void (*onebit_transform_bits_ukernel_fn)(size_t n, const int32_t* popcount, const int32_t* correction,
                                                const onebit::kernels::BitsTransform* params, uint32_t* out);

void onebit_transform_f32_ukernel__scalar(size_t, const int32_t*, const int32_t*,
                                          const onebit::kernels::FloatTransform*, float*);
void onebit_transform_bits_ukernel__scalar(size_t, const int32_t*, const int32_t*,
                                           const onebit::kernels::BitsTransform*, uint32_t*);
void onebit_transform_f32_ukernel_x8__avx2(size_t, const int32_t*, const int32_t*,
                                           const onebit::kernels::FloatTransform*, float*);
void onebit_transform_bits_ukernel_x8__avx2(size_t, const int32_t*, const int32_t*,
                                             const onebit::kernels::BitsTransform*, uint32_t*);
void onebit_transform_f32_ukernel_x16__avx512vpopcnt(size_t, const int32_t*, const int32_t*,
                                                     const onebit::kernels::FloatTransform*, float*);
void onebit_transform_bits_ukernel_x16__avx512vpopcnt(size_t, const int32_t*, const int32_t*,
                                                      const onebit::kernels::BitsTransform*, uint32_t*);

namespace onebit::kernels {
struct TransformConfig {
  Isa isa = Isa::kScalar;
  onebit_transform_f32_ukernel_fn f32 = nullptr;
  onebit_transform_bits_ukernel_fn bits = nullptr;
};
/// Best transform ukernels allowed by `isa` and supported by this CPU (scalar at worst).
TransformConfig transform_select(Isa isa);
}  // namespace onebit::kernels
