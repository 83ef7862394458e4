// Scalar binary GEMM on weight rows where they lie (bgemm.h, row-weight ABI), 4 rows x 1 column: the
// Cortex-M path of BConv2D (no weight copy). Body and counting scheme: bgemm-rows-scalar.h.
//
// Tile measured on the Cortex-M4 under qemu (instructions, not cycles; mcu/bench/bgemm_bench.cc, MinSizeRel,
// 12 x 12 outputs), instructions per word x output, K = 64 words in one segment / K = 18 as 3 x 6 (a 3x3
// window of 64 channels read in place):
//   4x4__scalar (packed weights)  15.39 / 16.14
//   rows 1x2  12.67 / 14.67    rows 1x3  12.20 / 14.25    rows 1x4  12.66 / 14.63
//   rows 2x1  12.51 / 14.09    rows 2x2  12.13 / 13.38    rows 2x3  12.61 / 14.03
//   rows 3x2  13.37 / 14.61    rows 4x1  11.89 / 13.16
// The word loop of a tile takes MR + NR pointers, MR * NR byte lanes, the loop end and 3 temporaries (an
// A word is loaded once per tile row, so 4x1 needs one W temporary): 13 of the 14 registers at MR * NR = 4,
// which is why wider tiles lose (spills) and 4x1 (one word of W per 4 outputs) wins.
#include "bgemm/bgemm-rows-scalar.h"

ONEBIT_BGEMM_ROWS_UKERNEL(onebit_bgemm_ukernel_4x1_rows__scalar) {
  onebit::kernels::rows::bgemm<4, 1>(mr, nc, segs, seg_words, a, w, w_stride, c, c_stride);
}
