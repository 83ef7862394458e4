// armv7 NEON stem ukernel: 4 pixels x 2 vectors of 4 channels (8 accumulators, 2 weight vectors and a
// broadcast: room to spare in the 16 q registers, where aarch64's 5x16 tile would spill); per tap 2
// weight loads, 4 broadcasts, 8 FMAs.
#if defined(__arm__)
#include "stem/stem-impl.h"
#include "stem/stem-neon.h"
#include "stem/stem-ukernels.h"

ONEBIT_STEM_UKERNEL(onebit_stem_ukernel_4x8__neon) {
  using V = onebit::kernels::stem::Neon<4, 2>;
  onebit::kernels::stem::rows<V>(*g, x, packed, y, row_begin, row_end);
}
ONEBIT_STEM_MAX_POOL(onebit_stem_max_pool_4x8__neon) {
  onebit::kernels::stem::max_pool_row<onebit::kernels::stem::Neon<4, 2>>(*p, rows, n, columns, y);
}
#endif
