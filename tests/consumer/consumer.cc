// A program built against an installed onebit with the C++ API (tests/consumer, scripts/package-test).
// Usage: consumer_cxx MODEL.fb   Prints "argmax <class> isa <path>" for an input filled with 0.5.
#include <cstdio>
#include <memory>

#include <onebit/interpreter.h>
#include <onebit/model.h>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s MODEL.fb\n", argv[0]);
    return 2;
  }
  std::unique_ptr<onebit::Model> model;
  if (onebit::Status s = onebit::Model::load_file(argv[1], &model); !s.ok()) {
    std::fprintf(stderr, "consumer_cxx: %s\n", s.message().c_str());
    return 1;
  }
  std::unique_ptr<onebit::Interpreter> it;
  if (onebit::Status s = onebit::Interpreter::create(*model, onebit::InterpreterOptions{}, &it); !s.ok()) {
    std::fprintf(stderr, "consumer_cxx: %s\n", s.message().c_str());
    return 1;
  }
  size_t n = 1;
  for (int d : it->input_info(0).shape) n *= static_cast<size_t>(d);
  float* in = it->input(0);
  for (size_t i = 0; i < n; ++i) in[i] = 0.5f;
  if (onebit::Status s = it->invoke(); !s.ok()) {
    std::fprintf(stderr, "consumer_cxx: %s\n", s.message().c_str());
    return 1;
  }
  size_t classes = 1;
  for (int d : it->output_info(0).shape) classes *= static_cast<size_t>(d);
  const float* out = it->output(0);
  size_t best = 0;
  for (size_t i = 1; i < classes; ++i)
    if (out[i] > out[best]) best = i;
  std::printf("argmax %zu isa %s\n", best, it->isa_name());
  return 0;
}
