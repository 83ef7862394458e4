// aarch64 NEON stem ukernel: 5 pixels x 4 vectors of 4 channels (20 accumulators, 4 weight vectors and
// the 5 inputs, which GCC loads as scalars for by-element FMLAs: 29 of the 32 q registers); per tap 4 weight
// loads, 5 input loads, 20 FMAs. 6 pixels (24 accumulators) spilled two of them to the stack every tap.
// llvm-mca (LLVM 14, 1000 iterations of the inner loop as GCC 12 -O2 / -O3 emits it): 20.0 cycles per tap on
// cortex-a76 and cortex-a72, at the port bound (20.0); cortex-a55 (in order) 31 against 17, short of it.
// armv7 has stem-4x8-neon.cc.
#if defined(__aarch64__)
#include "stem/stem-impl.h"
#include "stem/stem-neon.h"
#include "stem/stem-ukernels.h"

ONEBIT_STEM_UKERNEL(onebit_stem_ukernel_5x16__neon) {
  using V = onebit::kernels::stem::Neon<5, 4>;
  onebit::kernels::stem::rows<V>(*g, x, packed, y, row_begin, row_end);
}
ONEBIT_STEM_MAX_POOL(onebit_stem_max_pool_5x16__neon) {
  onebit::kernels::stem::max_pool_row<onebit::kernels::stem::Neon<5, 4>>(*p, rows, n, columns, y);
}
#endif
