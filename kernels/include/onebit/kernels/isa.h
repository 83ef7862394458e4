// Instruction-set paths and run-time dispatch. A path is usable only if it was compiled into this binary
// AND cpuinfo reports that the CPU has it (the ruy rule). The scalar path is always both.
#pragma once

#include "onebit/core/isa.h"

namespace onebit::kernels {

// The enum, names and parsing are core's table (core/include/onebit/core/isa.h); this header adds dispatch.
using core::Isa;
using core::isa_name;
using core::kAllIsas;
using core::parse_isa;

/// Whether kernels for `isa` were compiled into this binary.
bool isa_compiled(Isa isa);
/// Compiled in and supported by this CPU.
bool isa_supported(Isa isa);
/// The fastest supported path.
Isa best_isa();
/// Whether a kernel written for `path` may run when the caller asked for `requested`: the scalar path
/// always, `requested` itself, and the lower paths of the same architecture (AVX2 under AVX-512). Kernel
/// selection also checks isa_supported(path), so an unsupported request falls back instead of crashing.
bool isa_allows(Isa requested, Isa path);

/// One ukernel of a family's list, as selection returns it (selected once, when an operator is prepared,
/// and kept by the operator): the ISA it needs, the function, and its name, tile and ISA (e.g. "x32__avx2"
/// for onebit_pack_ukernel_x32__avx2).
template <typename Fn>
struct Ukernel {
  Isa isa = Isa::kScalar;
  Fn fn = nullptr;
  const char* name = "";
};

}  // namespace onebit::kernels
