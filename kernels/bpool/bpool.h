// Binary max pool family. The max of ±1 values is -1 only if all are -1: the AND of the "is -1" bits.
// The ukernel ABI (onebit_bpool_ukernel_fn) is in onebit/kernels/bpool.h. A window with no real tap (all
// padding) yields all-ones masked to real channels by the caller, as float max pool over -inf padding
// gives -inf.
//
// The one list of bpool ukernels (util/ukernel-list.h): X(tile__isa, Isa), one sublist per ISA, best first;
// the tile is the channels one step ANDs (a 32-bit word for scalar). The declarations below, the config's
// table (bpool-config.cc) and the tests (tests/kernels/bpool_test.cc runs every entry by name) all come
// from these lines.
#pragma once

#include <cstddef>
#include <cstdint>

#include "onebit/kernels/bpool.h"
#include "util/ukernel-list.h"

#define ONEBIT_BPOOL_UKERNELS_AVX512VPOPCNT(X) X(x512__avx512vpopcnt, kAvx512Vpopcnt)
#define ONEBIT_BPOOL_UKERNELS_AVX2(X) X(x256__avx2, kAvx2)
#define ONEBIT_BPOOL_UKERNELS_NEON(X) X(x128__neon, kNeon)
#define ONEBIT_BPOOL_UKERNELS_SCALAR(X) X(x32__scalar, kScalar)

#define ONEBIT_BPOOL_UKERNEL(name) void name(size_t taps, size_t words, const uint32_t* const* input, uint32_t* out)
#define ONEBIT_BPOOL_DECLARE(tile, isa) ONEBIT_BPOOL_UKERNEL(onebit_bpool_ukernel_##tile);
ONEBIT_BPOOL_UKERNELS_AVX512VPOPCNT(ONEBIT_BPOOL_DECLARE)
ONEBIT_BPOOL_UKERNELS_AVX2(ONEBIT_BPOOL_DECLARE)
ONEBIT_BPOOL_UKERNELS_NEON(ONEBIT_BPOOL_DECLARE)
ONEBIT_BPOOL_UKERNELS_SCALAR(ONEBIT_BPOOL_DECLARE)
#undef ONEBIT_BPOOL_DECLARE
