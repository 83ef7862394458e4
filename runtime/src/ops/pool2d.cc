// MaxPool2D / AvgPool2D through XNNPACK, and GlobalAvgPool. XNNPACK's average pooling divides by the number
// of real (non-padded) taps, i.e. count_include_pad = false. For count_include_pad = true with padding, for
// windows XNNPACK refuses (e.g. 1x1) and with OpContext::portable_float, onebit's portable kernels
// (onebit/kernels/float.h) run instead, split by output rows over the pool. GlobalAvgPool is XNNPACK's
// (which splits over the batch only: a batch of 1 runs on one thread), or the portable kernel.
#include <algorithm>
#include <cmath>

#include "onebit/kernels/float.h"

#include "onebit/pool.h"
#include "ops/op_table.h"
#include "ops/parallel.h"
#include "ops/xnn_op.h"
#include "validate.h"

namespace onebit::rt {
namespace {

/// kMax: MaxPool2D, else AvgPool2D (a class each, so that a program registering one links one kernel).
template <bool kMax>
class Pool2D final : public XnnOp {
 public:

  Status prepare(const OpContext& ctx) override {
    const fb::Pool2DOptions& o =
        kMax ? *ctx.op->options_as_MaxPool2DOptions() : *ctx.op->options_as_AvgPool2DOptions();
    const Vec<int>& x = ctx.inputs[0]->shape;
    const Vec<int>& y = ctx.output->shape;
    s_ = {x[0], x[1], x[2], x[3], y[1], y[2], o.kernel_h(), o.kernel_w(), o.stride_h(), o.stride_w(), o.pad_top(),
          o.pad_left()};
    include_pad_ = !kMax && o.count_include_pad();
    const bool padded = o.pad_top() || o.pad_left() || o.pad_bottom() || o.pad_right();
    if (ctx.portable_float || (include_pad_ && padded)) return Status::Ok();  // (XNNPACK excludes padding)
#if !ONEBIT_MCU
    const uint32_t pt = uint32_t(o.pad_top()), pr = uint32_t(o.pad_right()), pb = uint32_t(o.pad_bottom()),
                   pl = uint32_t(o.pad_left()), kh = uint32_t(o.kernel_h()), kw = uint32_t(o.kernel_w()),
                   sh = uint32_t(o.stride_h()), sw = uint32_t(o.stride_w());
    const size_t c = size_t(x[3]);
    const xnn_status st =
        kMax ? xnn_create_max_pooling2d_nhwc_f32(pt, pr, pb, pl, kh, kw, sh, sw, 1, 1, c, c, c, -INFINITY, INFINITY, 0,
                                                 &op_)
             : xnn_create_average_pooling2d_nhwc_f32(pt, pr, pb, pl, kh, kw, sh, sw, c, c, c, -INFINITY, INFINITY, 0,
                                                     &op_);
    if (st != xnn_status_success) op_ = nullptr;  // a window XNNPACK does not take (e.g. 1x1): plain loop
    if (op_ != nullptr) workspace_bytes = xnn_indirection_bytes(y[0], y[1], y[2], o.kernel_h(), o.kernel_w());
#endif
    return Status::Ok();
  }

  Status bind(const OpContext& ctx, const Vec<const void*>& in, void* out, void*) override {
    x_ = static_cast<const float*>(in[0]);
    y_ = static_cast<float*>(out);
    if (op_ == nullptr) return Status::Ok();
#if ONEBIT_MCU
    (void)ctx;
    return Status::Ok();
#else
    const size_t n = size_t(s_.batch), h = size_t(s_.in_h), w = size_t(s_.in_w);
    return kMax ? check(ctx, xnn_setup_max_pooling2d_nhwc_f32(op_, n, h, w, x_, y_, ctx.pool),
                        "xnn_setup_max_pooling2d_nhwc_f32")
                : check(ctx, xnn_setup_average_pooling2d_nhwc_f32(op_, n, h, w, x_, y_, ctx.pool),
                        "xnn_setup_average_pooling2d_nhwc_f32");
#endif
  }

  Status run(pthreadpool_t pool) override {
    if (op_ != nullptr) return XnnOp::run(pool);
    const size_t rows = size_t(s_.batch) * size_t(s_.out_h);
    parallel_for(pool, rows, size_t(s_.out_w) * size_t(s_.channels) * sizeof(float), [this](size_t begin, size_t end) {
      if (kMax)
        kernels::max_pool2d_f32(s_, x_, y_, int(begin), int(end));
      else
        kernels::avg_pool2d_f32(s_, include_pad_, x_, y_, int(begin), int(end));
    });
    return Status::Ok();
  }

 private:
  bool include_pad_ = false;
  kernels::FloatPool2D s_{};
  const float* x_ = nullptr;
  float* y_ = nullptr;
};

class GlobalAvgPool final : public XnnOp {
 public:
  Status prepare(const OpContext& ctx) override {
    const Vec<int>& x = ctx.inputs[0]->shape;
    batch_ = size_t(x[0]);
    pixels_ = size_t(x[1]) * size_t(x[2]);
    channels_ = size_t(x[3]);
    if (ctx.portable_float) return Status::Ok();
    return ONEBIT_XNNPACK(check(ctx,
                                xnn_create_global_average_pooling_nwc_f32(channels_, channels_, channels_, -INFINITY,
                                                                          INFINITY, 0, &op_),
                                "xnn_create_global_average_pooling_nwc_f32"));
  }
  Status bind(const OpContext& ctx, const Vec<const void*>& in, void* out, void*) override {
    x_ = static_cast<const float*>(in[0]);
    y_ = static_cast<float*>(out);
    if (ctx.portable_float) return Status::Ok();
    return ONEBIT_XNNPACK(check(ctx, xnn_setup_global_average_pooling_nwc_f32(op_, batch_, pixels_, x_, y_, ctx.pool),
                                "xnn_setup_global_average_pooling_nwc_f32"));
  }
  Status run(pthreadpool_t pool) override {
    if (op_ != nullptr) return XnnOp::run(pool);
    kernels::global_avg_pool_f32(int(batch_), int(pixels_), int(channels_), x_, y_);
    return Status::Ok();
  }

 private:
  size_t batch_ = 0, pixels_ = 0, channels_ = 0;
  const float* x_ = nullptr;
  float* y_ = nullptr;
};

}  // namespace

Status validate_max_pool2d(const ValidateContext& c) {
  return check_pool(c, pool_window(*c.op().options_as_MaxPool2DOptions()), fb::DType::Float32);
}
std::unique_ptr<Op> make_max_pool2d() { return std::make_unique<Pool2D<true>>(); }

Status validate_avg_pool2d(const ValidateContext& c) {
  return check_pool(c, pool_window(*c.op().options_as_AvgPool2DOptions()), fb::DType::Float32);
}
std::unique_ptr<Op> make_avg_pool2d() { return std::make_unique<Pool2D<false>>(); }

Status validate_global_avg_pool(const ValidateContext& c) {
  ONEBIT_RETURN_IF_ERROR(c.count(1, 1));
  ONEBIT_RETURN_IF_ERROR(c.dtype(0, fb::DType::Float32));
  ONEBIT_RETURN_IF_ERROR(c.rank(0, 4));
  return c.output(fb::DType::Float32, {c.in(0).shape[0], c.in(0).shape[3]});
}
std::unique_ptr<Op> make_global_avg_pool() { return std::make_unique<GlobalAvgPool>(); }

}  // namespace onebit::rt
