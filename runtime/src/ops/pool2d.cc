// MaxPool2D / AvgPool2D through XNNPACK, and GlobalAvgPool. XNNPACK's average pooling divides by the number
// of real (non-padded) taps, i.e. count_include_pad = false. For count_include_pad = true with padding, and
// for windows XNNPACK refuses (e.g. 1x1), a plain loop runs instead, split by output rows over the pool.
// GlobalAvgPool is XNNPACK's (which splits over the batch only: a batch of 1 runs on one thread).
#include <algorithm>
#include <cmath>

#include "ops/op_table.h"
#include "ops/parallel.h"
#include "ops/xnn_op.h"
#include "validate.h"

namespace onebit::rt {
namespace {

struct PoolShape {
  int batch, in_h, in_w, channels, out_h, out_w;
  int kernel_h, kernel_w, stride_h, stride_w, pad_top, pad_left;
};

/// Plain NHWC pooling of output rows [begin, end) (numbered over batch * out_h): max ignores padded taps;
/// average divides by the window's real taps, or by the full kernel area when count_include_pad (padded
/// taps count as zeros).
void pool_rows(const PoolShape& p, bool max, bool count_include_pad, const float* x, float* y, size_t begin,
               size_t end) {
  for (size_t row = begin; row < end; ++row) {
    const int n = int(row / size_t(p.out_h)), oh = int(row % size_t(p.out_h));
    for (int ow = 0; ow < p.out_w; ++ow) {
      const int h0 = oh * p.stride_h - p.pad_top, w0 = ow * p.stride_w - p.pad_left;
      const int hb = std::max(h0, 0), he = std::min(h0 + p.kernel_h, p.in_h);
      const int wb = std::max(w0, 0), we = std::min(w0 + p.kernel_w, p.in_w);
      float* out = y + ((size_t(n) * p.out_h + oh) * p.out_w + ow) * p.channels;
      for (int c = 0; c < p.channels; ++c) {
        float acc = max ? -INFINITY : 0.0f;
        for (int h = hb; h < he; ++h) {
          for (int w = wb; w < we; ++w) {
            const float v = x[((size_t(n) * p.in_h + h) * p.in_w + w) * p.channels + c];
            acc = max ? std::max(acc, v) : acc + v;
          }
        }
        if (!max) acc /= float(count_include_pad ? p.kernel_h * p.kernel_w : (he - hb) * (we - wb));
        out[c] = acc;
      }
    }
  }
}

class Pool2D final : public XnnOp {
 public:
  explicit Pool2D(bool max) : max_(max) {}

  Status prepare(const OpContext& ctx) override {
    const fb::Pool2DOptions& o =
        max_ ? *ctx.op->options_as_MaxPool2DOptions() : *ctx.op->options_as_AvgPool2DOptions();
    const std::vector<int>& x = ctx.inputs[0]->shape;
    const std::vector<int>& y = ctx.output->shape;
    s_ = {x[0], x[1], x[2], x[3], y[1], y[2], o.kernel_h(), o.kernel_w(), o.stride_h(), o.stride_w(), o.pad_top(),
          o.pad_left()};
    include_pad_ = !max_ && o.count_include_pad();
    const bool padded = o.pad_top() || o.pad_left() || o.pad_bottom() || o.pad_right();
    if (include_pad_ && padded) return Status::Ok();  // XNNPACK excludes padding: plain loop
    const uint32_t pt = uint32_t(o.pad_top()), pr = uint32_t(o.pad_right()), pb = uint32_t(o.pad_bottom()),
                   pl = uint32_t(o.pad_left()), kh = uint32_t(o.kernel_h()), kw = uint32_t(o.kernel_w()),
                   sh = uint32_t(o.stride_h()), sw = uint32_t(o.stride_w());
    const size_t c = size_t(x[3]);
    const xnn_status st =
        max_ ? xnn_create_max_pooling2d_nhwc_f32(pt, pr, pb, pl, kh, kw, sh, sw, 1, 1, c, c, c, -INFINITY, INFINITY, 0,
                                                 &op_)
             : xnn_create_average_pooling2d_nhwc_f32(pt, pr, pb, pl, kh, kw, sh, sw, c, c, c, -INFINITY, INFINITY, 0,
                                                     &op_);
    if (st != xnn_status_success) op_ = nullptr;  // a window XNNPACK does not take (e.g. 1x1): plain loop
    if (op_ != nullptr) workspace_bytes = xnn_indirection_bytes(y[0], y[1], y[2], o.kernel_h(), o.kernel_w());
    return Status::Ok();
  }

  Status bind(const OpContext& ctx, const std::vector<const void*>& in, void* out, void*) override {
    x_ = static_cast<const float*>(in[0]);
    y_ = static_cast<float*>(out);
    if (op_ == nullptr) return Status::Ok();
    const size_t n = size_t(s_.batch), h = size_t(s_.in_h), w = size_t(s_.in_w);
    return max_ ? check(ctx, xnn_setup_max_pooling2d_nhwc_f32(op_, n, h, w, x_, y_, ctx.pool),
                        "xnn_setup_max_pooling2d_nhwc_f32")
                : check(ctx, xnn_setup_average_pooling2d_nhwc_f32(op_, n, h, w, x_, y_, ctx.pool),
                        "xnn_setup_average_pooling2d_nhwc_f32");
  }

  Status run(pthreadpool_t pool) override {
    if (op_ != nullptr) return XnnOp::run(pool);
    const size_t rows = size_t(s_.batch) * size_t(s_.out_h);
    parallel_for(pool, rows, size_t(s_.out_w) * size_t(s_.channels) * sizeof(float), [this](size_t begin, size_t end) {
      pool_rows(s_, max_, include_pad_, x_, y_, begin, end);
    });
    return Status::Ok();
  }

 private:
  bool max_;
  bool include_pad_ = false;
  PoolShape s_{};
  const float* x_ = nullptr;
  float* y_ = nullptr;
};

class GlobalAvgPool final : public XnnOp {
 public:
  Status prepare(const OpContext& ctx) override {
    const std::vector<int>& x = ctx.inputs[0]->shape;
    batch_ = size_t(x[0]);
    pixels_ = size_t(x[1]) * size_t(x[2]);
    const size_t c = size_t(x[3]);
    return check(ctx, xnn_create_global_average_pooling_nwc_f32(c, c, c, -INFINITY, INFINITY, 0, &op_),
                 "xnn_create_global_average_pooling_nwc_f32");
  }
  Status bind(const OpContext& ctx, const std::vector<const void*>& in, void* out, void*) override {
    return check(ctx,
                 xnn_setup_global_average_pooling_nwc_f32(op_, batch_, pixels_, static_cast<const float*>(in[0]),
                                                          static_cast<float*>(out), ctx.pool),
                 "xnn_setup_global_average_pooling_nwc_f32");
  }

 private:
  size_t batch_ = 0, pixels_ = 0;
};

}  // namespace

Status validate_max_pool2d(const ValidateContext& c) {
  return check_pool(c, pool_window(*c.op().options_as_MaxPool2DOptions()), fb::DType::Float32);
}
std::unique_ptr<Op> make_max_pool2d() { return std::make_unique<Pool2D>(true); }

Status validate_avg_pool2d(const ValidateContext& c) {
  return check_pool(c, pool_window(*c.op().options_as_AvgPool2DOptions()), fb::DType::Float32);
}
std::unique_ptr<Op> make_avg_pool2d() { return std::make_unique<Pool2D>(false); }

Status validate_global_avg_pool(const ValidateContext& c) {
  ONEBIT_RETURN_IF_ERROR(c.count(1, 1));
  ONEBIT_RETURN_IF_ERROR(c.dtype(0, fb::DType::Float32));
  ONEBIT_RETURN_IF_ERROR(c.rank(0, 4));
  return c.output(fb::DType::Float32, {c.in(0).shape[0], c.in(0).shape[3]});
}
std::unique_ptr<Op> make_global_avg_pool() { return std::make_unique<GlobalAvgPool>(); }

}  // namespace onebit::rt
