// Test helper shared by the suites: load a serialized model, run it once on one float input, return its
// first output. Fails the calling test case (doctest REQUIRE) on any error.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "onebit/interpreter.h"
#include "onebit/model.h"

namespace onebit::testing {

inline std::vector<float> run_model(const std::vector<uint8_t>& bytes, const std::vector<float>& input_nhwc,
                                    const InterpreterOptions& options = InterpreterOptions()) {
  std::unique_ptr<Model> model;
  Status s = Model::load_buffer(bytes.data(), bytes.size(), &model);
  REQUIRE_MESSAGE(s.ok(), s.message());
  std::unique_ptr<Interpreter> interp;
  s = Interpreter::create(*model, options, &interp);
  REQUIRE_MESSAGE(s.ok(), s.message());
  REQUIRE(interp->input_count() == 1);
  std::copy(input_nhwc.begin(), input_nhwc.end(), interp->input(0));
  s = interp->invoke();
  REQUIRE_MESSAGE(s.ok(), s.message());
  size_t n = 1;
  for (int d : interp->output_info(0).shape) n *= size_t(d);
  return std::vector<float>(interp->output(0), interp->output(0) + n);
}

}  // namespace onebit::testing
