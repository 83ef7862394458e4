// The one list of each packing family's ukernels (util/ukernel-list.h): X(tile__isa, Isa), one sublist per
// ISA, best first. The declarations below, the configs' tables (pack-config.cc, quantize-levels-config.cc)
// and the tests (tests/kernels/pack_test.cc, quantize_levels_test.cc run every entry by name) all come
// from these lines. The function types are in onebit/kernels/pack.h.
//   pack:            Quantize, float -> bits by sign or per-channel thresholds.
//   quantize-levels: QuantizeLevels, float -> k-bit level planes. Its NEON ukernel is aarch64 only: armv7
//                    NEON flushes subnormals to zero (t = -1e-40 would lose its sign) and has no
//                    round-to-nearest-even instruction, so armv7 keeps the scalar (VFP, IEEE) path.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "onebit/kernels/isa.h"
#include "onebit/kernels/pack.h"
#include "util/ukernel-list.h"

#define ONEBIT_PACK_UKERNELS_AVX512VPOPCNT(X) X(x32__avx512vpopcnt, kAvx512Vpopcnt)
#define ONEBIT_PACK_UKERNELS_AVX2(X) X(x32__avx2, kAvx2)
#define ONEBIT_PACK_UKERNELS_NEON(X) X(x32__neon, kNeon)
#define ONEBIT_PACK_UKERNELS_SCALAR(X) X(x32__scalar, kScalar)

#define ONEBIT_QUANTIZE_LEVELS_UKERNELS_AVX512VPOPCNT(X) X(x32__avx512vpopcnt, kAvx512Vpopcnt)
#define ONEBIT_QUANTIZE_LEVELS_UKERNELS_AVX2(X) X(x32__avx2, kAvx2)
#if defined(__aarch64__)
#define ONEBIT_QUANTIZE_LEVELS_UKERNELS_NEON(X) X(x32__neon, kNeon)
#else
#define ONEBIT_QUANTIZE_LEVELS_UKERNELS_NEON(X)
#endif
#define ONEBIT_QUANTIZE_LEVELS_UKERNELS_SCALAR(X) X(x32__scalar, kScalar)

#define ONEBIT_PACK_UKERNEL(name)                                                    \
  void name(size_t pixels, size_t channels, const float* x, uint32_t* out, \
            const onebit::kernels::QuantizeThresholds* thresholds)
#define ONEBIT_QUANTIZE_LEVELS_UKERNEL(name)                                                    \
  void name(size_t pixels, size_t channels, const float* x, uint32_t* out, size_t plane_words, \
            const onebit::kernels::LevelQuantizer* quantizer)

#define ONEBIT_PACK_DECLARE(tile, isa) ONEBIT_PACK_UKERNEL(onebit_pack_ukernel_##tile);
ONEBIT_PACK_UKERNELS_AVX512VPOPCNT(ONEBIT_PACK_DECLARE)
ONEBIT_PACK_UKERNELS_AVX2(ONEBIT_PACK_DECLARE)
ONEBIT_PACK_UKERNELS_NEON(ONEBIT_PACK_DECLARE)
ONEBIT_PACK_UKERNELS_SCALAR(ONEBIT_PACK_DECLARE)
#undef ONEBIT_PACK_DECLARE
#define ONEBIT_QUANTIZE_LEVELS_DECLARE(tile, isa) ONEBIT_QUANTIZE_LEVELS_UKERNEL(onebit_quantize_levels_ukernel_##tile);
ONEBIT_QUANTIZE_LEVELS_UKERNELS_AVX512VPOPCNT(ONEBIT_QUANTIZE_LEVELS_DECLARE)
ONEBIT_QUANTIZE_LEVELS_UKERNELS_AVX2(ONEBIT_QUANTIZE_LEVELS_DECLARE)
ONEBIT_QUANTIZE_LEVELS_UKERNELS_NEON(ONEBIT_QUANTIZE_LEVELS_DECLARE)
ONEBIT_QUANTIZE_LEVELS_UKERNELS_SCALAR(ONEBIT_QUANTIZE_LEVELS_DECLARE)
#undef ONEBIT_QUANTIZE_LEVELS_DECLARE

namespace onebit::kernels {
/// The level index of one transformed value t (scalar reference semantics, shared by every ukernel's
/// tail handling): Unipolar / Bipolar clamp(round_half_even(t), 0, 2^bits - 1) with NaN -> 0; Ternary
/// bit0 = (t < 0), bit1 = !(t > 0); Binary bit0 = (t < 0).
/// Rounding: std::nearbyint in the default floating-point environment (round to nearest, ties to even).
inline uint32_t quantize_level_index(LevelKind kind, int bits, float t) {
  if (kind == LevelKind::kTernary) return uint32_t{t < 0.0f} | (uint32_t{!(t > 0.0f)} << 1);
  if (kind == LevelKind::kBinary) return uint32_t{t < 0.0f};
  if (!(t == t)) return 0;  // NaN
  const float r = std::nearbyint(t);
  const float top = static_cast<float>((1u << bits) - 1);
  return r <= 0.0f ? 0u : r >= top ? static_cast<uint32_t>(top) : static_cast<uint32_t>(r);
}
}  // namespace onebit::kernels
