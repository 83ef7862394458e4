// Scalar binary GEMM on weight rows where they lie (bgemm.h, row-weight ABI), 4 rows x 1 column: the
// Cortex-M path of BConv2D (no weight copy). Body and counting scheme: bgemm-rows-scalar.h.
//
// Tile measured on the Cortex-M4 under qemu (instructions, not cycles): mcu/bench/bgemm_bench.cc, MinSizeRel,
// 12 rows x 32 columns, instructions per word x output; K as segments x words, the shipped models' GEMMs
// (3 x 3: a 3x3 window of 32 channels read in place, 3 x 6: 64 channels, 3 x 12: 128 channels, 1 x 9: an
// im2col row of 32 channels) and a long one:
//   K (segs x words)             1 x 64   3 x 3   3 x 6   3 x 12   1 x 9
//   4x4__scalar (packed weights)  15.36   21.68   16.05   15.60   18.23
//   rows 1x2                      12.51   16.69   14.09   13.26   15.01
//   rows 1x3                      12.48   17.35   14.34   13.27   15.97
//   rows 1x4                      12.50   16.60   14.05   13.19   15.31
//   rows 2x1                      12.42   16.05   13.77   13.07   14.58
//   rows 2x2                      12.04   14.88   13.06   12.53   13.85
//   rows 2x3                      12.94   16.48   14.25   13.52   15.50
//   rows 3x2                      13.28   16.10   14.30   13.76   15.17
//   rows 4x1                      11.81   14.79   12.89   12.31   13.88
// The word loop of a tile holds MR + NR pointers, MR * NR byte lanes, the loop end and 3 temporaries (the
// W word of a column serves the MR rows): 13 of the 14 registers at MR * NR = 4, so wider tiles spill, and
// 4x1 (5 loads per 4 outputs, its loop end the one spill) comes out best. The rest of a short K's cost is
// per column (the call, 3 runs of a 3x3 window, the fold): about 2-4 instructions per word x output at
// K = 9. Tried and dropped: the column loop inside the counting function (its 3 more live values make GCC
// spill in the word loop: 4x1 at 3 x 3 went to 17.36), and the Armv7E-M USADA8 accumulating the byte
// counts into full sums (no folds, no 31-word runs, but one more register, a zero: 4x1 at 3 x 3: 16.63).
// Harley-Seal (carry-save adders over 8 words, one popcount per 8 words; a 1x1 bench prototype on one
// segment): 10.83 at 1 x 64 but 20.06 at 1 x 9 - its tail (3 more popcounts per output) and a 1x1 tile's
// per-output costs lose at the shipped models' K = 9..36 words; a ukernel of its own for long K only.
#include "bgemm/bgemm-rows-scalar.h"

ONEBIT_BGEMM_ROWS_UKERNEL(onebit_bgemm_ukernel_4x1_rows__scalar) {
  onebit::kernels::rows::bgemm<4, 1>(mr, nc, segs, seg_words, a, w, w_stride, c, c_stride);
}
