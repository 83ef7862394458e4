// The kernel paths (instruction sets) onebit knows, in one table: the enum, the names users type after
// --isa / ONEBIT_ISA / InterpreterOptions::isa, and the list every message and help text prints. The kernel
// file suffixes (kernels/*/<family>-<tile>-<name>.cc) and the Python module's tuple come from the same names
// (cmake/Isa.cmake, onebit_isa_name() in the C API). Dispatch (what this binary and CPU can run) lives in
// kernels/include/onebit/kernels/isa.h.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "onebit/text.h"

namespace onebit::core {

// X(enumerator, name, what it is). Order = the enum's values; append only (values are reported by tools).
#define ONEBIT_ISA_TABLE(X)                                                        \
  X(kScalar, "scalar", "portable C++, the reference every other path is compared with") \
  X(kAvx2, "avx2", "x86-64 AVX2 (+ POPCNT)")                                      \
  X(kAvx512Vpopcnt, "avx512vpopcnt", "x86-64 AVX-512 F + BW + VPOPCNTDQ")         \
  X(kNeon, "neon", "aarch64 / armv7 NEON")

enum class Isa : int {
#define ONEBIT_ISA_ENUM(e, name, what) e,
  ONEBIT_ISA_TABLE(ONEBIT_ISA_ENUM)
#undef ONEBIT_ISA_ENUM
};

inline constexpr Isa kAllIsas[] = {
#define ONEBIT_ISA_VALUE(e, name, what) Isa::e,
    ONEBIT_ISA_TABLE(ONEBIT_ISA_VALUE)
#undef ONEBIT_ISA_VALUE
};
inline constexpr size_t kIsaCount = sizeof(kAllIsas) / sizeof(kAllIsas[0]);

/// The name of a path ("scalar", "avx2", ...); "unknown" outside the table.
constexpr const char* isa_name(Isa isa) {
  switch (isa) {
#define ONEBIT_ISA_NAME(e, name, what) \
  case Isa::e: return name;
    ONEBIT_ISA_TABLE(ONEBIT_ISA_NAME)
#undef ONEBIT_ISA_NAME
  }
  return "unknown";
}

/// Parses an isa_name(); false (and *isa untouched) for anything else.
constexpr bool parse_isa(std::string_view name, Isa* isa) {
  for (Isa candidate : kAllIsas) {
    if (name == isa_name(candidate)) {
      if (isa != nullptr) *isa = candidate;
      return true;
    }
  }
  return false;
}

/// Every name, for messages: "scalar, avx2, avx512vpopcnt or neon" (`last` joins the final pair).
inline Text isa_name_list(const char* last = " or ") {
  Text s;
  for (size_t i = 0; i < kIsaCount; ++i) {
    if (i > 0) s += i + 1 == kIsaCount ? last : ", ";
    s += isa_name(kAllIsas[i]);
  }
  return s;
}

}  // namespace onebit::core
