// 3x3 binary conv layers of ResNet-18 (stride 1, and the stride-2 entry of each stage) per ISA, in binary
// GMAC/s and as a fraction of the measured AVX-512 xor-popcount peak, next to the same layers in fp32
// through XNNPACK (float GMAC/s). One thread. Speedup = binary GMAC/s / float GMAC/s of the same shape.
// peak_% = binary GMAC/s as a percentage of the same ISA's register-resident xor-popcount peak, measured
// once per process in CPU time (as the benchmarks' rates are); for AVX2 the full-adder loop (the popcount
// scheme of its bgemm), so 100% means the bgemm's own loop without loads.
// bconv3x3_fused/...: the same layers in the form a binary ResNet runs them (residual added, float output and
// the bits of the next Quantize written in the same pass: BM_bconv_fused).
// bfc/...: a batch-1 binary FC at 1 and 2 threads (see BM_bfc).
// bconv3x3_levels/<shape>/W<w>A<a>/<isa>: the same stride-1 layers with k-bit (bit-serial) operands, float
// output: W1A1 binary x binary (today's path), W1A2 / W1A4 2- / 4-bit Unipolar activations x binary weights,
// W2A2 2-bit Unipolar activations x 2-bit Bipolar weights. MAC/s count real (multi-bit) MACs, so compare
// the times (or the ratios W1A2 / W1A1 etc.) rather than the rates.
#include <time.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <xnnpack.h>

#include "onebit/kernels/bconv.h"
#include "onebit/kernels/isa.h"
#include "onebit/kernels/pack.h"
#include "peak.h"

using namespace onebit::kernels;
using onebit::LevelKind;

namespace {

struct Shape { int hw, c, out_c, stride; };
const Shape kShapes[] = {{56, 64, 64, 1},   {28, 128, 128, 1}, {14, 256, 256, 1}, {7, 512, 512, 1},
                         {56, 64, 128, 2},  {28, 128, 256, 2}, {14, 256, 512, 2}};

BConvGeometry geometry(const Shape& s) {
  BConvGeometry g;
  g.in_h = g.in_w = s.hw;
  g.in_c = s.c;
  g.out_c = s.out_c;
  g.kernel_h = g.kernel_w = 3;
  g.stride_h = g.stride_w = s.stride;
  g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = 1;
  g.pad_mode = PadMode::kZero;
  return g;
}

double thread_cpu_seconds() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

// Best of 5 timings of the peak loop of `isa`, in binary GMAC/s; 0 when there is none for that ISA.
double peak_gmacs(Isa isa) {
  static double cached[8] = {};
  const size_t slot = static_cast<size_t>(isa) % 8;
  if (cached[slot] != 0) return cached[slot];
  uint64_t (*fn)(size_t) = nullptr;
  double bits = 0;
#if defined(ONEBIT_HAVE_AVX512VPOPCNT)
  if (isa == Isa::kAvx512Vpopcnt) fn = onebit_peak_xor_popcount__avx512vpopcnt, bits = 512;
#endif
#if defined(ONEBIT_HAVE_AVX2)
  if (isa == Isa::kAvx2) fn = onebit_peak_xor_popcount_full_adder__avx2, bits = 256;  // what the bgemm runs
#endif
  if (fn == nullptr) return 0;
  const size_t iterations = size_t{1} << 20;
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    const double t0 = thread_cpu_seconds();
    benchmark::DoNotOptimize(fn(iterations));
    best = std::max(best, 16.0 * bits * double(iterations) * 1e-9 / (thread_cpu_seconds() - t0));
  }
  return cached[slot] = best;
}

double macs(const BConvGeometry& g) { return double(g.out_h()) * g.out_w() * g.out_c * g.taps(); }

// Prepares *conv for g with random weights, multiplier 0.01 and bias 0.1; false (benchmark skipped) when the
// ISA or the geometry cannot run. *x: a random input of g's shape.
bool prepare_random(benchmark::State& state, Isa isa, const BConvGeometry& g, bool bitpacked, BConv2D* conv,
                    std::vector<uint32_t>* x) {
  if (!isa_supported(isa)) {
    state.SkipWithError("ISA not supported by this CPU or build");
    return false;
  }
  const size_t words = (g.in_c + 31) / 32;
  std::mt19937 rng(1);
  std::vector<uint32_t> w(size_t(g.weight_bits) * g.out_c * g.kernel_h * g.kernel_w * words);
  x->resize(size_t(g.act_bits) * g.batch * g.in_h * g.in_w * words);
  for (auto& v : w) v = rng();
  for (auto& v : *x) v = rng();
  std::vector<float> m(g.out_c, 0.01f), b(g.out_c, 0.1f);
  OutputTransformParams t;
  t.bitpacked = bitpacked;
  t.multiplier = m.data();
  t.bias = b.data();
  std::string error;
  if (!conv->prepare(isa, g, w.data(), t, &error)) {
    state.SkipWithError(error.c_str());
    return false;
  }
  return true;
}

// Times conv.run on one thread, float output, until Google Benchmark is satisfied.
void run_single_threaded(benchmark::State& state, const BConvGeometry& g, const BConv2D& conv,
                         const std::vector<uint32_t>& x) {
  std::vector<char> scratch(conv.scratch_bytes(1));
  std::vector<float> y(size_t(g.out_h()) * g.out_w() * g.out_c);
  for (auto _ : state) {
    conv.run(x.data(), y.data(), scratch.data(), nullptr);
    benchmark::ClobberMemory();
  }
}

void BM_bconv(benchmark::State& state, Isa isa, Shape shape, bool bitpacked) {
  const BConvGeometry g = geometry(shape);
  BConv2D conv;
  std::vector<uint32_t> x;
  if (!prepare_random(state, isa, g, bitpacked, &conv, &x)) return;
  run_single_threaded(state, g, conv, x);
  state.counters["binary_GMAC/s"] = benchmark::Counter(macs(g) * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  if (const double peak = peak_gmacs(conv.isa()); peak > 0) {
    state.counters["peak_%"] = benchmark::Counter(macs(g) * 1e-9 / peak * 100, benchmark::Counter::kIsIterationInvariantRate);
  }
  state.SetLabel(std::string(isa_name(conv.isa())) + (bitpacked ? " bitpacked" : " float"));
}

// bconv3x3_fused/<shape>/<isa>: the form Bi-Real-18's binary convs take in the network (issue 12's fusions):
// float output plus a residual of the output's shape, and the bits of Quantize(y) against per-channel
// thresholds for the next convolution (FloatAndBitPacked). The output is written over the residual, as the
// runtime's planner does when the conv is the residual's last reader (interpreter_build.cc write_in_place;
// every block of Bi-Real-18 but the stage transitions): one float stream read and written in place.
void BM_bconv_fused(benchmark::State& state, Isa isa, Shape shape) {
  const BConvGeometry g = geometry(shape);
  if (!isa_supported(isa)) {
    state.SkipWithError("ISA not supported by this CPU or build");
    return;
  }
  const size_t words = (g.in_c + 31) / 32, out_words = (g.out_c + 31) / 32;
  std::mt19937 rng(1);
  std::vector<uint32_t> w(size_t(g.out_c) * 9 * words), x(size_t(g.in_h) * g.in_w * words);
  for (auto& v : w) v = rng();
  for (auto& v : x) v = rng();
  std::vector<float> m(g.out_c, 0.01f), b(g.out_c, 0.1f), threshold(g.out_c);
  std::uniform_real_distribution<float> u(-1, 1);
  for (auto& v : threshold) v = 0.1f * u(rng);
  std::vector<uint32_t> flip(out_words, 0x0F0F0F0Fu), const_mask(out_words, 0), const_bits(out_words, 0);
  QuantizeThresholds q;
  q.threshold = threshold.data();
  q.flip = flip.data();
  q.const_mask = const_mask.data();
  q.const_bits = const_bits.data();
  OutputTransformParams t;
  t.multiplier = m.data();
  t.bias = b.data();
  t.float_and_bits = true;
  t.quantize = &q;
  BConv2D conv;
  std::string error;
  if (!conv.prepare(isa, g, w.data(), t, &error)) {
    state.SkipWithError(error.c_str());
    return;
  }
  const size_t pixels = size_t(g.out_h()) * g.out_w();
  std::vector<float> y(pixels * g.out_c);  // the residual, then the output (it drifts run by run: harmless)
  for (auto& v : y) v = u(rng);
  std::vector<uint32_t> bits(pixels * out_words);
  std::vector<char> scratch(conv.scratch_bytes(1));
  BConvRunArgs args;
  args.residual = y.data();
  args.bits = bits.data();
  for (auto _ : state) {
    conv.run(x.data(), y.data(), scratch.data(), nullptr, args);
    benchmark::ClobberMemory();
  }
  state.counters["binary_GMAC/s"] = benchmark::Counter(macs(g) * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  if (const double peak = peak_gmacs(conv.isa()); peak > 0) {
    state.counters["peak_%"] = benchmark::Counter(macs(g) * 1e-9 / peak * 100, benchmark::Counter::kIsIterationInvariantRate);
  }
  state.SetLabel(std::string(isa_name(conv.isa())) + " residual + float and bits");
}

// bfc/4096_to_1000_b1/<isa>/threads:<t>: a batch-1 binary FC (an XNOR-Net style head) on a pool of t threads
// (null pool for 1), float output, in wall time. One output pixel: with 2+ threads run() splits the output
// channels (bconv.cc partition()), so threads:2 / threads:1 is that split's scaling.
void BM_bfc(benchmark::State& state, Isa isa, int threads) {
  BConvGeometry g;
  g.in_c = 4096;
  g.out_c = 1000;
  BConv2D fc;
  std::vector<uint32_t> x;
  if (!prepare_random(state, isa, g, false, &fc, &x)) return;
  std::vector<float> y(g.out_c);
  pthreadpool_t pool = threads > 1 ? pthreadpool_create(size_t(threads)) : nullptr;
  std::vector<char> scratch(fc.scratch_bytes(size_t(threads)));
  for (auto _ : state) {
    fc.run(x.data(), y.data(), scratch.data(), pool);
    benchmark::ClobberMemory();
  }
  if (pool != nullptr) pthreadpool_destroy(pool);
  state.counters["binary_GMAC/s"] = benchmark::Counter(macs(g) * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(std::string(isa_name(fc.isa())) + " float");
}

struct Levels { const char* name; LevelKind act_kind; int act_bits, weight_bits; };
const Levels kLevels[] = {{"W1A1", LevelKind::kBinary, 1, 1},
                          {"W1A2", LevelKind::kUnipolar, 2, 1},
                          {"W1A4", LevelKind::kUnipolar, 4, 1},
                          {"W2A2", LevelKind::kUnipolar, 2, 2}};

void BM_bconv_levels(benchmark::State& state, Isa isa, Shape shape, Levels levels) {
  BConvGeometry g = geometry(shape);
  g.act_kind = levels.act_kind;
  g.act_bits = levels.act_bits;
  g.weight_bits = levels.weight_bits;
  BConv2D conv;
  std::vector<uint32_t> x;
  if (!prepare_random(state, isa, g, false, &conv, &x)) return;
  run_single_threaded(state, g, conv, x);
  state.counters["GMAC/s"] = benchmark::Counter(macs(g) * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(std::string(isa_name(conv.isa())) + " " + levels.name);
}

void BM_xnnpack_f32_conv(benchmark::State& state, Shape shape) {
  const BConvGeometry g = geometry(shape);
  if (xnn_initialize(nullptr) != xnn_status_success) {
    state.SkipWithError("xnn_initialize failed");
    return;
  }
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> w(size_t(g.out_c) * 9 * g.in_c), bias(g.out_c);
  std::vector<float> x(size_t(g.in_h) * g.in_w * g.in_c + 16), y(size_t(g.out_h()) * g.out_w() * g.out_c);
  for (auto& v : w) v = u(rng) < 0 ? -1.0f : 1.0f;
  for (auto& v : x) v = u(rng) < 0 ? -1.0f : 1.0f;
  xnn_operator_t op = nullptr;
  if (xnn_create_convolution2d_nhwc_f32(1, 1, 1, 1, 3, 3, shape.stride, shape.stride, 1, 1, 1, g.in_c, g.out_c,
                                        g.in_c, g.out_c, w.data(), bias.data(), -INFINITY, INFINITY, 0,
                                        &op) != xnn_status_success ||
      xnn_setup_convolution2d_nhwc_f32(op, 1, g.in_h, g.in_w, x.data(), y.data(), nullptr) != xnn_status_success) {
    state.SkipWithError("XNNPACK convolution create/setup failed");
    return;
  }
  for (auto _ : state) {
    xnn_run_operator(op, nullptr);
    benchmark::ClobberMemory();
  }
  xnn_delete_operator(op);
  state.counters["float_GMAC/s"] = benchmark::Counter(macs(g) * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

std::string shape_name(const Shape& s) {
  return std::to_string(s.hw) + "x" + std::to_string(s.hw) + "x" + std::to_string(s.c) + "_to_" +
         std::to_string(s.out_c) + "_s" + std::to_string(s.stride);
}

const bool registered = [] {
  for (const Shape& s : kShapes) {
    for (Isa isa : kAllIsas) {
      if (!isa_compiled(isa)) continue;
      const std::string name = std::string("bconv3x3/") + shape_name(s) + "/" + isa_name(isa);
      benchmark::RegisterBenchmark(name.c_str(), BM_bconv, isa, s, false)->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark((name + "/bitpacked").c_str(), BM_bconv, isa, s, true)
          ->Unit(benchmark::kMillisecond);
      const std::string fused = std::string("bconv3x3_fused/") + shape_name(s) + "/" + isa_name(isa);
      benchmark::RegisterBenchmark(fused.c_str(), BM_bconv_fused, isa, s)->Unit(benchmark::kMillisecond);
    }
    benchmark::RegisterBenchmark((std::string("xnnpack_f32_conv3x3/") + shape_name(s)).c_str(),
                                 BM_xnnpack_f32_conv, s)
        ->Unit(benchmark::kMillisecond);
  }
  for (Isa isa : kAllIsas) {
    if (!isa_compiled(isa)) continue;
    for (int threads : {1, 2}) {
      const std::string name = std::string("bfc/4096_to_1000_b1/") + isa_name(isa) + "/threads:" + std::to_string(threads);
      benchmark::RegisterBenchmark(name.c_str(), BM_bfc, isa, threads)->Unit(benchmark::kMicrosecond)->UseRealTime();
    }
  }
  for (const Shape& s : kShapes) {
    if (s.stride != 1) continue;
    for (const Levels& l : kLevels)
      for (Isa isa : kAllIsas) {
        if (!isa_compiled(isa)) continue;
        const std::string name = std::string("bconv3x3_levels/") + shape_name(s) + "/" + l.name + "/" + isa_name(isa);
        benchmark::RegisterBenchmark(name.c_str(), BM_bconv_levels, isa, s, l)->Unit(benchmark::kMillisecond);
      }
  }
  return true;
}();

}  // namespace
