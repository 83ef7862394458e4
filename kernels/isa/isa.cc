// Run-time detection (the names are core/include/onebit/core/isa.h). A path is usable only if compiled in (ONEBIT_HAVE_<ISA>, defined by
// cmake/Isa.cmake on this target) AND reported by cpuinfo. cpuinfo_has_* exist on every architecture and
// return false where they cannot apply, so the CPU checks need no #ifdef. Bare metal (ONEBIT_MCU) compiles
// the scalar path alone and has no cpuinfo: there a path is supported iff it is compiled.
#include "onebit/kernels/isa.h"

#if !ONEBIT_MCU
#include <mutex>

#include <cpuinfo.h>
#endif

namespace onebit::kernels {
#if !ONEBIT_MCU
namespace {

bool cpuinfo_ready() {
  static std::once_flag once;
  static bool ok = false;
  std::call_once(once, [] { ok = cpuinfo_initialize(); });
  return ok;
}

}  // namespace
#endif

bool isa_compiled(Isa isa) {
  switch (isa) {
    case Isa::kScalar: return true;
#if defined(ONEBIT_HAVE_AVX2)
    case Isa::kAvx2: return true;
#endif
#if defined(ONEBIT_HAVE_AVX512VPOPCNT)
    case Isa::kAvx512Vpopcnt: return true;
#endif
#if defined(ONEBIT_HAVE_NEON)
    case Isa::kNeon: return true;
#endif
    default: return false;
  }
}

bool isa_supported(Isa isa) {
  if (!isa_compiled(isa)) return false;
  if (isa == Isa::kScalar) return true;
#if ONEBIT_MCU
  return false;
#else
  if (!cpuinfo_ready()) return false;
  switch (isa) {
    case Isa::kAvx2: return cpuinfo_has_x86_avx2() && cpuinfo_has_x86_fma3() && cpuinfo_has_x86_popcnt() &&
                            cpuinfo_has_x86_bmi2();
    case Isa::kAvx512Vpopcnt:
      return cpuinfo_has_x86_avx512f() && cpuinfo_has_x86_avx512bw() && cpuinfo_has_x86_avx512vl() &&
             cpuinfo_has_x86_avx512dq() && cpuinfo_has_x86_avx512vpopcntdq() && cpuinfo_has_x86_bmi2();
    case Isa::kNeon: return cpuinfo_has_arm_neon();
    default: return false;
  }
#endif
}

Isa best_isa() {
  for (Isa isa : {Isa::kAvx512Vpopcnt, Isa::kAvx2, Isa::kNeon}) {
    if (isa_supported(isa)) return isa;
  }
  return Isa::kScalar;
}

bool isa_allows(Isa requested, Isa path) {
  if (path == Isa::kScalar || path == requested) return true;
  return requested == Isa::kAvx512Vpopcnt && path == Isa::kAvx2;
}

}  // namespace onebit::kernels
