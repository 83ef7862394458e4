// BinaryConv2D and BinaryFullyConnected through kernels::BConv2D. The fully connected case is the
// convolution's 1x1 kernel on a 1x1 image with one batch row per input row: x [N, K] packed is exactly
// [N][1][1][packed_words(K)]. Weights come pre-packed from the model (OHWI packed along I): on the desktop
// prepare() re-packs them into the GEMM's tiles; on Cortex-M the kernel reads them, the multiplier and the
// bias where they lie in the model (which outlives the operator), so they never take RAM.
//
// k-bit: the input tensor's levels (kind, bits, zero_level) and the weight tensor's bits go into
// BConvGeometry; the kernel computes D = sum L_x * L_w bit-serially, one popcount pass per pair of planes.
// binary_macs stays the real multiply-accumulates (positions * out_c * taps) whatever the bit widths, so
// that MAC counts compare across models; the kernel's work is about act_bits * weight_bits plane-pair
// passes of those (as in any bit-serial kernel), which a profile shows as time, not as MACs.
//
// Fusions (issue 12; schema BinaryConv2DOptions): inputs[4], a Float32 residual of the output's shape, goes to
// the kernel's output transform (y = clamp(fl(fl(fl(m * D) + b) + r))); output FloatAndBitPacked also writes
// outputs[1], the bits a Quantize of y with threshold inputs[5] and quantize_flip / quantize_constant would
// give; output FloatAndLevels (issue 20) writes outputs[1] as QuantizeLevels of y with scale / shift inputs[6] /
// [7] would, through that operator's kernel. The QuantizeOptions -> word-mask translation is Quantize's own (quantize_masks, ops/quantize.cc
// explains it), so both ops turn the same options into the same kernel arguments.
#include "onebit/kernels/bconv.h"
#include "onebit/pool.h"
#include "ops/op.h"
#include "ops/op_table.h"
#include "ops/quantize_masks.h"
#include "validate.h"

namespace onebit::rt {
namespace {

// Binary activations x 1-bit weights: kernels::BConv2D::prepare_binary, which does not link the k-bit code.
// BinaryConv2DLevels (ops::binary_conv2d_levels(), BinaryFullyConnected) prepares k-bit operands too.
class BinaryConv2D : public Op {
 public:
  explicit BinaryConv2D(bool fully_connected) : fully_connected_(fully_connected) {}

  Status prepare(const OpContext& ctx) override {
    kernels::BConvGeometry g;
    kernels::OutputTransformParams t;
    t.multiplier = ctx.constant<float>(2);
    t.bias = ctx.constant<float>(3);
    const Vec<int>& x = ctx.inputs[0]->shape;
    if (fully_connected_) {
      const fb::BinaryFullyConnectedOptions& o = *ctx.op->options_as_BinaryFullyConnectedOptions();
      g.batch = x[0];
      g.in_c = x[1];
      g.out_c = ctx.output->shape[1];
      t.bitpacked = o.output() == fb::OutputKind::BitPacked;
      t.clamp_min = o.clamp_min();
      t.clamp_max = o.clamp_max();
    } else {
      const fb::BinaryConv2DOptions& o = *ctx.op->options_as_BinaryConv2DOptions();
      g.batch = x[0];
      g.in_h = x[1];
      g.in_w = x[2];
      g.in_c = x[3];
      g.out_c = ctx.output->shape[3];
      g.kernel_h = o.kernel_h();
      g.kernel_w = o.kernel_w();
      g.stride_h = o.stride_h();
      g.stride_w = o.stride_w();
      g.dilation_h = o.dilation_h();
      g.dilation_w = o.dilation_w();
      g.pad_top = o.pad_top();
      g.pad_left = o.pad_left();
      g.pad_bottom = o.pad_bottom();
      g.pad_right = o.pad_right();
      g.groups = o.groups();
      core::from_schema(o.pad_mode(), &g.pad_mode);  // validated
      t.bitpacked = o.output() == fb::OutputKind::BitPacked;
      t.clamp_min = o.clamp_min();
      t.clamp_max = o.clamp_max();
      t.float_and_bits = o.output() == fb::OutputKind::FloatAndBitPacked;
      if (o.output() == fb::OutputKind::FloatAndLevels) {  // validated: the k-bit form, outputs[1] k-bit
        t.float_and_bits = true;
        const TensorLevels& l = ctx.outputs[1]->levels;
        levels_out_.kind = l.kind;
        levels_out_.bits = l.bits;
        levels_out_.scale = ctx.constant<float>(6);
        levels_out_.shift = ctx.constant<float>(7);
        t.levels = &levels_out_;
      } else if (t.float_and_bits) {
        const float* threshold = ctx.inputs.size() > 5 && ctx.inputs[5] != nullptr ? ctx.constant<float>(5) : nullptr;
        if (quantize_.prepare(size_t(g.out_c), threshold, o.quantize_flip(), o.quantize_constant()))
          t.quantize = &quantize_.thresholds;
      }
    }
    const TensorLevels& xl = ctx.inputs[0]->levels;
    g.act_kind = xl.kind;
    g.act_bits = xl.bits;
    g.act_zero_level = xl.zero_level;
    g.weight_bits = ctx.inputs[1]->levels.bits;
    binary_macs = int64_t(g.batch) * g.out_h() * g.out_w() * g.out_c * g.taps();
    Text error;
    if (!prepare_kernel(ctx.isa, g, ctx.constant<uint32_t>(1), t, &error))
      return ctx.fail("binary convolution kernel: " + error);
    scratch_ = conv_.scratch_bytes(size_t(ctx.threads));
    return Status::Ok();
  }
  size_t scratch_bytes() const override { return scratch_; }
  Status bind(const OpContext& ctx, const Vec<const void*>& in, void* out, void* scratch) override {
    x_ = static_cast<const uint32_t*>(in[0]);
    y_ = out;
    scratch_ptr_ = scratch;
    args_.residual = in.size() > 4 ? static_cast<const float*>(in[4]) : nullptr;
    args_.bits = ctx.output_addresses.size() > 1 ? static_cast<uint32_t*>(ctx.output_addresses[1]) : nullptr;
    return Status::Ok();
  }
  Status run(pthreadpool_t pool) override {
    conv_.run(x_, y_, scratch_ptr_, pool, args_);
    return Status::Ok();
  }

 protected:
  virtual bool prepare_kernel(kernels::Isa isa, const kernels::BConvGeometry& g, const uint32_t* weights,
                              const kernels::OutputTransformParams& t, Text* error) {
    return conv_.prepare_binary(isa, g, weights, t, error);
  }

  bool fully_connected_;
  kernels::BConv2D conv_;
  size_t scratch_ = 0;
  QuantizeMasks quantize_;
  kernels::LevelQuantizer levels_out_;  // FloatAndLevels' quantizer (the model's scale / shift)
  const uint32_t* x_ = nullptr;
  void* y_ = nullptr;
  void* scratch_ptr_ = nullptr;
  kernels::BConvRunArgs args_;
};

class BinaryConv2DLevels final : public BinaryConv2D {
 public:
  using BinaryConv2D::BinaryConv2D;

 private:
  bool prepare_kernel(kernels::Isa isa, const kernels::BConvGeometry& g, const uint32_t* weights,
                      const kernels::OutputTransformParams& t, Text* error) override {
    return conv_.prepare(isa, g, weights, t, error);
  }
};

fb::DType output_dtype(fb::OutputKind kind) {
  return kind == fb::OutputKind::BitPacked ? fb::DType::BitPacked : fb::DType::Float32;
}

Status check_output_kind(const ValidateContext& c, fb::OutputKind kind) {
  if (kind == fb::OutputKind::Float || kind == fb::OutputKind::BitPacked) return Status::Ok();
  return c.fail("output = " + num(int(kind)) + ", expected Float (0) or BitPacked (1)");
}

/// FloatAndLevels: inputs[6] / [7] the QuantizeLevels scale / shift (constant Float32 [out_c], both present),
/// outputs[1] what it writes (BitPacked, the output's shape, levels a QuantizeLevels may give); no Quantize
/// threshold or lists.
Status check_levels_output(const ValidateContext& c, int out_c, size_t quantize_lists) {
  if (c.present(5)) return c.fail(c.in_label(5) + " is a Quantize threshold, but output is FloatAndLevels");
  if (quantize_lists != 0) return c.fail("quantize_flip / quantize_constant are set, but output is FloatAndLevels");
  for (size_t k = 6; k < 8; ++k) {
    if (!c.present(k))
      return c.fail("output FloatAndLevels needs inputs[" + num(int(k)) + "] (QuantizeLevels scale / shift)");
    ONEBIT_RETURN_IF_ERROR(c.dtype(k, fb::DType::Float32));
    ONEBIT_RETURN_IF_ERROR(c.constant(k));
    ONEBIT_RETURN_IF_ERROR(c.shape(k, {out_c},
                                   k == 6 ? "level scale, one per output channel"
                                          : "level shift, one per output channel"));
  }
  ONEBIT_RETURN_IF_ERROR(c.output(fb::DType::BitPacked, c.out(0).shape, 1));
  // Tensor validation has checked the kind / bits pair; Binary is Quantize's output, as validate_quantize_levels
  // says.
  const TensorLevels& l = c.out(1).levels;
  if (l.binary())
    return c.fail(c.out_label(1) + " has levels " + levels_string(l) +
                  ", expected Unipolar or Bipolar 1..4 bits or Ternary (what QuantizeLevels writes)");
  return Status::Ok();
}

/// The fused operands of BinaryConv2D (schema BinaryConv2DOptions "Fusions"): residual inputs[4] (Float or
/// FloatAndBitPacked output: Float32 activation of the output's shape), and for FloatAndBitPacked the second
/// output (Binary BitPacked, the output's shape), threshold inputs[5] and quantize_flip / quantize_constant
/// (as QuantizeOptions: empty or one per output channel, constants -1..1); none of them otherwise.
Status check_fusions(const ValidateContext& c, const fb::BinaryConv2DOptions& o) {
  const bool levels = o.output() == fb::OutputKind::FloatAndLevels;
  const bool dual = o.output() == fb::OutputKind::FloatAndBitPacked;
  ONEBIT_RETURN_IF_ERROR(c.output_count(dual || levels ? 2 : 1));
  const Vec<int>& y = c.out(0).shape;
  const int out_c = y[3];
  if (c.present(4)) {
    if (o.output() == fb::OutputKind::BitPacked)
      return c.fail(c.in_label(4) + " is a residual, but output = BitPacked (a residual needs output Float or "
                    "FloatAndBitPacked)");
    ONEBIT_RETURN_IF_ERROR(c.dtype(4, fb::DType::Float32));
    if (c.in(4).constant) return c.fail(c.in_label(4) + " is a constant, expected an activation (the residual)");
    ONEBIT_RETURN_IF_ERROR(c.shape(4, y, "residual, the output's shape"));
  }
  const size_t flips = o.quantize_flip() ? o.quantize_flip()->size() : 0;
  const size_t constants = o.quantize_constant() ? o.quantize_constant()->size() : 0;
  if (!levels)
    for (size_t k = 6; k < 8; ++k)
      if (c.present(k))
        return c.fail(c.in_label(k) + " is a QuantizeLevels scale / shift, but output is not FloatAndLevels");
  if (levels) return check_levels_output(c, out_c, flips + constants);
  if (!dual) {
    if (c.present(5)) return c.fail(c.in_label(5) + " is a Quantize threshold, but output is not FloatAndBitPacked");
    if (flips != 0 || constants != 0)
      return c.fail("quantize_flip / quantize_constant are set, but output is not FloatAndBitPacked");
    return Status::Ok();
  }
  if (c.present(5)) {
    ONEBIT_RETURN_IF_ERROR(c.dtype(5, fb::DType::Float32));
    ONEBIT_RETURN_IF_ERROR(c.constant(5));
    ONEBIT_RETURN_IF_ERROR(c.shape(5, {out_c}, "Quantize threshold, one per output channel"));
  }
  ONEBIT_RETURN_IF_ERROR(check_quantize_lists(c, "quantize_", o.quantize_flip(), o.quantize_constant(), out_c));
  ONEBIT_RETURN_IF_ERROR(c.output(fb::DType::BitPacked, y, 1));
  if (!c.out(1).levels.binary())
    return c.fail(c.out_label(1) + " has levels " + levels_string(c.out(1).levels) +
                  ", expected Binary (the bits of a Quantize)");
  return Status::Ok();
}

}  // namespace

Status validate_binary_conv2d_levels(const ValidateContext& c) {
  const auto& o = *c.op().options_as_BinaryConv2DOptions();
  core::PadMode mode;
  if (!core::from_schema(o.pad_mode(), &mode))
    return c.fail("pad_mode = " + num(int(o.pad_mode())) + ", expected Zero (0), One (1) or MinusOne (2)");
  const int kind = int(o.output());
  if (kind < 0 || kind > 3)
    return c.fail("output = " + num(kind) +
                  ", expected Float (0), BitPacked (1), FloatAndBitPacked (2) or "
                  "FloatAndLevels (3)");
  ONEBIT_RETURN_IF_ERROR(c.clamp(o.clamp_min(), o.clamp_max()));
  // inputs[4] / [5] (and [6] / [7] for FloatAndLevels) are the fusions' (-1 when absent), checked by check_fusions.
  const size_t fused_inputs = o.output() == fb::OutputKind::FloatAndLevels ? 4 : 2;
  ONEBIT_RETURN_IF_ERROR(check_conv(c, conv_window(o), o.groups(), fb::DType::BitPacked, output_dtype(o.output()), 2, 2,
                                    fused_inputs));
  ONEBIT_RETURN_IF_ERROR(check_fusions(c, o));
  const int64_t taps = int64_t(o.kernel_h()) * o.kernel_w() * c.in(1).shape[3];
  return check_binary_levels(c, o.output() == fb::OutputKind::BitPacked, o.pad_mode() == fb::BinaryPadMode::Zero,
                             taps);
}
std::unique_ptr<Op> make_binary_conv2d_levels() { return std::make_unique<BinaryConv2DLevels>(false); }
Status validate_binary_conv2d(const ValidateContext& c) {
  ONEBIT_RETURN_IF_ERROR(validate_binary_conv2d_levels(c));
  const auto& o = *c.op().options_as_BinaryConv2DOptions();
  if (c.in(0).levels.binary() && c.in(1).levels.bits == 1 && o.output() != fb::OutputKind::FloatAndLevels)
    return Status::Ok();
  return c.fail(
      "has k-bit activations, weights or output levels, a form this program did not register (LoadOptions::ops: add "
      "onebit::ops::binary_conv2d_levels())");
}
std::unique_ptr<Op> make_binary_conv2d() { return std::make_unique<BinaryConv2D>(false); }

Status validate_binary_fully_connected(const ValidateContext& c) {
  const auto& o = *c.op().options_as_BinaryFullyConnectedOptions();
  ONEBIT_RETURN_IF_ERROR(check_output_kind(c, o.output()));
  ONEBIT_RETURN_IF_ERROR(c.clamp(o.clamp_min(), o.clamp_max()));
  ONEBIT_RETURN_IF_ERROR(check_fc(c, fb::DType::BitPacked, output_dtype(o.output()), 2, 2));
  return check_binary_levels(c, o.output() == fb::OutputKind::BitPacked, true, c.in(1).shape[1]);
}
std::unique_ptr<Op> make_binary_fully_connected() { return std::make_unique<BinaryConv2DLevels>(true); }

}  // namespace onebit::rt
