// Output transforms: the integer dot of a binary conv becomes a float or a bit.
//   dot = taps - 2 * popcount - correction     (correction: zero-padding term, 0 when absent)
//   float:     y = min(max(fl(fl(multiplier * dot) + bias), clamp_min), clamp_max)
//              with a residual r (a following Add folded in, issue 12):
//              y = min(max(fl(fl(fl(multiplier * dot) + bias) + r), clamp_min), clamp_max)
//   bitpacked: bit = (fl(fl(multiplier * dot) + bias) < 0), as the integer compare (s * dot < T); see
//              transform-threshold.cc for the derivation of s and T.
#pragma once

#include <cstddef>
#include <cstdint>

#include "onebit/kernels/isa.h"
#include "onebit/kernels/pack.h"

namespace onebit::kernels {

struct FloatTransform {
  int32_t taps = 0;
  const float* multiplier = nullptr;  // [n]
  const float* bias = nullptr;        // [n]
  float clamp_min = 0, clamp_max = 0;
  /// Null, or the block's residual: `pixels` rows of n floats (row stride n), added after the bias.
  const float* residual = nullptr;
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

// Ukernels: a block of `pixels` output pixels of n channels each. popcount: pixels rows of n int32 from
// bgemm (row stride n). correction: null, or one pointer per pixel (a null entry means no correction for
// that pixel), each to n int32. Float: writes pixels rows of n floats (stride n). Bits: writes pixels rows of
// packed_words(n) words (padding bits 0). No over-reads.
typedef void (*onebit_transform_f32_ukernel_fn)(size_t pixels, size_t n, const int32_t* popcount,
                                               const int32_t* const* correction,
                                               const onebit::kernels::FloatTransform* params, float* out);
typedef void (*onebit_transform_bits_ukernel_fn)(size_t pixels, size_t n, const int32_t* popcount,
                                                const int32_t* const* correction,
                                                const onebit::kernels::BitsTransform* params, uint32_t* out);

// Float and bits in one pass (FloatAndBitPacked output, issue 12's fusion): exactly the f32 ukernel's
// output, then the bits a pack ukernel (pack.h) would make of those floats with `quantize` (null: plain
// sign), pixels rows of packed_words(n) words. The floats are compared while still in registers.
typedef void (*onebit_transform_f32_bits_ukernel_fn)(size_t pixels, size_t n, const int32_t* popcount,
                                                    const int32_t* const* correction,
                                                    const onebit::kernels::FloatTransform* params, float* out,
                                                    const onebit::kernels::QuantizeThresholds* quantize,
                                                    uint32_t* bits);

#define ONEBIT_TRANSFORM_F32_UKERNEL(name)                                                             \
  void name(size_t pixels, size_t n, const int32_t* popcount, const int32_t* const* correction,        \
            const onebit::kernels::FloatTransform* params, float* out)
#define ONEBIT_TRANSFORM_BITS_UKERNEL(name)                                                            \
  void name(size_t pixels, size_t n, const int32_t* popcount, const int32_t* const* correction,        \
            const onebit::kernels::BitsTransform* params, uint32_t* out)

// The one list of transform ukernel pairs (util/ukernel-list.h): X(tile__isa, Isa), one sublist per ISA,
// best first; each entry is onebit_transform_f32_ukernel_<tile__isa> and onebit_transform_bits_ukernel_
// <tile__isa>, the tile being the channels one step transforms. The declarations below, the config's table
// (transform-config.cc) and the tests (tests/kernels/transform_test.cc runs every entry by name) all come
// from these lines.
#define ONEBIT_TRANSFORM_UKERNELS_AVX512VPOPCNT(X) X(x16__avx512vpopcnt, kAvx512Vpopcnt)
#define ONEBIT_TRANSFORM_UKERNELS_AVX2(X) X(x8__avx2, kAvx2)
#define ONEBIT_TRANSFORM_UKERNELS_NEON(X) X(x4__neon, kNeon)
#define ONEBIT_TRANSFORM_UKERNELS_SCALAR(X) X(x1__scalar, kScalar)

#define ONEBIT_TRANSFORM_F32_BITS_UKERNEL(name)                                                        \
  void name(size_t pixels, size_t n, const int32_t* popcount, const int32_t* const* correction,        \
            const onebit::kernels::FloatTransform* params, float* out,                                 \
            const onebit::kernels::QuantizeThresholds* quantize, uint32_t* bits)

// The float-and-bits ukernels, a list of their own (an ISA without one runs its f32 ukernel, then its pack
// ukernel; tests/kernels/transform_test.cc runs every entry by name). The scalar one is the composition.
#define ONEBIT_TRANSFORM_F32_BITS_UKERNELS_AVX512VPOPCNT(X) X(x32__avx512vpopcnt, kAvx512Vpopcnt)
#define ONEBIT_TRANSFORM_F32_BITS_UKERNELS_AVX2(X)
#define ONEBIT_TRANSFORM_F32_BITS_UKERNELS_NEON(X)
#define ONEBIT_TRANSFORM_F32_BITS_UKERNELS_SCALAR(X) X(x32__scalar, kScalar)

#define ONEBIT_TRANSFORM_DECLARE(tile, isa)                          \
  ONEBIT_TRANSFORM_F32_UKERNEL(onebit_transform_f32_ukernel_##tile); \
  ONEBIT_TRANSFORM_BITS_UKERNEL(onebit_transform_bits_ukernel_##tile);
ONEBIT_TRANSFORM_UKERNELS_AVX512VPOPCNT(ONEBIT_TRANSFORM_DECLARE)
ONEBIT_TRANSFORM_UKERNELS_AVX2(ONEBIT_TRANSFORM_DECLARE)
ONEBIT_TRANSFORM_UKERNELS_NEON(ONEBIT_TRANSFORM_DECLARE)
ONEBIT_TRANSFORM_UKERNELS_SCALAR(ONEBIT_TRANSFORM_DECLARE)
#undef ONEBIT_TRANSFORM_DECLARE
#define ONEBIT_TRANSFORM_F32_BITS_DECLARE(tile, isa) ONEBIT_TRANSFORM_F32_BITS_UKERNEL(onebit_transform_f32_bits_ukernel_##tile);
ONEBIT_TRANSFORM_F32_BITS_UKERNELS_AVX512VPOPCNT(ONEBIT_TRANSFORM_F32_BITS_DECLARE)
ONEBIT_TRANSFORM_F32_BITS_UKERNELS_AVX2(ONEBIT_TRANSFORM_F32_BITS_DECLARE)
ONEBIT_TRANSFORM_F32_BITS_UKERNELS_NEON(ONEBIT_TRANSFORM_F32_BITS_DECLARE)
ONEBIT_TRANSFORM_F32_BITS_UKERNELS_SCALAR(ONEBIT_TRANSFORM_F32_BITS_DECLARE)
#undef ONEBIT_TRANSFORM_F32_BITS_DECLARE

namespace onebit::kernels {
/// One entry of the list: both ukernels of a tile and ISA.
struct TransformConfig {
  Isa isa = Isa::kScalar;
  onebit_transform_f32_ukernel_fn f32 = nullptr;
  onebit_transform_bits_ukernel_fn bits = nullptr;
  const char* name = "";  // tile and ISA, e.g. "x8__avx2"
};
/// Best transform ukernels allowed by `isa` and supported by this CPU (scalar at worst).
const TransformConfig& transform_select(Isa isa);
/// Every transform ukernel pair compiled into this binary, best ISA first; the CPU may lack some (check
/// isa_supported). Sets *count.
const TransformConfig* transform_ukernels(size_t* count);

/// One float-and-bits ukernel.
struct TransformF32BitsConfig {
  Isa isa = Isa::kScalar;
  onebit_transform_f32_bits_ukernel_fn fn = nullptr;
  const char* name = "";  // e.g. "x32__avx512vpopcnt"
};
/// The float-and-bits ukernel of exactly `isa` (the ISA of the transform pair chosen), or null when that
/// ISA has none (or the CPU cannot run it).
onebit_transform_f32_bits_ukernel_fn transform_f32_bits_for(Isa isa);
/// Every float-and-bits ukernel compiled into this binary, best ISA first. Sets *count.
const TransformF32BitsConfig* transform_f32_bits_ukernels(size_t* count);
}  // namespace onebit::kernels
