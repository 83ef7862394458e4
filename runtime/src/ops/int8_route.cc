// Where an int8-marked float layer (--int8-float-layers: Int8 weights + Int8Quantization) runs on this CPU:
// static per-ISA shape rules fixed from benchmarks, never timed at run time, so the same model on the same
// CPU always takes the same path (and gives the same bits). Chosen by the CPU (kernels::best_isa()), like the
// stem and XNNPACK's kernels, not by InterpreterOptions::isa.
//
// The measurements behind the rules (bench --profile, 1 thread, Bi-Real-18 of bench/peers converted with and
// without --int8-float-layers, per-op medians; AVX-512 VPOPCNTDQ + VNNI, Zen 5, 2026-12-08, a shared machine):
//   stem 7x7/2, 224^2 x 3 -> 64:  fp32 (onebit stem ukernel) 1.24 ms, int8 (XNNPACK qc8 via im2col) 7.19 ms
//   1x1 shortcuts 28^2 64->128, 14^2 128->256, 7^2 256->512:
//                                 fp32 0.077 / 0.077 / 0.094 ms, int8 0.081 / 0.062 / 0.062 ms
//   FC 512 -> 1000:               fp32 0.072 ms, int8 0.020 ms
// The int8 path adds two passes over memory (quantize the input, dequantize the output: XNNPACK convert
// operators) to a faster product, so what decides is the work per converted element,
//   density = MACs / (input elements + output elements):
// 42.7 for the 28^2 shortcut (int8 ~6 % slower), 85 and 171 for the others (int8 20-35 % faster), 339 for
// the FC (3.5x faster). onebit's own int8 stem ukernel (kernels/stem/stem-int8-*; bench_kernels
// float_conv2d/bireal_stem/stem_int8): 4x64__avx512vnni 0.43 ms CPU time vs the fp32 stem ukernel's
// 1.18-1.23 ms (0.35x); 3.5-3.7 us vs 4.2-4.4 us on the Fashion-MNIST stem (3x3, C = 1 -> 32). So:
//   - a convolution onebit's stem ukernels run (kernels::stem_supported: C_in 1..4, 3x3..7x7) runs int8 on
//     onebit's int8 stem ukernel where the CPU's best one is a vector one of the same ISA as its best fp32
//     stem ukernel (AVX-512 VNNI; AVX2 without AVX-512, below); else fp32 on every CPU with a vector fp32
//     stem ukernel (AVX-512 without VNNI, whose fp32 stem does twice the AVX2 int8 one's work per cycle;
//     NEON): that ukernel reaches ~94 % of the FMA peak, and XNNPACK's qc8 path is 2-6x slower there; the
//     scalar-only CPUs keep XNNPACK int8;
//   - any other conv or fully connected layer runs int8 when its density is at least the ISA's minimum
//     (min_density: 64 on AVX-512), else fp32.
// AVX2 (bench/RESULTS.md, "Whole-network speed (issue 12)", XNNPACK's kernels on both paths): XNNPACK's
// int8 stem took 6.26 ms against 8.35 for its fp32 one, and onebit's fp32 stem ukernel runs at ~50 G MAC/s
// there (~2.4 ms); onebit's AVX2 int8 stem ukernel (6x16__avx2, int16 pairs; bench_kernels float_conv2d/
// <stem>/stem_int8, bench/RESULTS.md's int8 stem paragraph) takes 0.62-0.74x of the fp32 one's time on the
// Bi-Real-18 stem (7x7x3 = 147 taps per output; median 0.66x under load, ~0.57x at the quieter minima), a
// median 0.85x on a CIFAR stem (3x3x3 = 27 taps), but 1.08x on the
// Fashion-MNIST one (3x3x1 = 9 taps: its 2-tap groups a quarter empty, and the quantization pass and the
// requantization weigh more), so on AVX2 a stem runs int8 from 27 taps (min_stem_taps), else fp32 (with
// VNNI int8 won at 9 taps too; AVX2 CPUs with AVX-VNNI run 6x16__avxvnni, u8 x s8 like the AVX-512 VNNI one,
// 0.59x of the int16 ukernel's convolution on the Bi-Real-18 stem, under the same 27-tap rule, as it tied the
// fp32 stem on Fashion-MNIST's); the int8 1x1 shortcuts took half the fp32 time, all
// three (densities 42.7 to 171), so the minimum there is 16 (below every measured win; small classifiers
// such as 128 -> 10, density 9.3, stay fp32). NEON is not measured: as AVX2 until it is.
// The fp32 path computes with the int8 weights dequantized (q * weight_scale) on the unquantized input:
// the same weights the int8 path uses, with float rounding instead of the activations' quantization.
// Cortex-M (ONEBIT_MCU): this file is empty; Conv2D / FullyConnected refuse int8 layers there before any
// route is asked for (conv2d_fully_connected.cc, prepare_int8), so no kernel table is linked in.
#if !ONEBIT_MCU
#include "ops/int8_layer.h"

#include "onebit/kernels/float.h"
#include "onebit/kernels/isa.h"
#include "onebit/kernels/stem.h"
#include "onebit/kernels/stem_int8.h"

namespace onebit::rt {
namespace {

/// Taps per output (kernel_h * kernel_w * in_c) below which the int8 stem ukernel of this ISA loses (above).
int min_stem_taps(kernels::Isa isa) { return isa == kernels::Isa::kAvx2 ? 27 : 0; }

/// MACs per converted element below which int8 loses on this ISA (see above).
double min_density(kernels::Isa isa) {
  switch (isa) {
    case kernels::Isa::kAvx512Vpopcnt: return 64;
    case kernels::Isa::kAvx2: return 16;  // int8 halved all three shortcuts there, 28^2 (42.7) included
    case kernels::Isa::kNeon: return 16;  // not measured: as AVX2
    default: return 0;                    // scalar-only CPUs: int8 as before the rules
  }
}

kernels::FloatConv2D float_geometry(const Int8Geometry& g) {
  kernels::FloatConv2D f{};
  f.batch = int(g.batch), f.in_h = int(g.in_h), f.in_w = int(g.in_w), f.in_c = int(g.in_c);
  f.out_h = int(g.out_h), f.out_w = int(g.out_w), f.out_c = int(g.out_c);
  f.kernel_h = int(g.kernel_h), f.kernel_w = int(g.kernel_w), f.stride_h = int(g.stride_h);
  f.stride_w = int(g.stride_w), f.dilation_h = int(g.dilation_h), f.dilation_w = int(g.dilation_w);
  f.pad_top = int(g.pad_top), f.pad_left = int(g.pad_left), f.groups = int(g.groups);
  f.clamp_min = g.clamp_min, f.clamp_max = g.clamp_max;
  return f;
}

const char* slower_on(kernels::Isa isa) {
  switch (isa) {
    case kernels::Isa::kAvx512Vpopcnt: return "fp32 (int8 slower on avx512)";
    case kernels::Isa::kAvx2: return "fp32 (int8 slower on avx2)";
    case kernels::Isa::kNeon: return "fp32 (int8 slower on neon)";
    default: return "fp32 (int8 slower)";
  }
}

const char* stem_int8_report(const kernels::StemInt8Ukernel& u) {
  if (u.isa == kernels::Isa::kAvx2) return u.vnni ? "int8 (onebit stem, avx vnni)" : "int8 (onebit stem, avx2)";
  return u.vnni ? "int8 (onebit stem, avx512 vnni)" : "int8 (onebit stem)";
}

}  // namespace

Int8Choice choose_int8_route(const Int8Geometry& g) {
  const kernels::FloatConv2D f = float_geometry(g);
  if (kernels::stem_supported(f)) {
    const kernels::StemInt8Ukernel& stem_int8 = kernels::stem_int8_select();
    const kernels::StemUkernel& stem = kernels::stem_select(kernels::best_isa());
    if (stem_int8.isa != kernels::Isa::kScalar && stem_int8.isa == stem.isa &&
        f.kernel_h * f.kernel_w * f.in_c >= min_stem_taps(stem.isa))
      return {Int8Route::kStem, stem_int8_report(stem_int8)};
    if (stem.isa != kernels::Isa::kScalar) return {Int8Route::kFloat, slower_on(stem.isa)};
  }
  const double in = double(g.batch) * double(g.in_h) * double(g.in_w) * double(g.in_c);
  const double out = double(g.batch) * double(g.out_h) * double(g.out_w) * double(g.out_c);
  const double macs = out * double(g.kernel_h) * double(g.kernel_w) * double(g.in_c / g.groups);
  const kernels::Isa isa = kernels::best_isa();
  if (macs < min_density(isa) * (in + out)) return {Int8Route::kFloat, slower_on(isa)};
  return {Int8Route::kXnnpack, "int8"};
}

}  // namespace onebit::rt
#endif  // !ONEBIT_MCU
