// Shared plumbing of the operators that run through XNNPACK: owns one xnn_operator_t, turns XNNPACK
// status codes into Status messages naming the operator, and runs the operator.
#pragma once

#include "ops/op.h"

/// ONEBIT_XNNPACK(expr): `expr` (an XNNPACK call's Status) on the desktop; Status::Ok() in the Cortex-M build,
/// where no XNNPACK exists and the portable path has always returned before it.
#if ONEBIT_MCU
#define ONEBIT_XNNPACK(...) ::onebit::Status::Ok()
#else
#define ONEBIT_XNNPACK(...) (__VA_ARGS__)
#endif

#if ONEBIT_MCU
namespace onebit::rt {

/// The Cortex-M build has no XNNPACK: float operators always take their portable path
/// (OpContext::portable_float is set), so op_ stays null and the XNNPACK calls are compiled out.
class XnnOp : public Op {
 public:
  Status run(pthreadpool_t) override { return Status::Error("internal: an XNNPACK operator in the Cortex-M build"); }

 protected:
  void* op_ = nullptr;
};

}  // namespace onebit::rt
#else
#include <xnnpack.h>

namespace onebit::rt {

class XnnOp : public Op {
 public:
  ~XnnOp() override {
    if (op_ != nullptr) xnn_delete_operator(op_);
  }
  Status run(pthreadpool_t pool) override {
    const xnn_status s = xnn_run_operator(op_, pool);
    if (s != xnn_status_success) return Status::Error("xnn_run_operator failed (status " + num(int(s)) + ")");
    return Status::Ok();
  }

 protected:
  static Status check(const OpContext& ctx, xnn_status s, const char* call) {
    if (s == xnn_status_success) return Status::Ok();
    return ctx.fail(Text(call) + " failed (XNNPACK status " + num(int(s)) + ")");
  }
  xnn_operator_t op_ = nullptr;
};

}  // namespace onebit::rt
#endif  // ONEBIT_MCU
