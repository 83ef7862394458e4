// Every bgemm micro-kernel of this binary (bgemm-ukernels.h) on the GEMMs of ResNet-18's 3x3 binary convs,
// alone (no im2col, no output transform): A rows are 3x3 windows read in place from a padded NHWC image
// (3 segments of 3 * C / 32 words, as bconv runs them), N = output channels. One thread, binary GMAC/s.
// Names: bgemm/<layer>/<tile>__<isa>, so tiles of one ISA compare side by side on each shape.
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "../../kernels/bgemm/bgemm.h"  // internal ukernel API

using namespace onebit::kernels;

namespace {

struct Layer { int hw, c, out_c, stride; };
const Layer kLayers[] = {{56, 64, 64, 1},  {28, 128, 128, 1}, {14, 256, 256, 1}, {7, 512, 512, 1},
                         {56, 64, 128, 2}, {28, 128, 256, 2}, {14, 256, 512, 2}};

void BM_bgemm(benchmark::State& state, BgemmConfig cfg, Layer l) {
  if (!isa_supported(cfg.isa)) {
    state.SkipWithError("ISA not supported by this CPU");
    return;
  }
  const size_t words = static_cast<size_t>(l.c) / 32, side = static_cast<size_t>(l.hw) + 2;  // padded image
  const size_t out_hw = static_cast<size_t>(l.hw / l.stride), m = out_hw * out_hw, n = l.out_c;
  const size_t segs = 3, seg_words = 3 * words;
  std::mt19937 rng(1);
  std::vector<uint32_t> image(side * side * words), w(n * segs * seg_words);
  for (uint32_t& v : image) v = rng();
  for (uint32_t& v : w) v = rng();
  std::vector<const uint32_t*> pointers(m * segs);
  for (size_t y = 0; y < out_hw; ++y)
    for (size_t x = 0; x < out_hw; ++x)
      for (size_t s = 0; s < segs; ++s)
        pointers[(y * out_hw + x) * segs + s] = image.data() + ((y * l.stride + s) * side + x * l.stride) * words;
  std::vector<uint64_t> packed(bgemm_packed_chunks(cfg.nr, n, segs, seg_words));
  bgemm_pack_weights(cfg.nr, n, segs, seg_words, w.data(), segs * seg_words, packed.data());
  std::vector<int32_t> c(m * n);
  for (auto _ : state) {
    for (size_t m0 = 0; m0 < m; m0 += cfg.mr) {
      cfg.ukernel(std::min(cfg.mr, m - m0), n, segs, seg_words, pointers.data() + m0 * segs, packed.data(),
                  c.data() + m0 * n, n * sizeof(int32_t));
    }
    benchmark::ClobberMemory();
  }
  const double macs = double(m) * n * segs * seg_words * 32;
  state.counters["binary_GMAC/s"] = benchmark::Counter(macs * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

const bool registered = [] {
  size_t count = 0;
  const BgemmConfig* ukernels = bgemm_ukernels(&count);
  for (const Layer& l : kLayers)
    for (size_t i = 0; i < count; ++i) {
      const std::string name = "bgemm/" + std::to_string(l.hw) + "x" + std::to_string(l.hw) + "x" +
                               std::to_string(l.c) + "_to_" + std::to_string(l.out_c) + "_s" +
                               std::to_string(l.stride) + "/" + ukernels[i].name;
      benchmark::RegisterBenchmark(name.c_str(), BM_bgemm, ukernels[i], l)->Unit(benchmark::kMicrosecond);
    }
  return true;
}();

}  // namespace
