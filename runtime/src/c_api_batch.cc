// Batches in the C API: an interpreter re-planned for N images (onebit_interpreter_options.batch), and any
// number of images run through an interpreter, its batch at a time (onebit_interpreter_invoke_batch).
//
// Which is faster is measured (bench/RESULTS.md, "Batches (issue 22)"): on the shipped Fashion-MNIST model
// a re-planned batch of 64 is slower than 64 batch-1 invokes (its activations, 64 images of 28x28x32
// floats, no longer fit in the caches, and a 28x28 image already gives the binary GEMM 784 rows per
// weight), so the Python package runs batches through invoke_batch on the model's own batch.
#include <cstring>
#include <string>

#include "c_api_internal.h"
#include "interpreter_batch.h"

namespace onebit::capi {

onebit_status batch_model(const char* function, const onebit::Model& model, int batch,
                          std::unique_ptr<onebit::Model>* batched, const onebit::Model** use) {
  *use = &model;
  if (batch == 0 || batch == onebit::rt::model_batch(model)) return ONEBIT_OK;
  if (batch < 0) return invalid(function, "options->batch = " + std::to_string(batch) + ", expected >= 0");
  std::vector<uint8_t> bytes;
  onebit::Status s = onebit::rt::rebatched_bytes(model, batch, &bytes);
  if (s.ok()) s = onebit::Model::load_buffer(bytes.data(), bytes.size(), batched);
  if (!s.ok()) return from_status(s);
  *use = batched->get();
  return ONEBIT_OK;
}

}  // namespace onebit::capi

namespace {

using namespace onebit::capi;  // NOLINT: the C API's implementation

/// The interpreter's batch (its first input's first dimension), checked against every input and output:
/// each must lead with it, so that image k's values are the k-th slice of each.
onebit_status interpreter_batch(const char* function, const onebit::Interpreter& it, size_t* batch) {
  if (it.input_count() == 0 || it.input_info(0).shape.empty() || it.input_info(0).shape[0] < 1)
    return invalid(function, "the model's first input has no batch dimension");
  const int b = it.input_info(0).shape[0];
  for (int input = 1; input >= 0; --input) {
    const size_t n = input ? it.input_count() : it.output_count();
    for (size_t i = 0; i < n; ++i) {
      const onebit::TensorInfo& t = input ? it.input_info(i) : it.output_info(i);
      if (t.shape.empty() || t.shape[0] != b)
        return invalid(function, std::string(input ? "input" : "output") + " '" + t.name.c_str() +
                                     "' does not lead with the batch " + std::to_string(b) +
                                     ": run it with onebit_interpreter_invoke");
    }
  }
  *batch = size_t(b);
  return ONEBIT_OK;
}

}  // namespace

extern "C" {

int onebit_model_batch(const onebit_model* model) {
  return get<int>("onebit_model_batch", model, "model", 0,
                  [&](const onebit_model& h) { return onebit::rt::model_batch(*h.model); });
}

onebit_status onebit_interpreter_invoke_batch(onebit_interpreter* interpreter, size_t count,
                                              const float* const* inputs, float* const* outputs) {
  static const char* const kFn = "onebit_interpreter_invoke_batch";
  return guard(kFn, [&]() -> onebit_status {
    if (interpreter == nullptr) return invalid(kFn, null_arg("interpreter"));
    onebit::Interpreter& it = *interpreter->it;
    if (count != 0 && inputs == nullptr) return invalid(kFn, null_arg("inputs"));
    if (count != 0 && outputs == nullptr) return invalid(kFn, null_arg("outputs"));
    size_t batch = 0;
    const onebit_status checked = interpreter_batch(kFn, it, &batch);
    if (checked != ONEBIT_OK) return checked;
    for (size_t i = 0; count != 0 && i < it.input_count(); ++i)
      if (inputs[i] == nullptr) return invalid(kFn, "inputs[" + std::to_string(i) + "] is NULL");
    for (size_t i = 0; count != 0 && i < it.output_count(); ++i)
      if (outputs[i] == nullptr) return invalid(kFn, "outputs[" + std::to_string(i) + "] is NULL");
    for (size_t first = 0; first < count; first += batch) {
      const size_t images = count - first < batch ? count - first : batch;  // the last chunk may be partial
      for (size_t i = 0; i < it.input_count(); ++i) {
        const size_t per = interpreter->input_sizes[i] / batch;  // floats per image
        float* to = it.input(i);
        std::memcpy(to, inputs[i] + first * per, images * per * sizeof(float));
        std::memset(to + images * per, 0, (batch - images) * per * sizeof(float));  // padding images
      }
      const onebit::Status s = it.invoke();
      if (!s.ok()) return from_status(s);
      for (size_t i = 0; i < it.output_count(); ++i) {
        const size_t per = interpreter->output_sizes[i] / batch;
        std::memcpy(outputs[i] + first * per, it.output(i), images * per * sizeof(float));
      }
    }
    return ONEBIT_OK;
  });
}

}  // extern "C"
