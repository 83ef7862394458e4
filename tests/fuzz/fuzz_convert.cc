// libFuzzer target: untrusted ONNX bytes -> onebit::converter::convert_onnx_bytes. Errors are fine; a crash,
// a sanitizer report, an uncaught exception, or a converted model that the runtime's loader rejects are not.
// The structure-aware mutator is in onnx_mutator.cc. Options vary with a hash of the input (sign(0) policy,
// float reference, strict, batch), so every code path of the options is reached by the same corpus.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <unordered_set>

#include <onnx/onnx_pb.h>

#include "convert.h"
#include "onebit/model.h"

namespace {

// ONEBIT_FUZZ_SKIP_OPEN_FINDINGS=1 (long local runs only, never the test command): inputs of an open
// finding's class are skipped so a run is not spent rediscovering it (tests/fuzz/regressions/README.md).
// Finding 1: a node input that nothing defines crashes ONNX shape inference.
bool open_finding(const std::string& bytes) {
  static const bool skip = std::getenv("ONEBIT_FUZZ_SKIP_OPEN_FINDINGS") != nullptr;
  if (!skip) return false;
  onnx::ModelProto m;
  if (!m.ParseFromString(bytes)) return false;
  std::unordered_set<std::string> defined;
  for (const auto& v : m.graph().input()) defined.insert(v.name());
  for (const auto& t : m.graph().initializer()) defined.insert(t.name());
  for (const auto& n : m.graph().node())
    for (const auto& o : n.output()) defined.insert(o);
  for (const auto& n : m.graph().node())
    for (const auto& i : n.input())
      if (!i.empty() && defined.count(i) == 0) return true;
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  if (open_finding(bytes)) return 0;
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < size; i += 1 + size / 64) h = (h ^ data[i]) * 16777619u;

  onebit::converter::ConvertOptions options;
  options.sign_zero = (h & 1) ? onebit::converter::SignZero::kPlusOne : onebit::converter::SignZero::kError;
  options.float_reference = (h & 6) == 6;
  options.strict = (h & 24) == 24;
  options.batch = (h & 96) == 96 ? 2 : 0;
  onebit::converter::ConvertResult result;
  const onebit::Status s = onebit::converter::convert_onnx_bytes(bytes, "fuzz.onnx", options, &result);
  if (!s.ok()) {
    if (s.message().empty()) {
      std::fprintf(stderr, "fuzz_convert: an error without a message\n");
      std::abort();
    }
    return 0;
  }
  // What the converter writes must be a model the runtime accepts.
  std::unique_ptr<onebit::Model> model;
  const onebit::Status load = onebit::Model::load_buffer(result.model.data(), result.model.size(), &model);
  if (!load.ok()) {
    std::fprintf(stderr, "fuzz_convert: the converted model does not load: %s\n", load.message().c_str());
    std::abort();
  }
  return 0;
}
