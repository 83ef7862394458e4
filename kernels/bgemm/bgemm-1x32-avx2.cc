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
// The host's noise (+-20% between identical runs) is as large as most gaps; 1x32-hs is the one candidate
// that is never far from the best on any shape, and the only one clearly ahead of the old 3x8 on the
// short-K 56x56 layer. Why: one A row broadcast feeds 8 accumulators and the weights come as memory
// operands of vpxor, so 8 byte counters + 3 tables leave 5 registers of temporaries and GCC spills
// nothing in the loop (3x8-hs spills one accumulator per group); the full adder moves 1/3 of the
// shuffle-port work to the logic ports. No per-K rule on AVX2: no tile measured better for short K.
// End-to-end conv figures (bconv3x3/*/avx2 next to xnnpack_f32_conv3x3/*): bench/kernels/bconv_bench.cc runs.
#include "bgemm/bgemm-avx2.h"

ONEBIT_BGEMM_UKERNEL(onebit_bgemm_ukernel_1x32__avx2) {
  onebit::kernels::avx2::bgemm<1, 8>(mr, nc, segs, seg_words, a, w, c, c_stride);
}
