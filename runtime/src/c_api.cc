// The C API of onebit/onebit.h over the C++ Model and Interpreter (batches: c_api_batch.cc; the per-operator
// summary: c_api_summary.cc; the handles and the error machinery they share: c_api_internal.h).
//
// Error handling: every entry point runs its body inside guard(), which catches every exception
// (std::bad_alloc becomes "out of memory", anything else its what() or "unknown exception") and returns an
// onebit_status; nothing throws or aborts across the C boundary. Argument checks (null handles, null out
// pointers, indices out of range) are ONEBIT_INVALID_ARGUMENT with a message naming the function and the
// argument. Every call except onebit_last_error, onebit_version and the two destroy functions sets the
// calling thread's last error: to the message on failure, to "" on success (destroy leaves it alone, so a
// caller may clean up before printing the error that made it give up). The message lives in a thread_local std::string; if even
// storing it fails (out of memory), onebit_last_error returns a static "out of memory".
//
// onebit_interpreter_options.struct_size: a field is read only when the caller's struct contains all of it
// (struct_size >= offsetof(field) + sizeof(field)); absent fields keep their defaults. A struct_size smaller
// than offsetof(threads) + sizeof(int) (= sizeof(size_t) + sizeof(int) on every ABI we build for), which
// includes 0, is rejected as ONEBIT_INVALID_ARGUMENT (it has no field at all: most likely an options struct
// that was never passed to onebit_interpreter_options_init). Sizes larger than today's struct are accepted
// (a caller built against a newer header: its extra fields are ignored) up to kMaxOptionsStructSize; beyond
// that the size is garbage, not a newer header, and is rejected as well.
//
// Profiling: onebit_interpreter_op_count is the model's operator count whether or not the interpreter
// profiles. Without profiling, op_profile gives each operator's name, type and output shape (from
// Model::operators()) with zero times, samples and MAC counts (the MAC counts are only known to a
// profiling interpreter). median_ms is the median of OpProfile::samples_ms (the mean of the two middle
// samples for an even count; 0 when there is none).
#include "onebit/onebit.h"

#include "onebit/core/isa.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "c_api_internal.h"
#include "onebit/interpreter.h"
#include "onebit/model.h"

#ifndef ONEBIT_VERSION_STRING
#define ONEBIT_VERSION_STRING "0.1.0"
#endif

namespace {

constexpr size_t kMaxOptionsStructSize = 4096;
static_assert(ONEBIT_ARENA_ALIGNMENT == onebit::InterpreterOptions::kArenaAlignment, "one arena alignment");

thread_local std::string t_error_storage;
thread_local const char* t_error = "";

}  // namespace

namespace onebit::capi {

void clear_error() noexcept {
  t_error_storage.clear();  // never allocates
  t_error = "";
}

void set_error(const char* message) noexcept {
  try {
    t_error_storage.assign(message);
    t_error = t_error_storage.c_str();
  } catch (...) {
    t_error = "out of memory";
  }
}

void set_error(const std::string& message) noexcept { set_error(message.c_str()); }

void set_out_of_memory() noexcept { t_error = "out of memory"; }

onebit_status invalid(const char* function, const std::string& what) noexcept {
  try {
    set_error(std::string(function) + ": " + what);
  } catch (...) {
    t_error = "out of memory";
  }
  return ONEBIT_INVALID_ARGUMENT;
}

onebit_status from_status(const onebit::Status& s) noexcept {
  if (s.ok()) {
    clear_error();
    return ONEBIT_OK;
  }
  set_error(s.message());
  return ONEBIT_ERROR;
}

std::string null_arg(const char* name) { return std::string(name) + " is NULL"; }

std::string out_of_range(size_t i, size_t count, const char* what) {
  return "index " + std::to_string(i) + " out of range (" + std::to_string(count) + " " + what + ")";
}

size_t element_count(const std::vector<int>& shape) {
  size_t n = 1;
  for (int d : shape) n *= size_t(d > 0 ? d : 0);
  return n;
}

}  // namespace onebit::capi

using namespace onebit::capi;  // NOLINT: this file is the C API's implementation

namespace {

/// Shared by input_shape / output_shape.
onebit_status shape_of(const char* function, const onebit_interpreter* interpreter, size_t i, bool input,
                       const int** dims, size_t* rank) {
  if (interpreter == nullptr) return invalid(function, null_arg("interpreter"));
  if (dims == nullptr) return invalid(function, null_arg("dims"));
  if (rank == nullptr) return invalid(function, null_arg("rank"));
  const size_t count = input ? interpreter->it->input_count() : interpreter->it->output_count();
  if (i >= count) return invalid(function, out_of_range(i, count, input ? "inputs" : "outputs"));
  const std::vector<int>& shape =
      input ? interpreter->it->input_info(i).shape : interpreter->it->output_info(i).shape;
  static const int kNoDims[1] = {0};
  *dims = shape.empty() ? kNoDims : shape.data();
  *rank = shape.size();
  return ONEBIT_OK;
}

size_t normalization(const char* function, const onebit_model* model, const float** values, bool mean) {
  return guard_value<size_t>(function, 0, [&](size_t* r) -> onebit_status {
    if (model == nullptr) return invalid(function, null_arg("model"));
    if (values == nullptr) return invalid(function, null_arg("values"));
    const std::vector<float>& v = mean ? model->model->info().input_mean : model->model->info().input_std;
    *values = v.empty() ? nullptr : v.data();
    *r = v.size();
    return ONEBIT_OK;
  });
}

/// The C options (NULL: defaults) as InterpreterOptions: only the fields the caller's struct_size covers.
onebit_status read_options(const char* function, const onebit_interpreter_options* options,
                           onebit::InterpreterOptions* o, int* batch) {
  if (options == nullptr) return ONEBIT_OK;
  const size_t size = options->struct_size;
  constexpr size_t kMin = offsetof(onebit_interpreter_options, threads) + sizeof(int);
  if (size < kMin || size > kMaxOptionsStructSize)
    return invalid(function, "options->struct_size = " + std::to_string(size) +
                                 " is not a size of onebit_interpreter_options (expected " + std::to_string(kMin) +
                                 ".." + std::to_string(kMaxOptionsStructSize) + ", today " +
                                 std::to_string(sizeof(onebit_interpreter_options)) +
                                 "; call onebit_interpreter_options_init first)");
#define ONEBIT_HAS_FIELD(f) (size >= offsetof(onebit_interpreter_options, f) + sizeof(options->f))
  o->threads = options->threads;  // present: checked above
  if (ONEBIT_HAS_FIELD(isa) && options->isa != nullptr) o->isa = options->isa;
  if (ONEBIT_HAS_FIELD(profiling)) o->profiling = options->profiling != 0;
  if (ONEBIT_HAS_FIELD(max_arena_bytes) && options->max_arena_bytes != 0) o->max_arena_bytes = options->max_arena_bytes;
  if (ONEBIT_HAS_FIELD(arena)) o->arena = options->arena;
  if (ONEBIT_HAS_FIELD(arena_size)) o->arena_size = options->arena_size;
  if (ONEBIT_HAS_FIELD(portable_float_kernels)) o->portable_float_kernels = options->portable_float_kernels != 0;
  if (ONEBIT_HAS_FIELD(batch)) *batch = options->batch;
#undef ONEBIT_HAS_FIELD
  return ONEBIT_OK;
}

}  // namespace

extern "C" {

const char* onebit_version(void) { return ONEBIT_VERSION_STRING; }

const char* onebit_isa_name(size_t i) {
  return i < onebit::core::kIsaCount ? onebit::core::isa_name(onebit::core::kAllIsas[i]) : nullptr;
}

const char* onebit_last_error(void) { return t_error; }

/* ---- Model ---- */

onebit_status onebit_model_load_file(const char* path, onebit_model** out) {
  static const char* const kFn = "onebit_model_load_file";
  return guard(kFn, [&]() -> onebit_status {
    if (path == nullptr) return invalid(kFn, null_arg("path"));
    if (out == nullptr) return invalid(kFn, null_arg("out"));
    std::unique_ptr<onebit_model> handle(new onebit_model());
    const onebit::Status s = onebit::Model::load_file(path, &handle->model);
    if (!s.ok()) return from_status(s);
    *out = handle.release();
    return ONEBIT_OK;
  });
}

onebit_status onebit_model_load_buffer(const void* data, size_t size, onebit_model** out) {
  static const char* const kFn = "onebit_model_load_buffer";
  return guard(kFn, [&]() -> onebit_status {
    if (data == nullptr) return invalid(kFn, null_arg("data"));
    if (out == nullptr) return invalid(kFn, null_arg("out"));
    std::unique_ptr<onebit_model> handle(new onebit_model());
    const onebit::Status s = onebit::Model::load_buffer(data, size, &handle->model);
    if (!s.ok()) return from_status(s);
    *out = handle.release();
    return ONEBIT_OK;
  });
}

void onebit_model_destroy(onebit_model* model) {
  delete model;  // ~Model does not throw
}

size_t onebit_model_size_bytes(const onebit_model* model) {
  return get<size_t>("onebit_model_size_bytes", model, "model", 0,
             [&](const onebit_model& h) { return h.model->size_bytes(); });
}

size_t onebit_model_label_count(const onebit_model* model) {
  return get<size_t>("onebit_model_label_count", model, "model", 0,
             [&](const onebit_model& h) { return h.model->info().labels.size(); });
}

const char* onebit_model_label(const onebit_model* model, size_t i) {
  return get_at<const char*>(
      "onebit_model_label", model, "model", i, "labels", nullptr,
      [](const onebit_model& h) { return h.model->info().labels.size(); },
      [&](const onebit_model& h) { return h.model->info().labels[i].c_str(); });
}

size_t onebit_model_input_mean(const onebit_model* model, const float** values) {
  return normalization("onebit_model_input_mean", model, values, true);
}

size_t onebit_model_input_std(const onebit_model* model, const float** values) {
  return normalization("onebit_model_input_std", model, values, false);
}

/* ---- Interpreter ---- */

void onebit_interpreter_options_init(onebit_interpreter_options* options, size_t struct_size) {
  static const char* const kFn = "onebit_interpreter_options_init";
  clear_error();
  if (options == nullptr) {
    invalid(kFn, null_arg("options"));
    return;
  }
  constexpr size_t kMin = offsetof(onebit_interpreter_options, threads) + sizeof(int);
  if (struct_size < kMin || struct_size > kMaxOptionsStructSize) {
    invalid(kFn, "struct_size = " + std::to_string(struct_size) + " is not a size of onebit_interpreter_options (expected " +
                     std::to_string(kMin) + ".." + std::to_string(kMaxOptionsStructSize) + ")");
    return;
  }
  // Only the fields the caller's struct has: a caller built against an older, shorter header passes its own
  // size, and nothing past it is written.
  const onebit_interpreter_options defaults = {sizeof(onebit_interpreter_options), 1, nullptr, 0, 0, nullptr, 0, 0, 0};
  std::memcpy(options, &defaults, std::min(struct_size, sizeof defaults));
  options->struct_size = std::min(struct_size, sizeof defaults);
}

onebit_status onebit_interpreter_create(const onebit_model* model, const onebit_interpreter_options* options,
                                        onebit_interpreter** out) {
  static const char* const kFn = "onebit_interpreter_create";
  return guard(kFn, [&]() -> onebit_status {
    if (model == nullptr) return invalid(kFn, null_arg("model"));
    if (out == nullptr) return invalid(kFn, null_arg("out"));
    onebit::InterpreterOptions o;
    int batch = 0;
    const onebit_status read = read_options(kFn, options, &o, &batch);
    if (read != ONEBIT_OK) return read;
    std::unique_ptr<onebit_interpreter> handle(new onebit_interpreter());
    const onebit_status batched = batch_model(kFn, *model->model, batch, &handle->batched, &handle->model);
    if (batched != ONEBIT_OK) return batched;
    const onebit::Status s = onebit::Interpreter::create(*handle->model, o, &handle->it);
    if (!s.ok()) return from_status(s);
    const onebit::Interpreter& it = *handle->it;
    for (size_t i = 0; i < it.input_count(); ++i) handle->input_sizes.push_back(element_count(it.input_info(i).shape));
    for (size_t i = 0; i < it.output_count(); ++i)
      handle->output_sizes.push_back(element_count(it.output_info(i).shape));
    size_t most_samples = 0;
    for (const onebit::OpProfile& p : it.profile()) most_samples = std::max(most_samples, p.samples_ms.capacity());
    handle->median_scratch.reserve(most_samples);
    *out = handle.release();
    return ONEBIT_OK;
  });
}

onebit_status onebit_interpreter_required_arena_bytes(const onebit_model* model,
                                                      const onebit_interpreter_options* options, size_t* bytes) {
  static const char* const kFn = "onebit_interpreter_required_arena_bytes";
  return guard(kFn, [&]() -> onebit_status {
    if (model == nullptr) return invalid(kFn, null_arg("model"));
    if (bytes == nullptr) return invalid(kFn, null_arg("bytes"));
    onebit::InterpreterOptions o;
    int batch = 0;
    const onebit_status read = read_options(kFn, options, &o, &batch);
    if (read != ONEBIT_OK) return read;
    std::unique_ptr<onebit::Model> batched;
    const onebit::Model* use = nullptr;
    const onebit_status rebatch = batch_model(kFn, *model->model, batch, &batched, &use);
    if (rebatch != ONEBIT_OK) return rebatch;
    size_t needed = 0;
    const onebit::Status s = onebit::Interpreter::required_arena_bytes(*use, o, &needed);
    if (!s.ok()) return from_status(s);
    *bytes = needed;
    return ONEBIT_OK;
  });
}

void onebit_interpreter_destroy(onebit_interpreter* interpreter) {
  delete interpreter;
}

size_t onebit_interpreter_input_count(const onebit_interpreter* interpreter) {
  return get<size_t>("onebit_interpreter_input_count", interpreter, "interpreter", 0,
             [&](const onebit_interpreter& h) { return h.it->input_count(); });
}

size_t onebit_interpreter_output_count(const onebit_interpreter* interpreter) {
  return get<size_t>("onebit_interpreter_output_count", interpreter, "interpreter", 0,
             [&](const onebit_interpreter& h) { return h.it->output_count(); });
}

const char* onebit_interpreter_input_name(const onebit_interpreter* interpreter, size_t i) {
  return get_at<const char*>(
      "onebit_interpreter_input_name", interpreter, "interpreter", i, "inputs", nullptr,
      [](const onebit_interpreter& h) { return h.it->input_count(); },
      [&](const onebit_interpreter& h) { return h.it->input_info(i).name.c_str(); });
}

const char* onebit_interpreter_output_name(const onebit_interpreter* interpreter, size_t i) {
  return get_at<const char*>(
      "onebit_interpreter_output_name", interpreter, "interpreter", i, "outputs", nullptr,
      [](const onebit_interpreter& h) { return h.it->output_count(); },
      [&](const onebit_interpreter& h) { return h.it->output_info(i).name.c_str(); });
}

onebit_status onebit_interpreter_input_shape(const onebit_interpreter* interpreter, size_t i, const int** dims,
                                             size_t* rank) {
  static const char* const kFn = "onebit_interpreter_input_shape";
  return guard(kFn, [&]() { return shape_of(kFn, interpreter, i, true, dims, rank); });
}

onebit_status onebit_interpreter_output_shape(const onebit_interpreter* interpreter, size_t i, const int** dims,
                                              size_t* rank) {
  static const char* const kFn = "onebit_interpreter_output_shape";
  return guard(kFn, [&]() { return shape_of(kFn, interpreter, i, false, dims, rank); });
}

size_t onebit_interpreter_input_size(const onebit_interpreter* interpreter, size_t i) {
  return get_at<size_t>(
      "onebit_interpreter_input_size", interpreter, "interpreter", i, "inputs", 0,
      [](const onebit_interpreter& h) { return h.input_sizes.size(); },
      [&](const onebit_interpreter& h) { return h.input_sizes[i]; });
}

size_t onebit_interpreter_output_size(const onebit_interpreter* interpreter, size_t i) {
  return get_at<size_t>(
      "onebit_interpreter_output_size", interpreter, "interpreter", i, "outputs", 0,
      [](const onebit_interpreter& h) { return h.output_sizes.size(); },
      [&](const onebit_interpreter& h) { return h.output_sizes[i]; });
}

float* onebit_interpreter_input(onebit_interpreter* interpreter, size_t i) {
  return get_at<float*>(
      "onebit_interpreter_input", interpreter, "interpreter", i, "inputs", nullptr,
      [](const onebit_interpreter& h) { return h.it->input_count(); },
      [&](const onebit_interpreter& h) { return h.it->input(i); });
}

const float* onebit_interpreter_output(const onebit_interpreter* interpreter, size_t i) {
  return get_at<const float*>(
      "onebit_interpreter_output", interpreter, "interpreter", i, "outputs", nullptr,
      [](const onebit_interpreter& h) { return h.it->output_count(); },
      [&](const onebit_interpreter& h) { return h.it->output(i); });
}

onebit_status onebit_interpreter_invoke(onebit_interpreter* interpreter) {
  static const char* const kFn = "onebit_interpreter_invoke";
  return guard(kFn, [&]() -> onebit_status {
    if (interpreter == nullptr) return invalid(kFn, null_arg("interpreter"));
    return from_status(interpreter->it->invoke());
  });
}

size_t onebit_interpreter_arena_bytes(const onebit_interpreter* interpreter) {
  return get<size_t>("onebit_interpreter_arena_bytes", interpreter, "interpreter", 0,
             [&](const onebit_interpreter& h) { return h.it->arena_bytes(); });
}

const char* onebit_interpreter_isa(const onebit_interpreter* interpreter) {
  return get<const char*>("onebit_interpreter_isa", interpreter, "interpreter", nullptr,
             [&](const onebit_interpreter& h) { return h.it->isa_name(); });
}

int onebit_interpreter_threads(const onebit_interpreter* interpreter) {
  return get<int>("onebit_interpreter_threads", interpreter, "interpreter", 0,
             [&](const onebit_interpreter& h) { return h.it->threads(); });
}

/* ---- Profiling ---- */

size_t onebit_interpreter_op_count(const onebit_interpreter* interpreter) {
  static const char* const kFn = "onebit_interpreter_op_count";
  return guard_value<size_t>(kFn, 0, [&](size_t* r) -> onebit_status {
    if (interpreter == nullptr) return invalid(kFn, null_arg("interpreter"));
    const size_t profiled = interpreter->it->profile().size();
    *r = profiled != 0 ? profiled : interpreter->model->operators().size();
    return ONEBIT_OK;
  });
}

onebit_status onebit_interpreter_op_profile(const onebit_interpreter* interpreter, size_t i, onebit_op_profile* out) {
  static const char* const kFn = "onebit_interpreter_op_profile";
  return guard(kFn, [&]() -> onebit_status {
    if (interpreter == nullptr) return invalid(kFn, null_arg("interpreter"));
    if (out == nullptr) return invalid(kFn, null_arg("out"));
    static const int kNoDims[1] = {0};
    const std::vector<onebit::OpProfile>& profile = interpreter->it->profile();
    onebit_op_profile r = {};
    if (!profile.empty()) {
      if (i >= profile.size()) return invalid(kFn, out_of_range(i, profile.size(), "operators"));
      const onebit::OpProfile& p = profile[i];
      r.name = p.name.c_str();
      r.type = p.type.c_str();
      r.output_shape = p.output_shape.empty() ? kNoDims : p.output_shape.data();
      r.output_rank = p.output_shape.size();
      r.last_ms = p.last_ms;
      r.samples = p.samples_ms.size();
      if (!p.samples_ms.empty()) {
        std::vector<double>& v = interpreter->median_scratch;
        v.assign(p.samples_ms.begin(), p.samples_ms.end());
        const size_t mid = v.size() / 2;
        std::nth_element(v.begin(), v.begin() + std::ptrdiff_t(mid), v.end());
        double median = v[mid];
        if (v.size() % 2 == 0) median = (median + *std::max_element(v.begin(), v.begin() + std::ptrdiff_t(mid))) / 2;
        r.median_ms = median;
      }
      r.binary_macs = p.binary_macs;
      r.float_macs = p.float_macs;
    } else {
      const std::vector<onebit::OperatorInfo>& ops = interpreter->model->operators();
      if (i >= ops.size()) return invalid(kFn, out_of_range(i, ops.size(), "operators"));
      const onebit::OperatorInfo& op = ops[i];
      r.name = op.name.c_str();
      r.type = op.type.c_str();
      r.output_shape = op.output_shape.empty() ? kNoDims : op.output_shape.data();
      r.output_rank = op.output_shape.size();
    }
    *out = r;
    return ONEBIT_OK;
  });
}

void onebit_interpreter_clear_profile(onebit_interpreter* interpreter) {
  static const char* const kFn = "onebit_interpreter_clear_profile";
  guard(kFn, [&]() -> onebit_status {
    if (interpreter == nullptr) return invalid(kFn, null_arg("interpreter"));
    interpreter->it->clear_profile();
    return ONEBIT_OK;
  });
}

}  // extern "C"
