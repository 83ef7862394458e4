// What the C API's files share (c_api.cc: errors, models, interpreters; c_api_batch.cc: batches;
// c_api_summary.cc: the per-operator summary): the handles behind the opaque C types, and the error
// machinery every entry point runs in (see c_api.cc's header comment for the contract).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "onebit/interpreter.h"
#include "onebit/model.h"
#include "onebit/onebit.h"

struct onebit_model {
  std::unique_ptr<onebit::Model> model;
  std::mutex macs_lock;  // op_info's MAC counts: made once, by the first caller (a model is shared by threads)
  std::vector<std::pair<int64_t, int64_t>> macs;  // per operator: binary, float
};

struct onebit_interpreter {
  std::unique_ptr<onebit::Model> batched;  // options.batch: the model re-planned for it (outlives `it`)
  std::unique_ptr<onebit::Interpreter> it;
  const onebit::Model* model = nullptr;  // for op_profile without profiling (outlives the interpreter)
  std::vector<size_t> input_sizes, output_sizes;  // element counts, computed once at create
  mutable std::vector<double> median_scratch;     // op_profile's copy of samples_ms (reserved at create)
};

namespace onebit::capi {

void clear_error() noexcept;
void set_error(const char* message) noexcept;
void set_error(const std::string& message) noexcept;
/// The last error is "out of memory" (a static string: for when even storing a message fails).
void set_out_of_memory() noexcept;
/// An argument error: the message is already set when this returns.
onebit_status invalid(const char* function, const std::string& what) noexcept;
onebit_status from_status(const onebit::Status& s) noexcept;
std::string null_arg(const char* name);
std::string out_of_range(size_t i, size_t count, const char* what);
size_t element_count(const std::vector<int>& shape);

/// The model an interpreter for `batch` images runs (options.batch): `model` itself for 0 or its own batch,
/// else `model` re-planned for it, kept in *batched (c_api_batch.cc).
onebit_status batch_model(const char* function, const onebit::Model& model, int batch,
                          std::unique_ptr<onebit::Model>* batched, const onebit::Model** use);

/// Runs `body` (returning an onebit_status) with every exception turned into ONEBIT_ERROR. On success the
/// last error is cleared (body need not).
template <typename F>
onebit_status guard(const char* function, F&& body) noexcept {
  try {
    const onebit_status s = body();
    if (s == ONEBIT_OK) clear_error();
    return s;
  } catch (const std::bad_alloc&) {
    try {
      set_error(std::string(function) + ": out of memory");
    } catch (...) {
      set_out_of_memory();
    }
  } catch (const std::exception& e) {
    try {
      set_error(std::string(function) + ": " + e.what());
    } catch (...) {
      set_out_of_memory();
    }
  } catch (...) {
    try {
      set_error(std::string(function) + ": unknown exception");
    } catch (...) {
      set_out_of_memory();
    }
  }
  return ONEBIT_ERROR;
}

/// guard() for functions returning a value: `fallback` on any failure.
template <typename T, typename F>
T guard_value(const char* function, T fallback, F&& body) noexcept {
  T result = fallback;
  const onebit_status s = guard(function, [&]() -> onebit_status { return body(&result); });
  return s == ONEBIT_OK ? result : fallback;
}

/// A getter: read(*handle), or `fallback` (and the last error set) when `handle` (named `what`) is NULL or
/// anything fails.
template <typename T, typename H, typename F>
T get(const char* function, const H* handle, const char* what, T fallback, F&& read) noexcept {
  return guard_value<T>(function, fallback, [&](T* r) -> onebit_status {
    if (handle == nullptr) return invalid(function, null_arg(what));
    *r = read(*handle);
    return ONEBIT_OK;
  });
}

/// An indexed getter: read(*handle) for i < count(*handle) (`items` names them in the out-of-range message).
template <typename T, typename H, typename C, typename F>
T get_at(const char* function, const H* handle, const char* what, size_t i, const char* items, T fallback,
         C&& count, F&& read) noexcept {
  return guard_value<T>(function, fallback, [&](T* r) -> onebit_status {
    if (handle == nullptr) return invalid(function, null_arg(what));
    const size_t n = count(*handle);
    if (i >= n) return invalid(function, out_of_range(i, n, items));
    *r = read(*handle);
    return ONEBIT_OK;
  });
}

}  // namespace onebit::capi
