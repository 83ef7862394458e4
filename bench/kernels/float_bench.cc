// The portable float kernels (kernels/float, the Cortex-M path and the desktop's reference) on the float
// layers of the shipped models, each next to the same layer through XNNPACK (the desktop's default path).
// One thread. GMAC/s counts multiply-adds (the pool: additions).
//   float_conv2d/bireal_stem    1x224x224x3 -> 112x112x64, 7x7 stride 2 pad 3, bias
//   float_conv2d/fashion_stem   1x28x28x1 -> 28x28x32, 3x3 pad 1, no bias (models/fashion_mnist/bnn.py)
//   float_conv2d/cifar_stem     1x32x32x3 -> 32x32x64, 3x3 pad 1, bias (a CIFAR-10 BNN's first layer)
//   float_conv2d/<stem>/stem/<ukernel>   the same through every stem ukernel this CPU runs (stem.h, the
//                               desktop's path for these layers), next to /xnnpack and /portable
//   float_conv2d/<stem>/stem_int8/<ukernel>   the same layer in int8 through every int8 stem ukernel this CPU
//                               runs (stem_int8.h): the input's quantization into the padded image plus the
//                               convolution, float output (what --int8-float-layers runs), weights packed once
//   float_fc/512_to_10          batch 1, bias
//   bwn_conv2d/<shape>/{binary_weights,portable,xnnpack}   the BWN layers of models/fashion_mnist_lowbit
//                               (3x3 pad 1, 1-bit weights + scale, no bias): conv2d_binary_weights_f32 on
//                               the packed bits next to conv2d_f32 and XNNPACK on the weights expanded to float
//   float_global_avg_pool/7x7x512
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <xnnpack.h>

#include "onebit/kernels/float.h"
#include "onebit/kernels/stem.h"
#include "onebit/kernels/stem_int8.h"

using namespace onebit::kernels;

namespace {

struct Stem {
  const char* name;
  FloatConv2D g;
  bool bias;
};

const Stem kStems[] = {
    {"bireal_stem", {1, 224, 224, 3, 112, 112, 64, 7, 7, 2, 2, 1, 1, 3, 3, 1, -INFINITY, INFINITY}, true},
    {"fashion_stem", {1, 28, 28, 1, 28, 28, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, -INFINITY, INFINITY}, false},
    {"cifar_stem", {1, 32, 32, 3, 32, 32, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, -INFINITY, INFINITY}, true},
};

/// The BWN model's binary-weight convolutions (models/fashion_mnist_lowbit, widths 32, 64, 128).
const Stem kBwnLayers[] = {
    {"28x28x32_to_32", {1, 28, 28, 32, 28, 28, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, -INFINITY, INFINITY}, false},
    {"14x14x64_to_64", {1, 14, 14, 64, 14, 14, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, -INFINITY, INFINITY}, false},
    {"7x7x128_to_128", {1, 7, 7, 128, 7, 7, 128, 3, 3, 1, 1, 1, 1, 1, 1, 1, -INFINITY, INFINITY}, false},
};

std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> v(n + 16);  // XNNPACK may read 16 bytes past an input
  for (float& x : v) x = u(rng);
  return v;
}

double conv_macs(const FloatConv2D& g) {
  return double(g.batch) * g.out_h * g.out_w * g.out_c * g.kernel_h * g.kernel_w * (g.in_c / g.groups);
}

void set_rate(benchmark::State& state, double macs) {
  state.counters["GMAC/s"] = benchmark::Counter(macs * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

bool xnn_ready(benchmark::State& state) {
  if (xnn_initialize(nullptr) == xnn_status_success) return true;
  state.SkipWithError("xnn_initialize failed");
  return false;
}

/// Runs `op` (created by the caller, null when creation failed) once per iteration, then deletes it.
void run_xnn(benchmark::State& state, xnn_operator_t op, xnn_status setup) {
  if (op == nullptr || setup != xnn_status_success) {
    state.SkipWithError("XNNPACK create / setup failed");
    return;
  }
  for (auto _ : state) {
    xnn_run_operator(op, nullptr);
    benchmark::ClobberMemory();
  }
  xnn_delete_operator(op);
}

/// The convolution of stem s with weights w (OHWI), through XNNPACK or conv2d_f32.
void BM_float_conv2d(benchmark::State& state, const Stem& s, const std::vector<float>& w, bool xnnpack) {
  const FloatConv2D& g = s.g;
  const std::vector<float> x = random_floats(size_t(g.in_h) * g.in_w * g.in_c, 1);
  const std::vector<float> bias = random_floats(size_t(g.out_c), 3);
  std::vector<float> y(size_t(g.out_h) * g.out_w * g.out_c);
  const float* b = s.bias ? bias.data() : nullptr;
  if (xnnpack) {
    if (!xnn_ready(state)) return;
    xnn_operator_t op = nullptr;
    const uint32_t ph = uint32_t(g.pad_top), pw = uint32_t(g.pad_left);
    xnn_create_convolution2d_nhwc_f32(ph, pw, ph, pw, uint32_t(g.kernel_h), uint32_t(g.kernel_w), uint32_t(g.stride_h),
                                      uint32_t(g.stride_w), 1, 1, 1, size_t(g.in_c), size_t(g.out_c), size_t(g.in_c),
                                      size_t(g.out_c), w.data(), b, g.clamp_min, g.clamp_max, 0, &op);
    const xnn_status setup =
        op ? xnn_setup_convolution2d_nhwc_f32(op, 1, size_t(g.in_h), size_t(g.in_w), x.data(), y.data(), nullptr)
           : xnn_status_invalid_state;
    run_xnn(state, op, setup);
  } else {
    for (auto _ : state) {
      conv2d_f32(g, x.data(), w.data(), b, y.data(), 0, g.batch * g.out_h);
      benchmark::ClobberMemory();
    }
  }
  set_rate(state, conv_macs(g));
}

void BM_float_stem(benchmark::State& state, Stem s, bool xnnpack) {
  const FloatConv2D& g = s.g;
  BM_float_conv2d(state, s, random_floats(size_t(g.out_c) * g.kernel_h * g.kernel_w * g.in_c, 2), xnnpack);
}

/// The stem's convolution through stem ukernel u (the weights packed once, outside the timing).
void BM_stem_ukernel(benchmark::State& state, Stem s, const StemUkernel* u) {
  const FloatConv2D& g = s.g;
  const std::vector<float> x = random_floats(size_t(g.in_h) * g.in_w * g.in_c, 1);
  const std::vector<float> w = random_floats(size_t(g.out_c) * g.kernel_h * g.kernel_w * g.in_c, 2);
  const std::vector<float> bias = random_floats(size_t(g.out_c), 3);
  std::vector<float> packed(stem_packed_floats(*u, g)), y(size_t(g.out_h) * g.out_w * g.out_c);
  stem_pack(*u, g, w.data(), s.bias ? bias.data() : nullptr, packed.data());
  for (auto _ : state) {
    stem_conv2d_f32(*u, g, x.data(), packed.data(), y.data(), 0, g.batch * g.out_h);
    benchmark::ClobberMemory();
  }
  set_rate(state, conv_macs(g));
}

/// The stem's convolution in int8 through int8 stem ukernel u: quantize the input, then the convolution.
void BM_stem_int8_ukernel(benchmark::State& state, Stem s, const StemInt8Ukernel* u) {
  StemInt8 p;
  p.g = s.g;
  p.input_scale = 1.0f / 100, p.output_scale = 1.0f / 10;
  stem_int8_init(&p);
  const FloatConv2D& g = p.g;
  const std::vector<float> x = random_floats(size_t(g.in_h) * g.in_w * g.in_c, 1);
  std::vector<int8_t> w(size_t(g.out_c) * g.kernel_h * g.kernel_w * g.in_c);
  std::mt19937 rng(2);
  for (int8_t& v : w) v = int8_t(int(rng() % 255) - 127);
  const std::vector<int32_t> bias(size_t(g.out_c), 100);
  const std::vector<float> scale(size_t(g.out_c), 0.01f);
  std::vector<uint8_t> packed(stem_int8_packed_bytes(*u, p)), xq(stem_int8_input_bytes(*u, p));
  std::vector<float> y(size_t(g.out_h) * g.out_w * g.out_c);
  stem_int8_pack(*u, p, w.data(), bias.data(), scale.data(), packed.data());
  for (auto _ : state) {
    stem_int8_quantize(*u, p, x.data(), xq.data(), 0, g.batch * p.padded_h);
    stem_int8_conv(*u, p, xq.data(), packed.data(), y.data(), 0, g.batch * g.out_h);
    benchmark::ClobberMemory();
  }
  set_rate(state, conv_macs(g));
}

/// A BWN layer: conv2d_binary_weights_f32 on random bits, or (expanded) the same layer's weights as floats
/// through conv2d_f32 or XNNPACK.

void BM_bwn_conv2d(benchmark::State& state, Stem s, const char* path) {
  const FloatConv2D& g = s.g;
  const size_t rows = size_t(g.out_c) * g.kernel_h * g.kernel_w, row = size_t(g.in_c), words = (row + 31) / 32;
  std::mt19937 rng(8);
  std::vector<uint32_t> bits(rows * words);
  for (uint32_t& w : bits) w = uint32_t(rng());
  const std::vector<float> scale = random_floats(size_t(g.out_c), 9);
  std::vector<float> expanded(rows * row);
  for (size_t r = 0; r < rows; ++r)
    for (size_t i = 0; i < row; ++i) {
      const float sc = scale[r / size_t(g.kernel_h * g.kernel_w)];
      expanded[r * row + i] = (bits[r * words + i / 32] >> (i % 32)) & 1u ? -sc : sc;
    }
  if (std::string(path) != "binary_weights") {
    BM_float_conv2d(state, s, expanded, std::string(path) == "xnnpack");
    return;
  }
  const std::vector<float> x = random_floats(size_t(g.in_h) * g.in_w * g.in_c, 1);
  std::vector<float> y(size_t(g.out_h) * g.out_w * g.out_c);
  for (auto _ : state) {
    conv2d_binary_weights_f32(g, x.data(), bits.data(), scale.data(), nullptr, y.data(), 0, g.batch * g.out_h);
    benchmark::ClobberMemory();
  }
  set_rate(state, conv_macs(g));
}

void BM_float_fc(benchmark::State& state, bool xnnpack) {
  const int in_c = 512, out_c = 10;
  const std::vector<float> x = random_floats(size_t(in_c), 4), w = random_floats(size_t(in_c) * out_c, 5);
  const std::vector<float> bias = random_floats(size_t(out_c), 6);
  std::vector<float> y(static_cast<size_t>(out_c));
  if (xnnpack) {
    if (!xnn_ready(state)) return;
    xnn_operator_t op = nullptr;
    xnn_create_fully_connected_nc_f32(size_t(in_c), size_t(out_c), size_t(in_c), size_t(out_c), w.data(), bias.data(),
                                      -INFINITY, INFINITY, 0, &op);
    const xnn_status setup =
        op ? xnn_setup_fully_connected_nc_f32(op, 1, x.data(), y.data(), nullptr) : xnn_status_invalid_state;
    run_xnn(state, op, setup);
  } else {
    for (auto _ : state) {
      fully_connected_f32(1, in_c, out_c, x.data(), w.data(), bias.data(), -INFINITY, INFINITY, y.data(), 0, 1);
      benchmark::ClobberMemory();
    }
  }
  set_rate(state, double(in_c) * out_c);
}

void BM_float_global_avg_pool(benchmark::State& state, bool xnnpack) {
  const int pixels = 49, channels = 512;
  const std::vector<float> x = random_floats(size_t(pixels) * channels, 7);
  std::vector<float> y(static_cast<size_t>(channels));
  if (xnnpack) {
    if (!xnn_ready(state)) return;
    xnn_operator_t op = nullptr;
    const size_t c = size_t(channels);
    xnn_create_global_average_pooling_nwc_f32(c, c, c, -INFINITY, INFINITY, 0, &op);
    const xnn_status setup =
        op ? xnn_setup_global_average_pooling_nwc_f32(op, 1, size_t(pixels), x.data(), y.data(), nullptr)
           : xnn_status_invalid_state;
    run_xnn(state, op, setup);
  } else {
    for (auto _ : state) {
      global_avg_pool_f32(1, pixels, channels, x.data(), y.data());
      benchmark::ClobberMemory();
    }
  }
  set_rate(state, double(pixels) * channels);
}

const bool registered = [] {
  for (bool xnnpack : {false, true}) {
    const std::string path = xnnpack ? "/xnnpack" : "/portable";
    for (const Stem& s : kStems)
      benchmark::RegisterBenchmark((std::string("float_conv2d/") + s.name + path).c_str(), BM_float_stem, s, xnnpack)
          ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("float_fc/512_to_10" + path).c_str(), BM_float_fc, xnnpack)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("float_global_avg_pool/7x7x512" + path).c_str(), BM_float_global_avg_pool, xnnpack)
        ->Unit(benchmark::kMicrosecond);
  }
  size_t stems = 0;
  const StemUkernel* table = stem_ukernels(&stems);
  for (const Stem& s : kStems)
    for (size_t i = 0; i < stems; ++i)
      if (isa_supported(table[i].isa))
        benchmark::RegisterBenchmark((std::string("float_conv2d/") + s.name + "/stem/" + table[i].name).c_str(),
                                     BM_stem_ukernel, s, &table[i])
            ->Unit(benchmark::kMicrosecond);
  const StemInt8Ukernel* int8_table = stem_int8_ukernels(&stems);
  for (const Stem& s : kStems)
    for (size_t i = 0; i < stems; ++i)
      if (stem_int8_runs(int8_table[i]))
        benchmark::RegisterBenchmark((std::string("float_conv2d/") + s.name + "/stem_int8/" + int8_table[i].name).c_str(),
                                     BM_stem_int8_ukernel, s, &int8_table[i])
            ->Unit(benchmark::kMicrosecond);
  for (const Stem& s : kBwnLayers)
    for (const char* path : {"binary_weights", "portable", "xnnpack"})
      benchmark::RegisterBenchmark((std::string("bwn_conv2d/") + s.name + "/" + path).c_str(), BM_bwn_conv2d, s, path)
          ->Unit(benchmark::kMicrosecond);
  return true;
}();

}  // namespace
