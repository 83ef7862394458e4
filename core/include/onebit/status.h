// Errors are values: a Status is ok or carries a message a user can act on (which file / operator / field,
// what was expected).
#pragma once

#include <string>
#include <utility>

namespace onebit {

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

}  // namespace onebit

/// Evaluates `expr` (a Status) once and returns it from the enclosing function when it failed.
#define ONEBIT_RETURN_IF_ERROR(expr)                                 \
  do {                                                               \
    ::onebit::Status onebit_status_ = (expr);                        \
    if (!onebit_status_.ok()) return onebit_status_;                 \
  } while (0)
