// libFuzzer target: untrusted ONNX bytes -> onebit::converter::convert_onnx_bytes. Errors are fine; a crash,
// a sanitizer report, an uncaught exception, or a converted model that the runtime's loader rejects are not.
// The structure-aware mutator is in onnx_mutator.cc. Options vary with a hash of the input (sign(0) policy,
// float reference, strict, batch), so every code path of the options is reached by the same corpus.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include <onnx/onnx_pb.h>

#include "convert.h"
#include "onebit/model.h"

namespace {

// ONEBIT_FUZZ_SKIP_OPEN_FINDINGS=1 (long local runs only, never the test command): inputs of an open
// finding's class are skipped so a run is not spent rediscovering it (tests/fuzz/regressions/README.md).
// Finding 1: a Shape node at opset >= 15 whose input has no type (an undefined name, or the output of a node
// whose type ONNX cannot infer) crashes ONNX shape inference.
bool open_finding(const std::string& bytes) {
  static const bool skip = std::getenv("ONEBIT_FUZZ_SKIP_OPEN_FINDINGS") != nullptr;
  if (!skip) return false;
  onnx::ModelProto m;
  if (!m.ParseFromString(bytes)) return false;
  bool opset15 = m.opset_import_size() == 0;
  for (const auto& o : m.opset_import()) opset15 = opset15 || o.version() >= 15 || o.version() <= 0;
  if (!opset15) return false;
  for (const auto& n : m.graph().node())
    if (n.op_type() == "Shape") return true;
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
  // A quarter of the default fold budget: the same checks, and an input that spends all of it (2^26 element
  // operations on up to 64 MiB of constants) takes seconds under ASan, not the 25 s of a timeout finding.
  options.max_fold_bytes = onebit::converter::kDefaultMaxFoldBytes / 4;
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
