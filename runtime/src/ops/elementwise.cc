// Element-wise float operators: Add and Mul (XNNPACK, NumPy broadcasting; Add with an output clamp), ReLU /
// Clamp (XNNPACK clamp), PReLU (XNNPACK, per-channel slope), and ChannelAffine (scale and shift per channel,
// an unfolded BatchNorm) as a plain loop split by rows over the pool. "Channel" is the last
// dimension. With OpContext::portable_float, Add, Mul, ReLU / Clamp and PReLU run onebit's portable kernels
// (onebit/kernels/float.h) instead of XNNPACK, split by rows over the pool.
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

/// Add (with its output clamp) or Mul of two tensors with NumPy broadcasting: XNNPACK's add_nd / multiply_nd,
/// or onebit's portable add_f32 / mul_f32. Mul's second input is a per-channel scale [C] (a broadcast along
/// the last dimension) or any tensor that broadcasts with x: XNOR-Net's run-time scale K [N, H, W, 1], or
/// XNOR-Net++'s constant [1, H, W, C] (issue 21). Each output is one float op on its operands either way.
class Broadcast final : public XnnOp {
 public:
  explicit Broadcast(bool mul) : mul_(mul) {}
  Status prepare(const OpContext& ctx) override {
    float lo = -INFINITY, hi = INFINITY;
    if (!mul_) {
      lo = ctx.op->options_as_AddOptions()->clamp_min();
      hi = ctx.op->options_as_AddOptions()->clamp_max();
    }
    a_.assign(ctx.inputs[0]->shape.begin(), ctx.inputs[0]->shape.end());
    b_.assign(ctx.inputs[1]->shape.begin(), ctx.inputs[1]->shape.end());
    if (ctx.portable_float) {
      const Vec<int>&a = ctx.inputs[0]->shape, &b = ctx.inputs[1]->shape;
      if (!kernels::float_add_shape(int(a.size()), a.data(), int(b.size()), b.data(), lo, hi, &portable_))
        return ctx.fail("internal: the portable Add / Mul does not take these shapes");
      return Status::Ok();
    }
    if (mul_)
      return ONEBIT_XNNPACK(check(ctx, xnn_create_multiply_nd_f32(lo, hi, 0, &op_), "xnn_create_multiply_nd_f32"));
    return ONEBIT_XNNPACK(check(ctx, xnn_create_add_nd_f32(lo, hi, 0, &op_), "xnn_create_add_nd_f32"));
  }
  Status bind(const OpContext& ctx, const Vec<const void*>& in, void* out, void*) override {
    a_data_ = static_cast<const float*>(in[0]);
    b_data_ = static_cast<const float*>(in[1]);
    y_ = static_cast<float*>(out);
    if (ctx.portable_float) return Status::Ok();
    if (mul_)
      return ONEBIT_XNNPACK(check(ctx,
                                  xnn_setup_multiply_nd_f32(op_, a_.size(), a_.data(), b_.size(), b_.data(), a_data_,
                                                            b_data_, y_, ctx.pool),
                                  "xnn_setup_multiply_nd_f32"));
    return ONEBIT_XNNPACK(check(ctx,
                                xnn_setup_add_nd_f32(op_, a_.size(), a_.data(), b_.size(), b_.data(), a_data_,
                                                     b_data_, y_, ctx.pool),
                                "xnn_setup_add_nd_f32"));
  }
  Status run(pthreadpool_t pool) override {
    if (op_ != nullptr) return XnnOp::run(pool);
    const size_t row_bytes = size_t(portable_.out[portable_.rank - 1]) * sizeof(float);
    parallel_for(pool, kernels::float_add_rows(portable_), row_bytes, [this](size_t begin, size_t end) {
      if (mul_) kernels::mul_f32(portable_, a_data_, b_data_, y_, begin, end);
      else kernels::add_f32(portable_, a_data_, b_data_, y_, begin, end);
    });
    return Status::Ok();
  }

 private:
  bool mul_;
  Vec<size_t> a_, b_;
  kernels::FloatAdd portable_{};
  const float *a_data_ = nullptr, *b_data_ = nullptr;
  float* y_ = nullptr;
};

/// A float operator over rows of the last dimension (ReLU / Clamp, PReLU, Mul / ChannelAffine, Sigmoid): the
/// derived class's loop over rows [begin, end), split by rows over the pool, or, where the derived class
/// made one in prepare (after shape()) and OpContext::portable_float is off, XNNPACK's operator, set up in
/// setup().
class RowOp : public XnnOp {
 public:
  Status bind(const OpContext& ctx, const Vec<const void*>& in, void* out, void*) override {
    x_ = static_cast<const float*>(in[0]);
    y_ = static_cast<float*>(out);
    return ctx.portable_float ? Status::Ok() : setup(ctx);
  }
  Status run(pthreadpool_t pool) override {
    if (op_ != nullptr) return XnnOp::run(pool);
    parallel_for(pool, rows_, channels_ * sizeof(float), [this](size_t begin, size_t end) { rows(begin, end); });
    return Status::Ok();
  }

 protected:
  void shape(const OpContext& ctx) {
    channels_ = size_t(ctx.inputs[0]->shape.back());
    rows_ = element_count(ctx.inputs[0]->shape) / channels_;
  }
  /// XNNPACK's setup of the operator prepare made; none by default (a plain loop).
  virtual Status setup(const OpContext&) { return Status::Ok(); }
  virtual void rows(size_t begin, size_t end) const = 0;

  size_t channels_ = 0, rows_ = 0;
  const float* x_ = nullptr;
  float* y_ = nullptr;
};

class Clamp final : public RowOp {
 public:
  explicit Clamp(bool relu) : relu_(relu) {}
  Status prepare(const OpContext& ctx) override {
    lo_ = relu_ ? 0.0f : ctx.op->options_as_ClampOptions()->min();
    hi_ = relu_ ? INFINITY : ctx.op->options_as_ClampOptions()->max();
    shape(ctx);
    if (ctx.portable_float) return Status::Ok();
    return ONEBIT_XNNPACK(check(ctx, xnn_create_clamp_nc_f32(channels_, channels_, channels_, lo_, hi_, 0, &op_),
                                "xnn_create_clamp_nc_f32"));
  }

 private:
  Status setup([[maybe_unused]] const OpContext& ctx) override {  // unused without XNNPACK (Cortex-M)
    return ONEBIT_XNNPACK(check(ctx, xnn_setup_clamp_nc_f32(op_, rows_, x_, y_, ctx.pool), "xnn_setup_clamp_nc_f32"));
  }
  void rows(size_t begin, size_t end) const override {
    kernels::clamp_f32((end - begin) * channels_, x_ + begin * channels_, lo_, hi_, y_ + begin * channels_);
  }

  bool relu_;
  float lo_ = 0, hi_ = 0;
};

class PRelu final : public RowOp {
 public:
  Status prepare(const OpContext& ctx) override {
    shape(ctx);
    slope_ = ctx.constant<float>(1);
    if (ctx.portable_float) return Status::Ok();
    return ONEBIT_XNNPACK(check(ctx, xnn_create_prelu_nc_f32(channels_, channels_, channels_, slope_, 0, &op_),
                                "xnn_create_prelu_nc_f32"));
  }

 private:
  Status setup([[maybe_unused]] const OpContext& ctx) override {  // unused without XNNPACK (Cortex-M)
    return ONEBIT_XNNPACK(check(ctx, xnn_setup_prelu_nc_f32(op_, rows_, x_, y_, ctx.pool), "xnn_setup_prelu_nc_f32"));
  }
  void rows(size_t begin, size_t end) const override {
    kernels::prelu_f32(end - begin, channels_, x_ + begin * channels_, slope_, y_ + begin * channels_);
  }

  const float* slope_ = nullptr;
};

/// y = x * scale[c] (+ shift[c]).
class ChannelAffine final : public RowOp {
 public:
  explicit ChannelAffine(bool has_shift) : has_shift_(has_shift) {}
  Status prepare(const OpContext& ctx) override {
    shape(ctx);
    return Status::Ok();
  }
  Status bind(const OpContext& ctx, const Vec<const void*>& in, void* out, void* scratch) override {
    scale_ = static_cast<const float*>(in[1]);
    shift_ = has_shift_ ? static_cast<const float*>(in[2]) : nullptr;
    return RowOp::bind(ctx, in, out, scratch);
  }

 private:
  void rows(size_t begin, size_t end) const override {
    for (size_t r = begin; r < end; ++r) {
      const float* x = x_ + r * channels_;
      float* y = y_ + r * channels_;
      if (shift_ != nullptr) {
        for (size_t c = 0; c < channels_; ++c) y[c] = x[c] * scale_[c] + shift_[c];
      } else {
        for (size_t c = 0; c < channels_; ++c) y[c] = x[c] * scale_[c];
      }
    }
  }

  bool has_shift_;
  const float *scale_ = nullptr, *shift_ = nullptr;
};

/// y = 1 / (1 + exp(-x)) in float.
class Sigmoid final : public RowOp {
 public:
  Status prepare(const OpContext& ctx) override {
    shape(ctx);
    return Status::Ok();
  }

 private:
  void rows(size_t begin, size_t end) const override {
    for (size_t i = begin * channels_; i < end * channels_; ++i) y_[i] = 1.0f / (1.0f + std::exp(-x_[i]));
  }
};

}  // namespace

namespace {
// Two Float32 inputs with NumPy broadcasting, shapes aligned at the last dimension.
Status check_broadcast(const ValidateContext& c) {
  ONEBIT_RETURN_IF_ERROR(c.count(2, 2));
  ONEBIT_RETURN_IF_ERROR(c.dtype(0, fb::DType::Float32));
  ONEBIT_RETURN_IF_ERROR(c.dtype(1, fb::DType::Float32));
  const Vec<int>& a = c.in(0).shape;
  const Vec<int>& b = c.in(1).shape;
  Vec<int> out;
  if (!core::broadcast_shapes(a, b, &out))
    return c.fail("inputs " + shape_string(a) + " and " + shape_string(b) + " do not broadcast");
  return c.output(fb::DType::Float32, out);
}
}  // namespace

Status validate_add(const ValidateContext& c) {
  const auto& o = *c.op().options_as_AddOptions();
  ONEBIT_RETURN_IF_ERROR(c.clamp(o.clamp_min(), o.clamp_max()));
  return check_broadcast(c);
}
std::unique_ptr<Op> make_add() { return std::make_unique<Broadcast>(false); }

// A scale of rank 1 is per channel, [C] (what every file before issue 21 holds, checked as before); any other
// second input broadcasts with x as Add's do (issue 21).
Status validate_mul(const ValidateContext& c) {
  if (c.inputs() == 2 && c.in(1).shape.size() == 1) return check_channelwise(c, 1, false);
  return check_broadcast(c);
}
std::unique_ptr<Op> make_mul() { return std::make_unique<Broadcast>(true); }

Status validate_channel_affine(const ValidateContext& c) { return check_channelwise(c, 2, false); }
std::unique_ptr<Op> make_channel_affine() { return std::make_unique<ChannelAffine>(true); }

Status validate_relu(const ValidateContext& c) { return check_channelwise(c, 0, false); }
std::unique_ptr<Op> make_relu() { return std::make_unique<Clamp>(true); }

Status validate_prelu(const ValidateContext& c) { return check_channelwise(c, 1, true); }
std::unique_ptr<Op> make_prelu() { return std::make_unique<PRelu>(); }

Status validate_clamp(const ValidateContext& c) {
  const auto& o = *c.op().options_as_ClampOptions();
  ONEBIT_RETURN_IF_ERROR(c.clamp(o.min(), o.max()));
  return check_channelwise(c, 0, false);
}
std::unique_ptr<Op> make_clamp() { return std::make_unique<Clamp>(false); }

Status validate_sigmoid(const ValidateContext& c) { return check_channelwise(c, 0, false); }
std::unique_ptr<Op> make_sigmoid() { return std::make_unique<Sigmoid>(); }

}  // namespace onebit::rt
