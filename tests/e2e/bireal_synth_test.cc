// onebit-synth's Bi-Real-18, binary (and W1A2 / W1A4 k-bit) kernels vs its --float-reference twin (binary
// layers as float convs of the level values through XNNPACK): same top-1, logits within float tolerance.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "onebit/interpreter.h"
#include "onebit/model.h"
#include "common/run_model.h"
#include "synth/bireal.h"

TEST_CASE("bireal18 synthetic: binary and k-bit kernels agree with the float reference twin") {
  // Two weight draws per activation width (a third cost ~15 s under ASan and under qemu for no new path).
  for (int bits : {1, 2, 4}) for (uint64_t seed : {1u, 2u}) {
    onebit::synth::BiRealOptions o;
    o.input_h = o.input_w = 32;
    o.classes = 10;
    o.seed = seed;
    o.activation_bits = bits;
    std::vector<uint8_t> binary, reference;
    REQUIRE(onebit::synth::build_bireal18(o, &binary).ok());
    o.float_reference = true;
    REQUIRE(onebit::synth::build_bireal18(o, &reference).ok());

    std::vector<float> input(32 * 32 * 3);
    std::mt19937 rng(uint32_t(seed) * 77 + 5);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    for (float& v : input) v = dist(rng);
    // The float twin once per model (one thread); the binary model at each thread count against it.
    const std::vector<float> b = onebit::testing::run_model(reference, input);
    for (int threads : {1, 2}) {
      onebit::InterpreterOptions options;
      options.threads = threads;
      const std::vector<float> a = onebit::testing::run_model(binary, input, options);
      INFO("activation bits " << bits << " seed " << seed << " threads " << threads);
      REQUIRE(a.size() == 10);
      REQUIRE(b.size() == 10);
      float scale = 0;
      for (float v : b) scale = std::max(scale, std::fabs(v));
      for (size_t i = 0; i < a.size(); ++i) {
        INFO("logit " << i << ": binary " << a[i] << " float reference " << b[i]);
        CHECK(std::fabs(a[i] - b[i]) <= 1e-3f * std::max(1.0f, scale));
      }
      CHECK(std::max_element(a.begin(), a.end()) - a.begin() == std::max_element(b.begin(), b.end()) - b.begin());
    }
  }
}
