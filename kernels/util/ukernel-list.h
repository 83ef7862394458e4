// What every kernel family's ukernel list shares (XNNPACK's *.inc idea, bgemm-ukernels.h first):
// a family declares its ukernels once, as one X-macro sublist per ISA, <FAMILY>_UKERNELS_<ISA>(X), best ISA
// first; ONEBIT_COMPILED_UKERNELS expands the sublists compiled into this binary (ONEBIT_HAVE_<ISA>), in
// that order, scalar last, into the family's table (<family>-config.cc). Selection and the tests walk that
// table, so a ukernel cannot exist untested.
//
// Selection happens once, when an operator is prepared (the operator keeps the chosen entry): the first
// entry whose ISA the request allows (isa_allows) and that this build and CPU run (isa_supported).
#pragma once

#include <cstddef>

#include "onebit/kernels/isa.h"

#if defined(ONEBIT_HAVE_AVX512VPOPCNT)
#define ONEBIT_COMPILED_AVX512VPOPCNT(list, X) list##_AVX512VPOPCNT(X)
#else
#define ONEBIT_COMPILED_AVX512VPOPCNT(list, X)
#endif
#if defined(ONEBIT_HAVE_AVX2)
#define ONEBIT_COMPILED_AVX2(list, X) list##_AVX2(X)
#else
#define ONEBIT_COMPILED_AVX2(list, X)
#endif
#if defined(ONEBIT_HAVE_NEON)
#define ONEBIT_COMPILED_NEON(list, X) list##_NEON(X)
#else
#define ONEBIT_COMPILED_NEON(list, X)
#endif
#define ONEBIT_COMPILED_UKERNELS(list, X)                                                              \
  ONEBIT_COMPILED_AVX512VPOPCNT(list, X) ONEBIT_COMPILED_AVX2(list, X) ONEBIT_COMPILED_NEON(list, X) \
  list##_SCALAR(X)

namespace onebit::kernels {

/// The first entry of a family's table (best ISA first, scalar last) that `requested` allows and this CPU
/// runs; the scalar entry at worst.
template <typename Config, size_t N>
const Config& select_ukernel(const Config (&table)[N], Isa requested) {
  for (const Config& c : table) {
    if (isa_allows(requested, c.isa) && isa_supported(c.isa)) return c;
  }
  return table[N - 1];
}

/// Sets *count and returns the table (what <family>_ukernels() hands the tests).
template <typename Config, size_t N>
const Config* ukernel_table(const Config (&table)[N], size_t* count) {
  *count = N;
  return table;
}

}  // namespace onebit::kernels
