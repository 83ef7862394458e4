// The one list of the stem ukernels (util/ukernel-list.h): X(tile__isa, Isa, block), one sublist per ISA,
// best first; tile = output pixels x output channels per tile, block = channels per packed block (the
// tile's). Each entry is two functions: the convolution (onebit_stem_ukernel_<tile>) and a max pool's
// output row in the same ISA (onebit_stem_max_pool_<tile>, for the convolution fused with the pool). The declarations, the table (stem-config.cc) and the tests (tests/kernels/stem_test.cc, every
// entry by name) all come from these lines. The function type is in onebit/kernels/stem.h. NEON: a 5x16 tile
// on aarch64 (32 q registers), 4x8 on armv7 (16).
#pragma once

#include "onebit/kernels/isa.h"
#include "onebit/kernels/stem.h"
#include "util/ukernel-list.h"

#define ONEBIT_STEM_UKERNELS_AVX512VPOPCNT(X) X(6x64__avx512vpopcnt, kAvx512Vpopcnt, 64)
#define ONEBIT_STEM_UKERNELS_AVX2(X) X(6x16__avx2, kAvx2, 16)
#if defined(__aarch64__)
#define ONEBIT_STEM_UKERNELS_NEON(X) X(5x16__neon, kNeon, 16)
#elif defined(__arm__)
#define ONEBIT_STEM_UKERNELS_NEON(X) X(4x8__neon, kNeon, 8)
#else
#define ONEBIT_STEM_UKERNELS_NEON(X)
#endif
#define ONEBIT_STEM_UKERNELS_SCALAR(X) X(4x8__scalar, kScalar, 8)

#define ONEBIT_STEM_UKERNEL(name)                                                                                \
  void name(const onebit::kernels::FloatConv2D* g, const float* x, const float* packed, float* y, int row_begin, \
            int row_end)

#define ONEBIT_STEM_MAX_POOL(name)                                                                       \
  void name(const onebit::kernels::FloatPool2D* p, const float* const* rows, int n, float* columns, float* y)

#define ONEBIT_STEM_DECLARE(tile, isa, block) \
  ONEBIT_STEM_UKERNEL(onebit_stem_ukernel_##tile); \
  ONEBIT_STEM_MAX_POOL(onebit_stem_max_pool_##tile);
ONEBIT_STEM_UKERNELS_AVX512VPOPCNT(ONEBIT_STEM_DECLARE)
ONEBIT_STEM_UKERNELS_AVX2(ONEBIT_STEM_DECLARE)
ONEBIT_STEM_UKERNELS_NEON(ONEBIT_STEM_DECLARE)
ONEBIT_STEM_UKERNELS_SCALAR(ONEBIT_STEM_DECLARE)
#undef ONEBIT_STEM_DECLARE
