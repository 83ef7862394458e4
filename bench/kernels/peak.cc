// Peak microbenchmarks: register-resident xor-popcount (binary MAC/s) and fp32 FMA (float MAC/s) per ISA.
#include <benchmark/benchmark.h>

#include "onebit/kernels/isa.h"
#include "peak.h"

using onebit::kernels::Isa;
using onebit::kernels::isa_supported;

namespace {

constexpr size_t kIterations = 1 << 20;

template <typename F>
void run_peak(benchmark::State& state, Isa isa, F fn, double macs_per_iteration, const char* unit) {
  if (!isa_supported(isa)) {
    state.SkipWithError("ISA not supported by this CPU or build");
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize(fn(kIterations));
  state.counters[unit] = benchmark::Counter(macs_per_iteration * kIterations * 1e-9,
                                            benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

#if defined(ONEBIT_HAVE_AVX512VPOPCNT)
static void BM_peak_xor_popcount_avx512vpopcnt(benchmark::State& state) {
  run_peak(state, Isa::kAvx512Vpopcnt, onebit_peak_xor_popcount__avx512vpopcnt, 16.0 * 512, "binary_GMAC/s");
}
static void BM_peak_fma_f32_avx512(benchmark::State& state) {
  run_peak(state, Isa::kAvx512Vpopcnt, onebit_peak_fma__avx512vpopcnt, 16.0 * 16, "float_GMAC/s");
}
BENCHMARK(BM_peak_xor_popcount_avx512vpopcnt);
BENCHMARK(BM_peak_fma_f32_avx512);
#endif
#if defined(ONEBIT_HAVE_AVX2)
static void BM_peak_xor_popcount_avx2_lut(benchmark::State& state) {
  run_peak(state, Isa::kAvx2, onebit_peak_xor_popcount__avx2, 16.0 * 256, "binary_GMAC/s");
}
static void BM_peak_xor_popcount_avx2_full_adder(benchmark::State& state) {
  run_peak(state, Isa::kAvx2, onebit_peak_xor_popcount_full_adder__avx2, 16.0 * 256, "binary_GMAC/s");
}
static void BM_peak_xor_popcount_popcnt64(benchmark::State& state) {
  run_peak(state, Isa::kAvx2, onebit_peak_xor_popcount__scalar_popcnt, 16.0 * 64, "binary_GMAC/s");
}
static void BM_peak_fma_f32_avx2(benchmark::State& state) {
  run_peak(state, Isa::kAvx2, onebit_peak_fma__avx2, 12.0 * 8, "float_GMAC/s");
}
BENCHMARK(BM_peak_xor_popcount_avx2_lut);
BENCHMARK(BM_peak_xor_popcount_avx2_full_adder);
BENCHMARK(BM_peak_xor_popcount_popcnt64);
BENCHMARK(BM_peak_fma_f32_avx2);
#endif
