// The one list of bgemm micro-kernels (XNNPACK's *.inc idea, util/ukernel-list.h): X(tile__isa, Isa, MR,
// NR), one sublist per ISA. The declarations below, the config's table (bgemm-config.cc: what selection
// and the tests walk) and therefore the tests (tests/kernels/bgemm_test.cc runs every entry by name) all
// come from these lines, so a kernel cannot exist untested. A sublist is compiled in where its ISA is (ONEBIT_HAVE_<ISA>).
//   AVX2: 1x32 is the general tile (measurements in its file), 3x8 the one for narrow N (less padding).
//   NEON: 4x8 is the aarch64 tile (32 vector registers), 4x4 the armv7 one (16 q registers). Both build and
//         run on both (same sources): 4x8 spills on armv7 and 4x4 underuses aarch64, but both are correct
//         there, and both are tested on both.
#pragma once

#include "bgemm/bgemm.h"
#include "util/ukernel-list.h"

#define ONEBIT_BGEMM_UKERNELS_AVX512VPOPCNT(X) X(6x32__avx512vpopcnt, kAvx512Vpopcnt, 6, 32)
#define ONEBIT_BGEMM_UKERNELS_AVX2(X) X(1x32__avx2, kAvx2, 1, 32) X(3x8__avx2, kAvx2, 3, 8)
#define ONEBIT_BGEMM_UKERNELS_NEON(X) X(4x8__neon, kNeon, 4, 8) X(4x4__neon, kNeon, 4, 4)
#define ONEBIT_BGEMM_UKERNELS_SCALAR(X) X(4x4__scalar, kScalar, 4, 4)

// Row-weight ukernels (bgemm.h's second ABI: weights read where they lie, the Cortex-M path of BConv2D).
// Plain C++, compiled and tested everywhere; 4x1 is the tile measured best on the Cortex-M4 (figures:
// bgemm-4x1-rows-scalar.cc).
#define ONEBIT_BGEMM_ROWS_UKERNELS_AVX512VPOPCNT(X)
#define ONEBIT_BGEMM_ROWS_UKERNELS_AVX2(X)
#define ONEBIT_BGEMM_ROWS_UKERNELS_NEON(X)
#define ONEBIT_BGEMM_ROWS_UKERNELS_SCALAR(X) X(4x1_rows__scalar, kScalar, 4, 1)

// Bit-serial twins (bgemm.h's third ABI) of packed ukernels: same tile, same packing, same file. A twin
// shares its plain kernel's body (the plain kernel is the one-term case).
#define ONEBIT_BGEMM_SERIAL_UKERNELS_AVX512VPOPCNT(X) X(6x32__avx512vpopcnt, kAvx512Vpopcnt, 6, 32)
#define ONEBIT_BGEMM_SERIAL_UKERNELS_AVX2(X)
#define ONEBIT_BGEMM_SERIAL_UKERNELS_NEON(X) X(4x8__neon, kNeon, 4, 8)
#define ONEBIT_BGEMM_SERIAL_UKERNELS_SCALAR(X) X(4x4__scalar, kScalar, 4, 4)

#define ONEBIT_BGEMM_DECLARE(tile, isa, mr, nr) ONEBIT_BGEMM_UKERNEL(onebit_bgemm_ukernel_##tile);
ONEBIT_BGEMM_UKERNELS_AVX512VPOPCNT(ONEBIT_BGEMM_DECLARE)
ONEBIT_BGEMM_UKERNELS_AVX2(ONEBIT_BGEMM_DECLARE)
ONEBIT_BGEMM_UKERNELS_NEON(ONEBIT_BGEMM_DECLARE)
ONEBIT_BGEMM_UKERNELS_SCALAR(ONEBIT_BGEMM_DECLARE)
#undef ONEBIT_BGEMM_DECLARE
#define ONEBIT_BGEMM_ROWS_DECLARE(tile, isa, mr, nr) ONEBIT_BGEMM_ROWS_UKERNEL(onebit_bgemm_ukernel_##tile);
ONEBIT_BGEMM_ROWS_UKERNELS_SCALAR(ONEBIT_BGEMM_ROWS_DECLARE)
#undef ONEBIT_BGEMM_ROWS_DECLARE
#define ONEBIT_BGEMM_SERIAL_DECLARE(tile, isa, mr, nr) ONEBIT_BGEMM_SERIAL_UKERNEL(onebit_bgemm_serial_ukernel_##tile);
ONEBIT_BGEMM_SERIAL_UKERNELS_AVX512VPOPCNT(ONEBIT_BGEMM_SERIAL_DECLARE)
ONEBIT_BGEMM_SERIAL_UKERNELS_NEON(ONEBIT_BGEMM_SERIAL_DECLARE)
ONEBIT_BGEMM_SERIAL_UKERNELS_SCALAR(ONEBIT_BGEMM_SERIAL_DECLARE)
#undef ONEBIT_BGEMM_SERIAL_DECLARE
