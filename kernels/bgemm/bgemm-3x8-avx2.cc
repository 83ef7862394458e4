// AVX2 binary GEMM, 3 rows x 8 output channels: the AVX2 tile for narrow N (bgemm-config.cc picks it when
// 1x32's padding to 32 columns would waste more than a quarter of the work). Body and popcount scheme
// (nibble lookup + Harley-Seal full adder over 3 K steps): bgemm-avx2.h; measurements: bgemm-1x32-avx2.cc.
#include "bgemm/bgemm-avx2.h"

ONEBIT_BGEMM_UKERNEL(onebit_bgemm_ukernel_3x8__avx2) {
  onebit::kernels::avx2::bgemm<3, 2>(mr, nc, segs, seg_words, a, w, c, c_stride);
}
