// The one list of the int8 stem ukernels (util/ukernel-list.h, like stem-ukernels.h): X(tile__isa, Isa,
// vnni, block, tap_bytes), one sublist per ISA, best first; tile = output pixels x output channels per tile,
// vnni = needs the ISA's VNNI besides the ISA (AVX-512 VNNI; AVX-VNNI for AVX2), block = channels per packed block, tap_bytes = bytes per input
// element and weight (stem_int8.h). Each ukernel comes with its ISA's input
// quantizer, onebit_stem_int8_quantize_<tile__isa>. The declarations, the table (stem-int8-config.cc) and
// the tests (tests/kernels/stem_test.cc, every entry by name) come from these lines.
// 4x64__avx512vnni is compiled with the avx512vpopcnt path's flags plus VNNI for its own functions only
// (its file: stem-int8-4x64-avx512vpopcnt.cc), and listed only where the CPU has VNNI (Ice Lake, Zen 4 on).
// 6x16__avx2 multiplies int16 pairs (vpmaddwd), not u8 x s8 ones (vpmaddubsw): see its file, which also
// holds 6x16__avxvnni (AVX-VNNI's VEX vpdpbusd, listed only where the CPU has it).
#pragma once

#include "onebit/kernels/stem_int8.h"
#include "util/ukernel-list.h"

#define ONEBIT_STEM_INT8_UKERNELS_AVX512VPOPCNT(X) X(4x64__avx512vnni, kAvx512Vpopcnt, true, 64, 1)
#define ONEBIT_STEM_INT8_UKERNELS_AVX2(X) X(6x16__avxvnni, kAvx2, true, 16, 1) X(6x16__avx2, kAvx2, false, 16, 2)
#define ONEBIT_STEM_INT8_UKERNELS_NEON(X)
#define ONEBIT_STEM_INT8_UKERNELS_SCALAR(X) X(1x16__scalar, kScalar, false, 16, 1)

#define ONEBIT_STEM_INT8_UKERNEL(name)                                                                    \
  void name(const onebit::kernels::StemInt8* p, const uint8_t* xq, const uint8_t* packed, void* y, int row_begin, \
            int row_end)
#define ONEBIT_STEM_INT8_QUANTIZE(name) void name(const float* x, size_t n, float inv_scale, int offset, uint8_t* u)

#define ONEBIT_STEM_INT8_DECLARE(tile, isa, vnni, block, tap_bytes) \
  ONEBIT_STEM_INT8_UKERNEL(onebit_stem_int8_ukernel_##tile); \
  ONEBIT_STEM_INT8_QUANTIZE(onebit_stem_int8_quantize_##tile);
ONEBIT_STEM_INT8_UKERNELS_AVX512VPOPCNT(ONEBIT_STEM_INT8_DECLARE)
ONEBIT_STEM_INT8_UKERNELS_AVX2(ONEBIT_STEM_INT8_DECLARE)
ONEBIT_STEM_INT8_UKERNELS_NEON(ONEBIT_STEM_INT8_DECLARE)
ONEBIT_STEM_INT8_UKERNELS_SCALAR(ONEBIT_STEM_INT8_DECLARE)
#undef ONEBIT_STEM_INT8_DECLARE

namespace onebit::kernels::stem_int8 {

/// Kernel-row groups of 4 bytes (of tap_bytes-wide elements).
inline int groups(const FloatConv2D& g, int tap_bytes = 1) { return (g.kernel_w * g.in_c * tap_bytes + 3) / 4; }
/// Bytes of one packed block of `block` channels.
inline size_t block_bytes(const FloatConv2D& g, int block, int tap_bytes = 1) {
  return size_t(block) * (8 + size_t(g.kernel_h) * size_t(groups(g, tap_bytes)) * 4);
}

/// The requantization every ukernel computes per output (header comment of stem_int8.h), acc including the
/// packed bias; scalar form. Clamped in float to [qmin - zp, qmax - zp] before rounding: the same integer as
/// clamping after it (the bounds are integers), and no conversion can overflow. Returns q - zero_point, as
/// a float (+0 for 0).
inline float requantize(int32_t acc, float mult, int zero_point, int qmin, int qmax) {
  float v = float(acc) * mult;
  const float lo = float(qmin - zero_point), hi = float(qmax - zero_point);
  v = v > lo ? v : lo;  // NaN cannot occur: acc is an integer, mult finite
  v = v < hi ? v : hi;
  return __builtin_nearbyintf(v) + 0.0f;  // + 0: -0 (rounded from (-0.5, 0)) becomes the integer 0's +0
}

}  // namespace onebit::kernels::stem_int8
