// Conv2D: XNNPACK convolution, NHWC input, OHWI weights (I = C / groups), optional bias, output clamp.
// FullyConnected: XNNPACK fully connected, [O, I] weights.
// Both also take 1-bit weights (BinaryConnect / BWN, schema Conv2DOptions comment): BitPacked Binary weights
// plus a 4th input weight_scale [O], meaning weight = weight_scale[o] * (1 - 2 * bit). On XNNPACK, prepare()
// expands them to float once and creates the same XNNPACK operator as for float weights (XNNPACK packs its
// own copy at create, so the expanded array is freed right after); the file keeps 1 bit per weight.
// Float16 weights (--float16-weights) are expanded the same way (exactly: every binary16 is a float).
// Int8 weights + weight_scale with options `int8` run the int8 path of ops/int8_layer.h instead, or, where
// the static per-ISA rules of int8_route.cc say int8 is slower on this CPU, the float path on the weights
// dequantized once at prepare (q * weight_scale[o]); Op::route reports which.
// Few input channels (kernels::stem_supported: the full-precision stem of binary networks) run onebit's stem
// ukernels instead of XNNPACK when this CPU has a vector one: prepare() packs the float weights (expanded as
// for XNNPACK) and bias once into the ukernel's layout; split by output rows. Chosen by the CPU, like
// XNNPACK's kernels, not by InterpreterOptions::isa (which picks the binary kernels): so every ISA an
// interpreter asks for computes the float layers alike, bit for bit (the fuzz target checks it).
// Such a stem takes over the MaxPool2D that is the only reader of its output (Op::fuse_reader): run()
// writes the pool's output through kernels::stem_conv2d_max_pool_f32 (the convolution's rows go through a
// ring of pool-height rows in scratch, one ring per band of pool rows, a band per thread), so the full-size
// feature map is never stored nor read back; the same bits as the two operators apart.
// With OpContext::portable_float, float layers run onebit's portable kernels (onebit/kernels/float.h) on
// the same weights instead (split by output rows over the pool); int8 layers are refused there. 1-bit
// weights are then never expanded: conv2d_binary_weights_f32 / fully_connected_binary_weights_f32 read the
// model's bits and scales where they lie (add or subtract each input, then one multiplication by the scale:
// another rounding than the expanded weights', like any change of summation order; on the shipped BWN model
// the labels agree with XNNPACK's and PyTorch's on all 10,000 test images). That keeps the expansion out of
// RAM: 1,179,648 bytes of heap for the shipped BWN model (its 38,656 bytes of bits are read in place).
// Those two kernels run only in Conv2DBinaryWeights / FullyConnectedBinaryWeights, which the wide rows
// (ops::conv2d_binary_weights(), ops::fully_connected_binary_weights()) make; the narrow rows refuse 1-bit
// weights, so a firmware registering them does not link the kernels.
#include "onebit/kernels/bit_contract.h"
#include "onebit/kernels/float.h"
#include "onebit/kernels/isa.h"
#include "onebit/kernels/stem.h"
#include "onebit/pool.h"
#include "ops/int8_layer.h"
#include "ops/op_table.h"
#include "ops/parallel.h"
#include "ops/xnn_op.h"
#include "validate.h"

namespace onebit::rt {
namespace {

/// The float weights of input 1: the model's array, or the expansion of 1-bit weights (rows of `row`
/// elements packed along the row) into *storage.
const float* float_weights(const OpContext& ctx, size_t row, Vec<float>* storage) {
  if (ctx.inputs[1]->dtype == fb::DType::Float16) {
    const uint16_t* h = ctx.constant<uint16_t>(1);
    storage->resize(element_count(ctx.inputs[1]->shape));
    for (size_t i = 0; i < storage->size(); ++i) (*storage)[i] = half_to_float(h[i]);
    return storage->data();
  }
#if !ONEBIT_MCU  // Cortex-M refuses int8 layers before (no_portable_int8)
  if (ctx.inputs[1]->dtype == fb::DType::Int8) {  // an int8 layer the route sends to fp32: q * weight_scale[o]
    const int8_t* q = ctx.constant<int8_t>(1);
    const float* scale = ctx.constant<float>(3);
    storage->resize(element_count(ctx.inputs[1]->shape));
    const size_t per_out = storage->size() / size_t(ctx.inputs[1]->shape[0]);
    for (size_t i = 0; i < storage->size(); ++i) (*storage)[i] = float(q[i]) * scale[i / per_out];
    return storage->data();
  }
#endif
  if (ctx.inputs[1]->dtype != fb::DType::BitPacked) return ctx.constant<float>(1);
  const size_t rows = element_count(ctx.inputs[1]->shape) / row, words = packed_words(row);
  const uint32_t* bits = ctx.constant<uint32_t>(1);
  const float* scale = ctx.constant<float>(3);
  storage->resize(rows * row);
  const size_t per_out = rows / size_t(ctx.inputs[1]->shape[0]);  // rows (kh * kw) of each output channel
  for (size_t r = 0; r < rows; ++r) {
    const float s = scale[r / per_out];
    for (size_t i = 0; i < row; ++i) {
      const uint32_t bit = (bits[r * words + i / kBitsPerWord] >> (i % kBitsPerWord)) & 1u;
      (*storage)[r * row + i] = bit ? -s : s;
    }
  }
  return storage->data();
}

/// The weights the portable kernels read: the model's 1-bit weights and scales where they lie, or float
/// weights (the model's, or float16 ones expanded into `expanded`).
struct PortableWeights {
  const uint32_t* bits = nullptr;  // BitPacked: rows of `row` bits, each on a word boundary
  const float* scale = nullptr;    // BitPacked: weight_scale [O]
  const float* floats = nullptr;   // otherwise
  Vec<float> expanded;     // float16 weights expanded to float
};

void portable_weights(const OpContext& ctx, size_t row, PortableWeights* w) {
  if (ctx.inputs[1]->dtype == fb::DType::BitPacked) {
    w->bits = ctx.constant<uint32_t>(1);
    w->scale = ctx.constant<float>(3);
    return;
  }
  w->floats = float_weights(ctx, row, &w->expanded);
}

Status no_portable_int8(const OpContext& ctx) {
  return ctx.fail("int8 layers (--int8-float-layers) need XNNPACK; the portable float kernels run float "
                  "weights only (convert without --int8-float-layers)");
}

/// An int8-marked layer: its route by the static rules (int8_route.cc), reported in op->route, and the
/// Int8Layer that runs it, or none when the route is fp32 (the caller's float path then runs the weights
/// float_weights dequantizes).
Status prepare_int8(const OpContext& ctx, const Int8Geometry& g, const fb::Int8Quantization& q, Op* op,
                    std::unique_ptr<Int8Layer>* layer) {
#if ONEBIT_MCU  // the portable kernels run float weights only, and Cortex-M has nothing else
  (void)g, (void)q, (void)op, (void)layer;
  return no_portable_int8(ctx);
#else
  if (ctx.portable_float) return no_portable_int8(ctx);
  const Int8Choice choice = choose_int8_route(g);
  op->route = choice.report;
  if (choice.route == Int8Route::kFloat) return Status::Ok();
  *layer = std::make_unique<Int8Layer>();
  return (*layer)->prepare(ctx, g, q, choice.route);
#endif
}

// The float x 1-bit kernels run in subclasses (Conv2DBinaryWeights, FullyConnectedBinaryWeights), made by
// the wide rows alone (ops::conv2d_binary_weights(), ops::fully_connected_binary_weights()): a firmware
// registering the narrow rows does not link them (and the operators' records keep their size).
/// The fp32 route of an int8-marked layer keeps the int8 output's saturation: the layer's clamp narrowed to
/// what the int8 output can hold, output_scale * ([-128, 127] - output_zero_point), so both routes clip where
/// the model's calibration (or its QDQ pair) says.
void narrow_to_int8_output(const fb::Int8Quantization& q, float* lo, float* hi) {
  *lo = std::max(*lo, q.output_scale() * float(-128 - int(q.output_zero_point())));
  *hi = std::min(*hi, q.output_scale() * float(127 - int(q.output_zero_point())));
}

class Conv2D : public XnnOp {
 public:
  Status prepare(const OpContext& ctx) override {
    const fb::Conv2DOptions& o = *ctx.op->options_as_Conv2DOptions();
    const Vec<int>& x = ctx.inputs[0]->shape;
    const Vec<int>& y = ctx.output->shape;
    batch_ = size_t(x[0]);
    in_h_ = size_t(x[1]);
    in_w_ = size_t(x[2]);
    const size_t groups = size_t(o.groups());
    const size_t in_c = size_t(x[3]), out_c = size_t(y[3]);
    const float* bias = ctx.inputs.size() > 2 ? ctx.constant<float>(2) : nullptr;
    float_macs = int64_t(y[0]) * y[1] * y[2] * int64_t(out_c) * o.kernel_h() * o.kernel_w() * int64_t(in_c / groups);
    workspace_bytes = xnn_indirection_bytes(y[0], y[1], y[2], o.kernel_h(), o.kernel_w());
    float clamp_min = o.clamp_min(), clamp_max = o.clamp_max();
    if (ctx.inputs[1]->dtype == fb::DType::Int8) {
      Int8Geometry g;
      g.batch = batch_, g.in_h = in_h_, g.in_w = in_w_, g.in_c = in_c;
      g.out_h = size_t(y[1]), g.out_w = size_t(y[2]), g.out_c = out_c, g.groups = groups;
      g.kernel_h = uint32_t(o.kernel_h()), g.kernel_w = uint32_t(o.kernel_w());
      g.stride_h = uint32_t(o.stride_h()), g.stride_w = uint32_t(o.stride_w());
      g.dilation_h = uint32_t(o.dilation_h()), g.dilation_w = uint32_t(o.dilation_w());
      g.pad_top = uint32_t(o.pad_top()), g.pad_right = uint32_t(o.pad_right());
      g.pad_bottom = uint32_t(o.pad_bottom()), g.pad_left = uint32_t(o.pad_left());
      g.clamp_min = o.clamp_min(), g.clamp_max = o.clamp_max();
      ONEBIT_RETURN_IF_ERROR(prepare_int8(ctx, g, *o.int8(), this, &int8_));
      if (int8_) return Status::Ok();  // else the float path below, on the dequantized weights
      narrow_to_int8_output(*o.int8(), &clamp_min, &clamp_max);
    }
    portable_ = {int(batch_), int(in_h_), int(in_w_), int(in_c), y[1], y[2], int(out_c), o.kernel_h(),
                 o.kernel_w(), o.stride_h(), o.stride_w(), o.dilation_h(), o.dilation_w(), o.pad_top(),
                 o.pad_left(), int(groups), clamp_min, clamp_max};
    if (ctx.portable_float) {
      workspace_bytes = 0;
      portable_weights(ctx, in_c / groups, &weights_);
      bias_ = bias;
      return Status::Ok();
    }
#if !ONEBIT_MCU
    Vec<float> expanded;
    const float* weights = float_weights(ctx, in_c / groups, &expanded);
    const kernels::StemUkernel& stem = kernels::stem_select(kernels::best_isa());  // the CPU's, not ctx.isa
    if (kernels::stem_supported(portable_) && stem.isa != kernels::Isa::kScalar) {
      workspace_bytes = 0;
      stem_ = &stem;
      stem_packed_.resize(kernels::stem_packed_floats(*stem_, portable_));
      kernels::stem_pack(*stem_, portable_, weights, bias, stem_packed_.data());
      return Status::Ok();
    }
    return check(ctx,
                 xnn_create_convolution2d_nhwc_f32(
                     uint32_t(o.pad_top()), uint32_t(o.pad_right()), uint32_t(o.pad_bottom()), uint32_t(o.pad_left()),
                     uint32_t(o.kernel_h()), uint32_t(o.kernel_w()), uint32_t(o.stride_h()), uint32_t(o.stride_w()),
                     uint32_t(o.dilation_h()), uint32_t(o.dilation_w()), uint32_t(groups), in_c / groups,
                     out_c / groups, in_c, out_c, weights, bias, clamp_min, clamp_max, 0, &op_),
                 "xnn_create_convolution2d_nhwc_f32");
#else
    return Status::Ok();  // not reached: portable_float is always set in this build
#endif
  }
  size_t scratch_bytes() const override {
    if (int8_) return int8_->scratch_bytes();
#if !ONEBIT_MCU
    if (bands_ > 0) return size_t(bands_) * kernels::stem_max_pool_ring_floats(portable_, pool_) * sizeof(float);
#endif
    return 0;
  }
  bool fuse_reader(const OpContext& reader) override {
#if !ONEBIT_MCU
    if (stem_ == nullptr || reader.op->options_type() != fb::OperatorOptions::MaxPool2DOptions) return false;
    const fb::Pool2DOptions& o = *reader.op->options_as_MaxPool2DOptions();
    const kernels::FloatConv2D& g = portable_;
    const Vec<int>& y = reader.output->shape;
    const kernels::FloatPool2D pool{g.batch, g.out_h, g.out_w, g.out_c, y[1], y[2], o.kernel_h(), o.kernel_w(),
                                    o.stride_h(), o.stride_w(), o.pad_top(), o.pad_left()};
    if (!kernels::stem_max_pool_supported(pool)) return false;
    pool_ = pool;
    bands_ = std::max(1, std::min(reader.threads, g.batch * y[1]));
    if (*route == '\0') route = "stem + MaxPool2D";
    return true;
#else
    (void)reader;
    return false;
#endif
  }
  Status run(pthreadpool_t pool) override {
    if (int8_) return int8_->run(pool);
    if (op_ != nullptr) return XnnOp::run(pool);
#if !ONEBIT_MCU
    if (bands_ > 0) return run_pooled(pool);
#endif
    const kernels::FloatConv2D& g = portable_;
    parallel_for(pool, size_t(g.batch) * size_t(g.out_h), size_t(g.out_w) * size_t(g.out_c) * sizeof(float),
                 [this](size_t begin, size_t end) {
                   const PortableWeights& w = weights_;
                   const int r0 = int(begin), r1 = int(end);
#if !ONEBIT_MCU  // no stem ukernels on Cortex-M: their code stays out of the firmware
                   if (stem_ != nullptr)
                     return kernels::stem_conv2d_f32(*stem_, portable_, x_, stem_packed_.data(), y_, r0, r1);
#endif
                   if (w.bits != nullptr)  // validated: only in Conv2DBinaryWeights
                     run_binary_weights(r0, r1);
                   else
                     kernels::conv2d_f32(portable_, x_, w.floats, bias_, y_, r0, r1);
                 });
    return Status::Ok();
  }
  Status bind(const OpContext& ctx, const Vec<const void*>& in, void* out, void* scratch) override {
    if (int8_) return int8_->bind(ctx, static_cast<const float*>(in[0]), static_cast<float*>(out), scratch);
    x_ = static_cast<const float*>(in[0]);
    y_ = static_cast<float*>(out);  // the MaxPool2D's output when fused
    ring_ = static_cast<float*>(scratch);
    if (ctx.portable_float || stem_ != nullptr) return Status::Ok();
#if !ONEBIT_MCU
    return check(ctx,
                 xnn_setup_convolution2d_nhwc_f32(op_, batch_, in_h_, in_w_, static_cast<const float*>(in[0]),
                                                  static_cast<float*>(out), ctx.pool),
                 "xnn_setup_convolution2d_nhwc_f32");
#else
    return Status::Ok();
#endif
  }

 protected:
  virtual void run_binary_weights(int /*row_begin*/, int /*row_end*/) {}

#if !ONEBIT_MCU
  /// The fused stem + MaxPool2D: bands_ bands of the pool's output rows, each with its own ring.
  Status run_pooled(pthreadpool_t pool) {
    const size_t rows = size_t(pool_.batch) * size_t(pool_.out_h), bands = size_t(bands_);
    const size_t ring = kernels::stem_max_pool_ring_floats(portable_, pool_);
    const size_t band_bytes = (rows + bands - 1) / bands * size_t(pool_.out_w) * size_t(pool_.channels) * sizeof(float);
    parallel_for(pool, bands, band_bytes, [this, rows, bands, ring](size_t begin, size_t end) {
      // One task at a time per ring: tasks are [begin, end) of the bands, each ring its first band's.
      kernels::stem_conv2d_max_pool_f32(*stem_, portable_, pool_, x_, stem_packed_.data(), ring_ + begin * ring, y_,
                                        int(rows * begin / bands), int(rows * end / bands));
    });
    return Status::Ok();
  }
#endif

  size_t batch_ = 0, in_h_ = 0, in_w_ = 0;
  std::unique_ptr<Int8Layer> int8_;
  // Portable and stem paths (the geometry is both's).
  kernels::FloatConv2D portable_{};
  PortableWeights weights_;
  const kernels::StemUkernel* stem_ = nullptr;
  Vec<float> stem_packed_;
  kernels::FloatPool2D pool_{};  // a fused MaxPool2D (fuse_reader), when bands_ > 0
  int bands_ = 0;
  float* ring_ = nullptr;  // scratch: bands_ rings
  const float *bias_ = nullptr, *x_ = nullptr;
  float* y_ = nullptr;
};

class Conv2DBinaryWeights final : public Conv2D {
  void run_binary_weights(int row_begin, int row_end) override {
    kernels::conv2d_binary_weights_f32(portable_, x_, weights_.bits, weights_.scale, bias_, y_, row_begin, row_end);
  }
};

class FullyConnected : public XnnOp {
 public:
  Status prepare(const OpContext& ctx) override {
    const fb::FullyConnectedOptions& o = *ctx.op->options_as_FullyConnectedOptions();
    batch_ = size_t(ctx.inputs[0]->shape[0]);
    const size_t in_c = size_t(ctx.inputs[0]->shape[1]), out_c = size_t(ctx.output->shape[1]);
    const float* bias = ctx.inputs.size() > 2 ? ctx.constant<float>(2) : nullptr;
    float_macs = int64_t(batch_) * int64_t(in_c) * int64_t(out_c);
    float clamp_min = o.clamp_min(), clamp_max = o.clamp_max();
    if (ctx.inputs[1]->dtype == fb::DType::Int8) {
      Int8Geometry g;  // the 1x1 convolution of [N, 1, 1, K]
      g.batch = batch_, g.in_c = in_c, g.out_c = out_c;
      g.clamp_min = o.clamp_min(), g.clamp_max = o.clamp_max();
      ONEBIT_RETURN_IF_ERROR(prepare_int8(ctx, g, *o.int8(), this, &int8_));
      if (int8_) return Status::Ok();  // else the float path below, on the dequantized weights
      narrow_to_int8_output(*o.int8(), &clamp_min, &clamp_max);
    }
    if (ctx.portable_float) {
      in_c_ = int(in_c), out_c_ = int(out_c);
      clamp_min_ = clamp_min, clamp_max_ = clamp_max;
      portable_weights(ctx, in_c, &weights_);
      bias_ = bias;
      return Status::Ok();
    }
#if !ONEBIT_MCU
    Vec<float> expanded;
    const float* weights = float_weights(ctx, in_c, &expanded);
    return check(ctx,
                 xnn_create_fully_connected_nc_f32(in_c, out_c, in_c, out_c, weights, bias, clamp_min, clamp_max,
                                                   0, &op_),
                 "xnn_create_fully_connected_nc_f32");
#else
    return Status::Ok();  // not reached: portable_float is always set in this build
#endif
  }
  size_t scratch_bytes() const override { return int8_ ? int8_->scratch_bytes() : 0; }
  Status run(pthreadpool_t pool) override {
    if (int8_) return int8_->run(pool);
    if (op_ != nullptr) return XnnOp::run(pool);
    parallel_for(pool, batch_, size_t(out_c_) * sizeof(float), [this](size_t begin, size_t end) {
      const PortableWeights& w = weights_;
      if (w.bits != nullptr)  // validated: only in FullyConnectedBinaryWeights
        run_binary_weights(int(begin), int(end));
      else
        kernels::fully_connected_f32(int(batch_), in_c_, out_c_, x_, w.floats, bias_, clamp_min_, clamp_max_, y_,
                                     int(begin), int(end));
    });
    return Status::Ok();
  }
  Status bind(const OpContext& ctx, const Vec<const void*>& in, void* out, void* scratch) override {
    if (int8_) return int8_->bind(ctx, static_cast<const float*>(in[0]), static_cast<float*>(out), scratch);
    x_ = static_cast<const float*>(in[0]);
    y_ = static_cast<float*>(out);
    if (ctx.portable_float) return Status::Ok();
#if !ONEBIT_MCU
    return check(ctx,
                 xnn_setup_fully_connected_nc_f32(op_, batch_, static_cast<const float*>(in[0]),
                                                  static_cast<float*>(out), ctx.pool),
                 "xnn_setup_fully_connected_nc_f32");
#else
    return Status::Ok();
#endif
  }

 protected:
  virtual void run_binary_weights(int /*row_begin*/, int /*row_end*/) {}

  size_t batch_ = 0;
  std::unique_ptr<Int8Layer> int8_;
  // Portable path.
  int in_c_ = 0, out_c_ = 0;
  float clamp_min_ = 0, clamp_max_ = 0;
  PortableWeights weights_;
  const float *bias_ = nullptr, *x_ = nullptr;
  float* y_ = nullptr;
};

class FullyConnectedBinaryWeights final : public FullyConnected {
  void run_binary_weights(int row_begin, int row_end) override {
    kernels::fully_connected_binary_weights_f32(int(batch_), in_c_, out_c_, x_, weights_.bits, weights_.scale,
                                                bias_, clamp_min_, clamp_max_, y_, row_begin, row_end);
  }
};

/// The narrow rows: everything the wide row checks, then no 1-bit weights (their kernels are not linked).
Status float_weights_only(const ValidateContext& c, const char* wide_accessor) {
  if (c.in(1).dtype != fb::DType::BitPacked) return Status::Ok();
  return c.fail("has 1-bit weights, a form this program did not register (LoadOptions::ops: add onebit::ops::" +
                Text(wide_accessor) + "())");
}

}  // namespace

Status validate_conv2d_binary_weights(const ValidateContext& c) {
  const auto& o = *c.op().options_as_Conv2DOptions();
  ONEBIT_RETURN_IF_ERROR(c.clamp(o.clamp_min(), o.clamp_max()));
  ONEBIT_RETURN_IF_ERROR(check_conv(c, conv_window(o), o.groups(), fb::DType::Float32, fb::DType::Float32, 0, 2));
  return check_float_weights(c);
}
std::unique_ptr<Op> make_conv2d_binary_weights() {
  return std::make_unique<Conv2DBinaryWeights>();
}
Status validate_conv2d(const ValidateContext& c) {
  ONEBIT_RETURN_IF_ERROR(validate_conv2d_binary_weights(c));
  return float_weights_only(c, "conv2d_binary_weights");
}
std::unique_ptr<Op> make_conv2d() { return std::make_unique<Conv2D>(); }

Status validate_fully_connected_binary_weights(const ValidateContext& c) {
  const auto& o = *c.op().options_as_FullyConnectedOptions();
  ONEBIT_RETURN_IF_ERROR(c.clamp(o.clamp_min(), o.clamp_max()));
  ONEBIT_RETURN_IF_ERROR(check_fc(c, fb::DType::Float32, fb::DType::Float32, 0, 2));
  return check_float_weights(c);
}
std::unique_ptr<Op> make_fully_connected_binary_weights() {
  return std::make_unique<FullyConnectedBinaryWeights>();
}
Status validate_fully_connected(const ValidateContext& c) {
  ONEBIT_RETURN_IF_ERROR(validate_fully_connected_binary_weights(c));
  return float_weights_only(c, "fully_connected_binary_weights");
}
std::unique_ptr<Op> make_fully_connected() { return std::make_unique<FullyConnected>(); }

}  // namespace onebit::rt
