// Quantize (float -> packed bits, kernels::pack_bits), QuantizeLevels (float -> k-bit levels,
// kernels::quantize_levels; both ukernels chosen once, at prepare) and Dequantize (packed bits -> ±1 floats, kernels::unpack_bits; k-bit levels ->
// level_scale * L, kernels::dequantize_levels).
// All three split their pixels over the pool (ops/parallel.h); every pixel is packed / unpacked on its own,
// so the output does not depend on the split. QuantizeLevels' output is planes-major ([bits][pixels][words]):
// its pixel ranges go through the kernels' range entry points, which keep the whole tensor's plane stride.
// Quantize's per-channel thresholds (a fused BatchNorm -> Sign) are turned into the kernel's word masks once,
// at prepare:
//   threshold input t[C] (0 when absent), options.flip[C] -> flip bits, options.constant[C] in {-1, 0, 1}
//   -> const_mask / const_bits; padding channels c >= C get const_mask 1, const_bits 0 as pack.h requires.
#include "onebit/kernels/bit_contract.h"
#include "onebit/kernels/pack.h"
#include "ops/op.h"
#include "ops/op_table.h"
#include "ops/parallel.h"
#include "ops/quantize_masks.h"
#include "validate.h"

namespace onebit::rt {
namespace {

/// What Quantize and QuantizeLevels share: float [pixels][channels] in, packed words out.
class FloatToBits : public UnaryOp<float, uint32_t> {
 protected:
  void prepare_shape(const OpContext& ctx) {
    channels_ = size_t(ctx.inputs[0]->shape.back());
    pixels_ = element_count(ctx.inputs[0]->shape) / channels_;
  }
  /// Output bytes per pixel (what a task's size is measured in), for `planes` output bit-planes.
  size_t pixel_bytes(int planes) const { return size_t(planes) * packed_words(channels_) * sizeof(uint32_t); }
  size_t channels_ = 0, pixels_ = 0;
};

class Quantize final : public FloatToBits {
 public:
  Status prepare(const OpContext& ctx) override {
    const fb::QuantizeOptions& o = *ctx.op->options_as_QuantizeOptions();
    prepare_shape(ctx);
    pack_ = kernels::pack_select(ctx.isa);
    use_thresholds_ = masks_.prepare(channels_, ctx.inputs.size() > 1 ? ctx.constant<float>(1) : nullptr, o.flip(),
                                     o.constant());
    return Status::Ok();
  }
  Status run(pthreadpool_t pool) override {
    const size_t words = packed_words(channels_);
    const kernels::QuantizeThresholds* t = use_thresholds_ ? &masks_.thresholds : nullptr;
    parallel_for(pool, pixels_, pixel_bytes(1), [&](size_t begin, size_t end) {
      kernels::pack_bits(pack_, end - begin, channels_, x_ + begin * channels_, y_ + begin * words, t);
    });
    return Status::Ok();
  }

 private:
  kernels::PackUkernel pack_;
  QuantizeMasks masks_;  // the same masks BinaryConv2D's FloatAndBitPacked output uses
  bool use_thresholds_ = false;
};

class Dequantize final : public UnaryOp<uint32_t, float> {
 public:
  Status prepare(const OpContext& ctx) override {
    channels_ = size_t(ctx.inputs[0]->shape.back());
    pixels_ = element_count(ctx.inputs[0]->shape) / channels_;
    levels_ = ctx.inputs[0]->levels;
    return Status::Ok();
  }
  Status run(pthreadpool_t pool) override {
    const size_t words = packed_words(channels_);
    parallel_for(pool, pixels_, channels_ * sizeof(float), [&](size_t begin, size_t end) {
      if (levels_.binary()) {
        kernels::unpack_bits(end - begin, channels_, x_ + begin * words, y_ + begin * channels_);
      } else {
        kernels::dequantize_levels(pixels_, begin, end, channels_, x_, levels_.kind, levels_.bits, levels_.zero_level,
                                   levels_.scale, y_);
      }
    });
    return Status::Ok();
  }

 private:
  size_t channels_ = 0, pixels_ = 0;
  TensorLevels levels_;
};

class QuantizeLevels final : public FloatToBits {
 public:
  Status prepare(const OpContext& ctx) override {
    prepare_shape(ctx);
    ukernel_ = kernels::quantize_levels_select(ctx.isa);
    q_.kind = ctx.output->levels.kind;
    q_.bits = ctx.output->levels.bits;
    q_.scale = ctx.constant<float>(1);
    q_.shift = ctx.constant<float>(2);
    return Status::Ok();
  }
  Status run(pthreadpool_t pool) override {
    parallel_for(pool, pixels_, pixel_bytes(q_.bits), [&](size_t begin, size_t end) {
      kernels::quantize_levels(ukernel_, pixels_, begin, end, channels_, x_, y_, q_);
    });
    return Status::Ok();
  }

 private:
  kernels::QuantizeLevelsUkernel ukernel_;
  kernels::LevelQuantizer q_;
};

}  // namespace

Status validate_quantize(const ValidateContext& c) {
  const fb::QuantizeOptions& o = *c.op().options_as_QuantizeOptions();
  ONEBIT_RETURN_IF_ERROR(c.count(1, 2));
  ONEBIT_RETURN_IF_ERROR(c.dtype(0, fb::DType::Float32));
  const int channels = c.in(0).shape.back();
  if (c.inputs() == 2) {
    ONEBIT_RETURN_IF_ERROR(c.dtype(1, fb::DType::Float32));
    ONEBIT_RETURN_IF_ERROR(c.constant(1));
    ONEBIT_RETURN_IF_ERROR(c.shape(1, {channels}, "threshold, one per channel"));
  }
  ONEBIT_RETURN_IF_ERROR(check_quantize_lists(c, "", o.flip(), o.constant(), channels));
  ONEBIT_RETURN_IF_ERROR(c.output(fb::DType::BitPacked, c.in(0).shape));
  if (!c.out().levels.binary())
    return c.fail(c.out_label() + " has levels " + levels_string(c.out().levels) +
                  ", expected Binary (k-bit levels come from QuantizeLevels)");
  return Status::Ok();
}
std::unique_ptr<Op> make_quantize() { return std::make_unique<Quantize>(); }

/// Any BitPacked input: Binary gives ±1, k-bit levels give level_scale * L.
Status validate_dequantize(const ValidateContext& c) {
  ONEBIT_RETURN_IF_ERROR(c.count(1, 1));
  ONEBIT_RETURN_IF_ERROR(c.dtype(0, fb::DType::BitPacked));
  return c.output(fb::DType::Float32, c.in(0).shape);
}
std::unique_ptr<Op> make_dequantize() { return std::make_unique<Dequantize>(); }

/// x Float32 [.., C], scale and shift constant Float32 [C], output BitPacked of the same shape with
/// non-Binary levels (the tensor's bits / levels say what the kernel computes).
Status validate_quantize_levels(const ValidateContext& c) {
  ONEBIT_RETURN_IF_ERROR(c.count(3, 3));
  ONEBIT_RETURN_IF_ERROR(c.dtype(0, fb::DType::Float32));
  const int channels = c.in(0).shape.back();
  for (size_t k = 1; k < 3; ++k) {
    ONEBIT_RETURN_IF_ERROR(c.dtype(k, fb::DType::Float32));
    ONEBIT_RETURN_IF_ERROR(c.constant(k));
    ONEBIT_RETURN_IF_ERROR(c.shape(k, {channels}, k == 1 ? "scale, one per channel" : "shift, one per channel"));
  }
  ONEBIT_RETURN_IF_ERROR(c.output(fb::DType::BitPacked, c.in(0).shape));
  // Binary output is Quantize's (sign with thresholds); here every kind with a rounding rule.
  if (c.out().levels.binary())
    return c.fail(c.out_label() + " has levels Binary, expected Unipolar, Bipolar or Ternary (Binary is Quantize's)");
  return Status::Ok();
}
std::unique_ptr<Op> make_quantize_levels() { return std::make_unique<QuantizeLevels>(); }

}  // namespace onebit::rt
