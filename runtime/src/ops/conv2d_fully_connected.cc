// Conv2D: XNNPACK convolution, NHWC input, OHWI weights (I = C / groups), optional bias, output clamp.
#include "ops/op_table.h"
#include "ops/xnn_op.h"
#include "validate.h"

namespace onebit::rt {
namespace {

class Conv2D final : public XnnOp {
 public:
  Status prepare(const OpContext& ctx) override {
    const fb::Conv2DOptions& o = *ctx.op->options_as_Conv2DOptions();
    const std::vector<int>& x = ctx.inputs[0]->shape;
    const std::vector<int>& y = ctx.output->shape;
    batch_ = size_t(x[0]);
    in_h_ = size_t(x[1]);
    in_w_ = size_t(x[2]);
    const size_t groups = size_t(o.groups());
    const size_t in_c = size_t(x[3]), out_c = size_t(y[3]);
    const float* bias = ctx.inputs.size() > 2 ? ctx.constant<float>(2) : nullptr;
    float_macs = int64_t(y[0]) * y[1] * y[2] * int64_t(out_c) * o.kernel_h() * o.kernel_w() * int64_t(in_c / groups);
    workspace_bytes = xnn_indirection_bytes(y[0], y[1], y[2], o.kernel_h(), o.kernel_w());
    return check(ctx,
                 xnn_create_convolution2d_nhwc_f32(
                     uint32_t(o.pad_top()), uint32_t(o.pad_right()), uint32_t(o.pad_bottom()), uint32_t(o.pad_left()),
                     uint32_t(o.kernel_h()), uint32_t(o.kernel_w()), uint32_t(o.stride_h()), uint32_t(o.stride_w()),
                     uint32_t(o.dilation_h()), uint32_t(o.dilation_w()), uint32_t(groups), in_c / groups,
                     out_c / groups, in_c, out_c, ctx.constant<float>(1), bias, o.clamp_min(), o.clamp_max(), 0, &op_),
                 "xnn_create_convolution2d_nhwc_f32");
  }
  Status bind(const OpContext& ctx, const std::vector<const void*>& in, void* out, void*) override {
    return check(ctx,
                 xnn_setup_convolution2d_nhwc_f32(op_, batch_, in_h_, in_w_, static_cast<const float*>(in[0]),
                                                  static_cast<float*>(out), ctx.pool),
                 "xnn_setup_convolution2d_nhwc_f32");
  }

 private:
  size_t batch_ = 0, in_h_ = 0, in_w_ = 0;
};

class FullyConnected final : public XnnOp {
 public:
  Status prepare(const OpContext& ctx) override {
    const fb::FullyConnectedOptions& o = *ctx.op->options_as_FullyConnectedOptions();
    batch_ = size_t(ctx.inputs[0]->shape[0]);
    const size_t in_c = size_t(ctx.inputs[0]->shape[1]), out_c = size_t(ctx.output->shape[1]);
    const float* bias = ctx.inputs.size() > 2 ? ctx.constant<float>(2) : nullptr;
    float_macs = int64_t(batch_) * int64_t(in_c) * int64_t(out_c);
    return check(ctx,
                 xnn_create_fully_connected_nc_f32(in_c, out_c, in_c, out_c, ctx.constant<float>(1), bias,
                                                   o.clamp_min(), o.clamp_max(), 0, &op_),
                 "xnn_create_fully_connected_nc_f32");
  }
  Status bind(const OpContext& ctx, const std::vector<const void*>& in, void* out, void*) override {
    return check(ctx,
                 xnn_setup_fully_connected_nc_f32(op_, batch_, static_cast<const float*>(in[0]),
                                                  static_cast<float*>(out), ctx.pool),
                 "xnn_setup_fully_connected_nc_f32");
  }

 private:
  size_t batch_ = 0;
};

}  // namespace

Status validate_conv2d(const ValidateContext& c) {
  const auto& o = *c.op().options_as_Conv2DOptions();
  ONEBIT_RETURN_IF_ERROR(c.clamp(o.clamp_min(), o.clamp_max()));
  return check_conv(c, conv_window(o), o.groups(), fb::DType::Float32, fb::DType::Float32, 0, 1);
}
std::unique_ptr<Op> make_conv2d() { return std::make_unique<Conv2D>(); }

Status validate_fully_connected(const ValidateContext& c) {
  const auto& o = *c.op().options_as_FullyConnectedOptions();
  ONEBIT_RETURN_IF_ERROR(c.clamp(o.clamp_min(), o.clamp_max()));
  return check_fc(c, fb::DType::Float32, fb::DType::Float32, 0, 1);
}
std::unique_ptr<Op> make_fully_connected() { return std::make_unique<FullyConnected>(); }

}  // namespace onebit::rt
