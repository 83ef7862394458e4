// Shared plumbing of the operators that run through XNNPACK: owns one xnn_operator_t, turns XNNPACK
// status codes into Status messages naming the operator, and runs the operator.
#pragma once

#include <xnnpack.h>

#include "ops/op.h"

namespace onebit::rt {

class XnnOp : public Op {
 public:
  ~XnnOp() override {
    if (op_ != nullptr) xnn_delete_operator(op_);
  }
  Status run(pthreadpool_t pool) override {
    const xnn_status s = xnn_run_operator(op_, pool);
    if (s != xnn_status_success) return Status::Error("xnn_run_operator failed (status " + std::to_string(int(s)) + ")");
    return Status::Ok();
  }

 protected:
  static Status check(const OpContext& ctx, xnn_status s, const char* call) {
    if (s == xnn_status_success) return Status::Ok();
    return ctx.fail(std::string(call) + " failed (XNNPACK status " + std::to_string(int(s)) + ")");
  }
  xnn_operator_t op_ = nullptr;
};

}  // namespace onebit::rt
