// Errors are values: a Status is ok or carries a message a user can act on (which file / operator / field,
// what was expected). Messages are built with Text and num() (text.h), which the Cortex-M build keeps off the heap.
#pragma once

#include <string>
#include <utility>

#include "onebit/text.h"

namespace onebit {

#if !ONEBIT_MCU

class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status Error(std::string message) { return Status(std::move(message)); }

  bool ok() const { return !failed_; }
  const std::string& message() const { return message_; }
  explicit operator bool() const { return ok(); }

 private:
  explicit Status(std::string message) : failed_(true), message_(std::move(message)) {}
  bool failed_ = false;
  std::string message_;
};

#else

/// Cortex-M: a Status is one flag; the message of the most recent error is in one fixed buffer (Text, on
/// no heap), which the next error overwrites. Single-threaded firmware reads it before anything else fails.
class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status Error(const Text& message) {
    last_error_ = message;
    Status s;
    s.failed_ = true;
    return s;
  }

  bool ok() const { return !failed_; }
  const Text& message() const { return failed_ ? last_error_ : no_error_; }
  explicit operator bool() const { return ok(); }

 private:
  bool failed_ = false;
  static inline Text last_error_;
  static inline const Text no_error_;
};

#endif

}  // namespace onebit

/// Evaluates `expr` (a Status) once and returns it from the enclosing function when it failed.
#define ONEBIT_RETURN_IF_ERROR(expr)                                 \
  do {                                                               \
    ::onebit::Status onebit_status_ = (expr);                        \
    if (!onebit_status_.ok()) return onebit_status_;                 \
  } while (0)
