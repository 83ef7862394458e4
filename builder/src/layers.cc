// The builder's ops with weights: the float Conv2D / FullyConnected, whose weights a Weights descriptor
// stores (weight_encoding.cc), and the binary BinaryConv2D (with its fusions) / BinaryFullyConnected.
#include <optional>
#include <string>
#include <vector>

#include "builder_graph.h"
#include "weight_encoding.h"

namespace onebit {

using T = fb::OperatorOptions;

namespace {

/// The activation scales of a float layer that runs in int8: those of Int8 weights, none otherwise.
std::optional<Int8Params> int8_execution(const Weights& w) {
  if (w.storage != Weights::Storage::kInt8) return std::nullopt;
  return w.activations;
}

/// Its options' Int8Quantization table (absent for a float layer).
flatbuffers::Offset<fb::Int8Quantization> int8_table(Fbb& f, const std::optional<Int8Params>& q) {
  if (!q) return {};
  return fb::CreateInt8Quantization(f, q->input_scale, int8_t(q->input_zero_point), q->output_scale,
                                    int8_t(q->output_zero_point));
}

flatbuffers::Offset<void> binary_conv2d_options(Fbb& f, const BinaryConv2DParams& p, const BinaryConv2DFusion& fusion) {
  const fb::OutputKind kind = p.bitpacked_output       ? fb::OutputKind::BitPacked
                              : fusion.quantize_levels ? fb::OutputKind::FloatAndLevels
                              : fusion.quantize        ? fb::OutputKind::FloatAndBitPacked
                                                       : fb::OutputKind::Float;
  flatbuffers::Offset<flatbuffers::Vector<uint8_t>> flip;
  flatbuffers::Offset<flatbuffers::Vector<int8_t>> constant;
  if (!fusion.flip.empty()) flip = f.CreateVector(fusion.flip);
  if (!fusion.constant.empty()) constant = f.CreateVector(fusion.constant);
  return fb::CreateBinaryConv2DOptions(f, p.kernel_h, p.kernel_w, p.stride_h, p.stride_w, p.dilation_h, p.dilation_w,
                                       p.pad_top, p.pad_left, p.pad_bottom, p.pad_right, p.groups,
                                       core::to_schema(p.pad_mode), kind, p.clamp_min, p.clamp_max, flip,
                                       constant)
      .Union();
}

bool folds_anything(const BinaryConv2DFusion& f) {
  return f.residual != -1 || f.quantize || !f.threshold.empty() || !f.flip.empty() || !f.constant.empty() ||
         f.quantize_levels;
}

}  // namespace

int ModelBuilder::Impl::conv_group_channels(const std::string& name, fb::OperatorOptions type, int x, int out_c,
                                            int groups) {
  if (need(name, type, x, 4) && groups > 0 && out_c > 0 && shape_of(x)[3] % groups == 0)
    return shape_of(x)[3] / groups;
  if (valid(x)) fail(name, type, "groups " + std::to_string(groups) + " must divide the input channels and out_c > 0");
  return -1;
}

void ModelBuilder::Impl::float_layer_constants(const std::string& name, fb::OperatorOptions type, const Weights& w,
                                               const std::vector<float>& bias, const std::vector<int>& shape,
                                               std::vector<int>* in) {
  const int out_c = shape.front(), per_group_in = shape.back();
  const int kh = shape.size() == 4 ? shape[1] : 1, kw = shape.size() == 4 ? shape[2] : 1;
  // Int8 and 1-bit weights are weight_scale[o] * stored; the format puts weight_scale after a (then required) bias.
  const bool scaled = w.storage == Weights::Storage::kInt8 || w.storage == Weights::Storage::kBinary;
  if (!sized(name, type, "weights", w.count(), size_t(out_c) * per_group_in * kh * kw) ||
      (scaled && !sized(name, type, "weight_scale", w.scale.size(), size_t(out_c))) ||
      (!bias.empty() && !sized(name, type, "bias", bias.size(), size_t(out_c))))
    return;
  weight_encoding::StoredWeights stored = weight_encoding::store(w, out_c, per_group_in, kh, kw);
  in->push_back(constant(name + "/weights", shape, stored.dtype, std::move(stored.bytes)));
  if (scaled) {
    in->push_back(floats(name + "/bias", {out_c}, bias.empty() ? std::vector<float>(size_t(out_c), 0.0f) : bias));
    in->push_back(floats(name + "/weight_scale", {out_c}, w.scale));
  } else if (!bias.empty()) {
    in->push_back(floats(name + "/bias", {out_c}, bias));
  }
}

// ---- Float layers ----

int ModelBuilder::conv2d(const std::string& name, int x, int out_c, const Weights& w, const std::vector<float>& bias,
                         const Conv2DParams& p) {
  Impl& b = *impl_;
  const auto type = T::Conv2DOptions;
  std::vector<int> in = {x};
  const int i_n = b.conv_group_channels(name, type, x, out_c, p.groups);
  if (i_n >= 0) b.float_layer_constants(name, type, w, bias, {out_c, p.kernel_h, p.kernel_w, i_n}, &in);
  return b.add(name, type, [p, q8 = int8_execution(w)](Fbb& f) {
    const auto q_table = int8_table(f, q8);
    return fb::CreateConv2DOptions(f, p.kernel_h, p.kernel_w, p.stride_h, p.stride_w, p.dilation_h, p.dilation_w,
                                   p.pad_top, p.pad_left, p.pad_bottom, p.pad_right, p.groups, p.clamp_min,
                                   p.clamp_max, q_table).Union();
  }, in, b.window_shape(name, type, x, out_c, p));
}

int ModelBuilder::fully_connected(const std::string& name, int x, int out_c, const Weights& w,
                                  const std::vector<float>& bias, float lo, float hi) {
  Impl& b = *impl_;
  const auto type = T::FullyConnectedOptions;
  std::vector<int> in = {x};
  int n = 1;
  if (b.need(name, type, x, 2)) {
    n = b.shape_of(x)[0];
    b.float_layer_constants(name, type, w, bias, {out_c, b.shape_of(x)[1]}, &in);
  }
  return b.add(name, type, [lo, hi, q8 = int8_execution(w)](Fbb& f) {
    const auto q_table = int8_table(f, q8);
    return fb::CreateFullyConnectedOptions(f, lo, hi, q_table).Union();
  }, in, {n, out_c});
}

// ---- Binary layers ----

int ModelBuilder::binary_conv2d(const std::string& name, int x, int out_c, const std::vector<float>& w,
                                const std::vector<float>& multiplier, const std::vector<float>& bias,
                                const BinaryConv2DParams& p, const BinaryConv2DFusion& fusion, int* bits) {
  Impl& b = *impl_;
  const auto type = T::BinaryConv2DOptions;
  std::vector<int> in = {x};
  if (p.weight_bits != 1 && p.weight_bits != 2)
    b.fail(name, type, "weight_bits = " + std::to_string(p.weight_bits) + ", expected 1 or 2");
  const int i_n = b.conv_group_channels(name, type, x, out_c, p.groups);
  if (i_n >= 0 && b.sized(name, type, "weights", w.size(), size_t(out_c) * i_n * p.kernel_h * p.kernel_w) &&
      b.sized(name, type, "multiplier", multiplier.size(), size_t(out_c)) &&
      b.sized(name, type, "bias", bias.size(), size_t(out_c))) {
    const weight_encoding::PackedWeights packed =
        weight_encoding::pack_binary(weight_encoding::oihw_to_ohwi(w, out_c, i_n, p.kernel_h, p.kernel_w),
                                     size_t(out_c) * p.kernel_h * p.kernel_w, size_t(i_n), p.weight_bits);
    in.push_back(b.words(name + "/weights", {out_c, p.kernel_h, p.kernel_w, i_n}, packed.words, packed.levels));
    in.push_back(b.floats(name + "/multiplier", {out_c}, multiplier));
    in.push_back(b.floats(name + "/bias", {out_c}, bias));
  }
  const int y = b.add(name, type, [p, fusion](Fbb& f) { return binary_conv2d_options(f, p, fusion); }, in,
                      b.window_shape(name, type, x, out_c, p),
                      p.bitpacked_output ? fb::DType::BitPacked : fb::DType::Float32);
  if (!folds_anything(fusion)) return y;

  // Fusions: inputs[4] residual, inputs[5] threshold, inputs[6] / [7] level scale / shift (-1 where absent,
  // trailing -1s left out), outputs[1] bits or levels.
  if (p.bitpacked_output) b.fail(name, type, "fusions need a float output (bitpacked_output is set)");
  if (fusion.quantize && fusion.quantize_levels) b.fail(name, type, "quantize and quantize_levels: one second output");
  if (fusion.quantize_levels && fusion.levels.kind == LevelKind::kBinary)
    b.fail(name, type, "quantize_levels with levels Binary: use quantize");
  const std::vector<int> shape = b.shape_of(y);
  if (fusion.residual != -1 && b.need(name, type, fusion.residual, 4) && b.shape_of(fusion.residual) != shape)
    b.fail(name, type, "residual " + rt::shape_string(b.shape_of(fusion.residual)) + " must have the output's shape " +
                           rt::shape_string(shape));
  std::vector<int> extra = {fusion.residual, -1};
  if (fusion.quantize && !fusion.threshold.empty() &&
      b.sized(name, type, "threshold", fusion.threshold.size(), size_t(out_c)))
    extra[1] = b.floats(name + "/quantize_threshold", {out_c}, fusion.threshold);
  if (fusion.quantize_levels &&
      (fusion.level_scale.empty() || b.sized(name, type, "level scale", fusion.level_scale.size(), size_t(out_c))) &&
      (fusion.level_shift.empty() || b.sized(name, type, "level shift", fusion.level_shift.size(), size_t(out_c)))) {
    const size_t c = size_t(out_c);
    extra.push_back(b.floats(name + "/level_scale", {out_c},
                             fusion.level_scale.empty() ? std::vector<float>(c, 1.0f) : fusion.level_scale));
    extra.push_back(b.floats(name + "/level_shift", {out_c},
                             fusion.level_shift.empty() ? std::vector<float>(c, 0.0f) : fusion.level_shift));
  }
  while (!extra.empty() && extra.back() == -1) extra.pop_back();
  Impl::Op& op = b.ops.back();
  if (op.inputs.size() == 4) op.inputs.insert(op.inputs.end(), extra.begin(), extra.end());
  if (fusion.quantize || fusion.quantize_levels) {
    const Levels& l = fusion.levels;
    rt::TensorLevels levels;
    if (fusion.quantize_levels) levels = {l.kind, l.bits, l.zero_level, l.scale};
    b.tensors.push_back({name + (fusion.quantize_levels ? "/levels" : "/bits"), shape, fb::DType::BitPacked, -1,
                         levels});
    op.more_outputs = {int(b.tensors.size()) - 1};
    if (bits != nullptr) *bits = op.more_outputs[0];
  }
  return y;
}

int ModelBuilder::binary_fully_connected(const std::string& name, int x, int out_c, const std::vector<float>& w,
                                         const std::vector<float>& multiplier, const std::vector<float>& bias,
                                         const BinaryFullyConnectedParams& p) {
  Impl& b = *impl_;
  const auto type = T::BinaryFullyConnectedOptions;
  std::vector<int> in = {x};
  if (p.weight_bits != 1 && p.weight_bits != 2)
    b.fail(name, type, "weight_bits = " + std::to_string(p.weight_bits) + ", expected 1 or 2");
  int n = 1;
  if (b.need(name, type, x, 2)) {
    n = b.shape_of(x)[0];
    const int k = b.shape_of(x)[1];
    if (b.sized(name, type, "weights", w.size(), size_t(out_c) * k) &&
        b.sized(name, type, "multiplier", multiplier.size(), size_t(out_c)) &&
        b.sized(name, type, "bias", bias.size(), size_t(out_c))) {
      const weight_encoding::PackedWeights packed =
          weight_encoding::pack_binary(w, size_t(out_c), size_t(k), p.weight_bits);
      in.push_back(b.words(name + "/weights", {out_c, k}, packed.words, packed.levels));
      in.push_back(b.floats(name + "/multiplier", {out_c}, multiplier));
      in.push_back(b.floats(name + "/bias", {out_c}, bias));
    }
  }
  const auto kind = p.bitpacked_output ? fb::OutputKind::BitPacked : fb::OutputKind::Float;
  return b.add(name, type, [kind, p](Fbb& f) {
    return fb::CreateBinaryFullyConnectedOptions(f, kind, p.clamp_min, p.clamp_max).Union();
  }, in, {n, out_c}, p.bitpacked_output ? fb::DType::BitPacked : fb::DType::Float32);
}

}  // namespace onebit
