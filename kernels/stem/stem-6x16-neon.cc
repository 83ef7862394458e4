// aarch64 NEON stem ukernel: 6 pixels x 4 vectors of 4 channels (24 accumulators, 4 weight vectors and a
// broadcast in the 32 q registers); per tap 4 weight loads, 6 broadcasts (ld1r), 24 FMAs. armv7 has
// stem-4x8-neon.cc.
#if defined(__aarch64__)
#include "stem/stem-impl.h"
#include "stem/stem-neon.h"
#include "stem/stem-ukernels.h"

ONEBIT_STEM_UKERNEL(onebit_stem_ukernel_6x16__neon) {
  using V = onebit::kernels::stem::Neon<6, 4>;
  onebit::kernels::stem::rows<V>(*g, x, packed, y, row_begin, row_end);
}
#endif
