// AVX2 binary GEMM, 1 row x 32 output channels (8 ymm of 4 x 64-bit lanes): the AVX2 tile for every
// ResNet-18 3x3 layer. Body and popcount scheme: bgemm-avx2.h. What was measured and why this one:
//
// Candidates, all on the real conv GEMMs (A = 3x3 windows read in place, bench/kernels/bgemm_bench.cc):
//   old 3x8  nibble lookup, one K step at a time, vpsadbw every 31 steps (the previous kernel);
//   RxC-hs   the same tile shapes through bgemm-avx2.h with the Harley-Seal full adder over 3 K steps;
//   RxC-t    bgemm-avx2.h without the full adder (isolates the shape from the counting scheme).
// Rejected without building: 16-bit counter lanes (c) and rarer vpsadbw (d): the widening costs one
// vpsadbw + add per accumulator per 30 steps, < 1% of the loop; Harley-Seal with a carried ones/twos state
// per accumulator: 2-3 state registers per accumulator leave no room for a tile that reuses A or W.
// AMD EPYC (Zen 4 class) 2 vCPUs shared with other builds (load average ~11), one thread, GCC 12 -O3:
//   build/h-bgemm/bench/kernels/bench_kernels --benchmark_filter='^bgemm/.*avx2'
//       --benchmark_repetitions=9 --benchmark_min_time=0.05 --benchmark_format=json
//   us per GEMM, best / median of 9     old 3x8   3x8-hs    2x8-hs    1x16-hs   1x32-t    1x32-hs
//   56x56x64  -> 64   s1 (K = 18 w)     587/677   504/631   529/657   632/830   518/649   484/604
//   28x28x128 -> 128  s1 (K = 36 w)     434/648   540/595   420/494   480/527   479/514   401/482
//   14x14x256 -> 256  s1 (K = 72 w)     425/499   473/525   471/510   459/480   457/480   433/472
//   7x7x512   -> 512  s1 (K = 144 w)    488/519   373/426   416/452   393/418   543/570   399/547
//   56x56x64  -> 128  s2                313/399   349/442   361/425   241/366   237/354   302/328
//   28x28x128 -> 256  s2                304/338   255/337   269/290   203/226   226/265   259/269
//   14x14x256 -> 512  s2                216/245   208/217   212/307   183/203   204/208   187/202
// The host's noise (+-20% between identical runs, load average 8-11 on 2 vCPUs) is as large as most gaps,
// so the inner loops were also modelled (llvm-mca-14 -iterations=300 on the objdump of each hot loop),
// cycles per 256-bit vector x K step (= 256 binary MACs), znver3 / skylake:
//   old 3x8, one step at a time                 1.75 / 2.00
//   3x8-hs full-adder group (18 vector-steps)   1.35 / 1.78   (GCC spills 1 byte counter: 2 stack ops)
//   1x32-hs full-adder group (24 vector-steps)  1.33 / 1.78   (GCC spills 3 byte counters: 6 stack ops)
// so the full adder is worth ~10-25% in the loop; the shape barely changes the loop, but 1x32 is the
// candidate never far from the best on any shape above and ahead on the short-K 56x56 GEMMs (9 steps per
// row, where the per-tile epilogue of 3x8 weighs most): one A broadcast feeds 8 accumulators, the weights
// are memory operands of vpxor, and 32 contiguous int32 are stored per row. No per-K rule on AVX2: no tile
// measured better for short K. 3x8 stays for narrow N (bgemm-config.cc).
// End-to-end, one run (--benchmark_filter='^(bconv3x3/.*/avx2(/bitpacked)?|xnnpack_f32_conv3x3/.*)$'
// --benchmark_repetitions=3 --benchmark_report_aggregates_only=true), median CPU ms, float output:
//   layer              old 3x8   XNNPACK  ratio   |  1x32-hs  XNNPACK  ratio   (two runs, same host)
//   56x56x64  s1       0.620     7.32     11.8x   |  0.632    7.42     11.7x
//   28x28x128 s1       0.475     7.40     15.6x   |  0.481    7.49     15.6x
//   14x14x256 s1       0.448     7.57     16.9x   |  0.414    7.60     18.4x
//   7x7x512   s1       0.460     8.08     17.6x   |  0.484    7.82     16.2x
//   56x56x64  s2       0.341     3.79     11.1x   |  0.265    3.72     14.0x
//   28x28x128 s2       0.247     3.86     15.6x   |  0.262    3.84     14.7x
//   14x14x256 s2       0.262     3.88     14.8x   |  0.249    4.00     16.1x
#include "bgemm/bgemm-avx2.h"

ONEBIT_BGEMM_UKERNEL(onebit_bgemm_ukernel_1x32__avx2) {
  onebit::kernels::avx2::bgemm<1, 8>(mr, nc, segs, seg_words, a, w, c, c_stride);
}
