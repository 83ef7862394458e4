// Graph inputs survive invoke(): onebit-synth's Bi-Real-18 invoked several times on one input (written
// once) gives bit-identical outputs and leaves the input untouched, with 1 and 2 threads. Before inputs
// lived for the whole invoke, the planner reused the input's bytes and the output drifted run after run.
#include <doctest/doctest.h>

#include <cstring>
#include <vector>
#include <memory>
#include <random>

#include "onebit/interpreter.h"
#include "onebit/model.h"
#include "synth/bireal.h"

TEST_CASE("bireal18 synthetic: repeated invokes on one input are bit-identical (threads 1 and 2)") {
  onebit::synth::BiRealOptions o;
  o.input_h = o.input_w = 64;
  o.classes = 10;
  o.seed = 4;
  std::vector<uint8_t> bytes;
  REQUIRE(onebit::synth::build_bireal18(o, &bytes).ok());
  std::unique_ptr<onebit::Model> model;
  onebit::Status s = onebit::Model::load_buffer(bytes.data(), bytes.size(), &model);
  REQUIRE_MESSAGE(s.ok(), s.message());

  std::vector<float> input(64 * 64 * 3);
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (float& v : input) v = dist(rng);

  std::vector<float> single;  // threads = 1, first run
  for (int threads : {1, 2}) {
    std::vector<float> reference;
    onebit::InterpreterOptions options;
    options.threads = threads;
    std::unique_ptr<onebit::Interpreter> interp;
    s = onebit::Interpreter::create(*model, options, &interp);
    REQUIRE_MESSAGE(s.ok(), s.message());
    std::memcpy(interp->input(0), input.data(), input.size() * sizeof(float));
    for (int run = 0; run < 4; ++run) {
      s = interp->invoke();
      REQUIRE_MESSAGE(s.ok(), s.message());
      INFO("threads " << threads << " run " << run);
      CHECK(std::memcmp(interp->input(0), input.data(), input.size() * sizeof(float)) == 0);
      const std::vector<float> y(interp->output(0), interp->output(0) + 10);
      if (reference.empty()) reference = y;
      CHECK(std::memcmp(y.data(), reference.data(), y.size() * sizeof(float)) == 0);
    }
    if (single.empty()) single = reference;
    for (size_t k = 0; k < single.size(); ++k) CHECK(reference[k] == doctest::Approx(single[k]).epsilon(1e-4));
  }
}
