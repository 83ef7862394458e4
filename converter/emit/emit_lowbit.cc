// Low-bit emission (emit.h): onebit.QuantizeLevels -> ModelBuilder::quantize_levels; k-bit binary layers
// (levels input and / or 2-bit weights) -> binary_conv2d / binary_fully_connected with weight_bits; Conv /
// Gemm / MatMul marked binary_weights (BWN) -> conv2d / fully_connected with Weights::binary.
// Float reference: QuantizeLevels stays (rounding has no float operator; its Dequantize gives the exact
// level_scale * L values), k-bit layers become float convs on those values with multiplier / level_scale,
// BWN layers plain float layers with the ±alpha weights.
#include <cmath>

#include "emit/emitter.h"
#include "ir/onebit_ops.h"
#include "ir/spatial.h"
#include "rules/match.h"

namespace onebit::converter {
namespace {

onebit::Levels builder_levels(const converter::Levels& l) {
  onebit::Levels b;
  b.kind = l.kind == LevelKind::kTernary    ? onebit::LevelKind::kTernary
           : l.kind == LevelKind::kBipolar  ? onebit::LevelKind::kBipolar
           : l.kind == LevelKind::kUnipolar ? onebit::LevelKind::kUnipolar
                                            : onebit::LevelKind::kBinary;
  b.bits = l.bits;
  b.zero_level = l.zero_level;
  b.scale = l.scale;
  return b;
}

// Packed bytes of 1-bit weights [O][K] stored as rows of 32-bit words (plus one float scale per row).
int64_t packed_weight_bytes(int64_t rows_per_out, int64_t out, int64_t k) {
  return out * rows_per_out * ((k + 31) / 32) * 4 + out * 4;
}

}  // namespace

std::string kbit_label(const Graph& g, const Node& n) {
  const Value& x = g.value(n.in(0));
  const int wb = ops::layer_weight_bits(n);
  if (x.dtype == DType::kLevels) {
    if (x.levels.kind == LevelKind::kTernary) return "W" + std::to_string(wb) + " ternary";
    return "W" + std::to_string(wb) + "A" + std::to_string(x.levels.bits);
  }
  return wb > 1 ? "W" + std::to_string(wb) + "A1" : "";
}

namespace {

// QuantizeLevels' per-channel scale / shift (constant inputs `scale`, `shift` of n, or kNoId: 1 / 0) for c
// channels: one place for the operator and a BinaryConv2D's FloatAndLevels output.
Status level_scale_shift(const Graph& g, const Node& n, ValueId scale_id, ValueId shift_id, int64_t c,
                         std::vector<float>* scale, std::vector<float>* shift) {
  scale->assign(size_t(c), 1.0f);
  shift->assign(size_t(c), 0.0f);
  if (scale_id != kNoId) *scale = g.constant(scale_id)->f;
  if (shift_id != kNoId) *shift = g.constant(shift_id)->f;
  if (int64_t(scale->size()) != c || int64_t(shift->size()) != c)
    return Status::Error(n.describe() + ": level scale / shift have " + std::to_string(scale->size()) + " / " +
                         std::to_string(shift->size()) + " channels, expected " + std::to_string(c));
  return Status::Ok();
}

}  // namespace

Status Emitter::fused_levels(const Node& n, int64_t out_c, BinaryConv2DFusion* fusion) {
  fusion->quantize_levels = true;
  fusion->levels = builder_levels(g_.value(n.out(1)).levels);
  ++report_.quantize_levels;  // still one activation quantizer, written by the conv
  return level_scale_shift(g_, n, n.in(5), n.in(6), out_c, &fusion->level_scale, &fusion->level_shift);
}

Status Emitter::emit_quantize_levels(const Node& n) {
  const std::vector<int64_t>& s = g_.value(n.in(0)).shape;
  int x;
  ONEBIT_RETURN_IF_ERROR(float_as(n.in(0), s.size() == 4 ? 4 : 2, &x));
  const int64_t c = s[1];
  std::vector<float> scale, shift;
  ONEBIT_RETURN_IF_ERROR(level_scale_shift(g_, n, n.in(1), n.in(2), c, &scale, &shift));
  if (int64_t(b_.shape(x).back()) != c)
    return Status::Error(n.describe() + ": scale / shift have " + std::to_string(c) + " channels, its input " +
                         std::to_string(b_.shape(x).back()));
  const Levels l = ops::quantize_levels_of(n);
  set(n.out(), b_.quantize_levels(n.name, x, builder_levels(l), scale, shift));
  record(n.name, "binary QuantizeLevels " + l.describe() + (n.i("folded_bn") ? " (BatchNormalization folded)" : ""));
  ++report_.quantize_levels;
  return Status::Ok();
}

Status Emitter::emit_bwn_conv(const Node& n, int x, const std::vector<float>& bias, const Conv2DParams& p) {
  const Tensor& w = *g_.constant(n.in(1));
  std::vector<float> signs, alpha;
  std::string why;
  if (!split_sign_magnitude(w.f, w.shape[0], &signs, &alpha, &why))
    return Status::Error(n.describe() + ": internal: binary_weights set but " + why);
  const int out = b_.conv2d(n.name, x, int(w.shape[0]), Weights::binary(std::move(signs), std::move(alpha)), bias, p);
  report_.float_macs += elements(out) * w.shape[1] * w.shape[2] * w.shape[3];
  ++report_.bwn_layers;
  report_.bwn_float_bytes += w.elements() * 4;
  report_.bwn_packed_bytes += packed_weight_bytes(w.shape[2] * w.shape[3], w.shape[0], w.shape[1]);
  set(n.out(), out);
  record(n.name, "float Conv2D (binary weights)");
  return Status::Ok();
}

Status Emitter::emit_bwn_fc(const Node& n, int x, int64_t out_c, int64_t k, const std::vector<float>& w,
                            const std::vector<float>& bias) {
  std::vector<float> signs, alpha;
  std::string why;
  if (!split_sign_magnitude(w, out_c, &signs, &alpha, &why))
    return Status::Error(n.describe() + ": internal: binary_weights set but " + why);
  const int y = b_.fully_connected(n.name, x, int(out_c), Weights::binary(std::move(signs), std::move(alpha)), bias);
  report_.float_macs += elements(y) * k;
  ++report_.bwn_layers;
  report_.bwn_float_bytes += out_c * k * 4;
  report_.bwn_packed_bytes += packed_weight_bytes(1, out_c, k);
  set(n.out(), y);
  record(n.name, "float FullyConnected (binary weights)");
  return Status::Ok();
}

}  // namespace onebit::converter
