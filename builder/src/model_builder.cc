// ModelBuilder: an in-memory graph (tensors, constant buffers, operators with their options) that add_*
// grows while inferring each output's shape, serialized by finish() and then loaded back through the
// Verifier and validate_model, so that a builder can never emit a file the runtime would reject.
//
// Layout conversions done here (and only here): float conv weights OIHW -> OHWI; binary weights OIHW ±1
// floats -> OHWI packed along I (bit 1 = -1, see bit_contract.h); binary FC weights [out][in] -> packed rows;
// 2-bit Bipolar weights -> level indices q = (L + 3) / 2, packed planes-major (plane i = bit i of q, each
// plane a whole packed OHWI tensor, bit_contract.h "k-bit tensors"). Tensors keep their levels here
// (Impl::Tensor::levels), so a binary conv knows what its input holds and the file records it.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>

#include "graph.h"
#include "model_access.h"
#include "onebit/builder/model_builder.h"
#include "onebit/kernels/bit_contract.h"
#include "onebit/model.h"

namespace onebit {

static_assert(int(BinaryPadding::kZero) == int(fb::BinaryPadMode::Zero) &&
              int(BinaryPadding::kOne) == int(fb::BinaryPadMode::One) &&
              int(BinaryPadding::kMinusOne) == int(fb::BinaryPadMode::MinusOne),
              "BinaryPadding mirrors the format's BinaryPadMode");

using Fbb = flatbuffers::FlatBufferBuilder;
using OptionsFn = std::function<flatbuffers::Offset<void>(Fbb&)>;

struct ModelBuilder::Impl {
  struct Tensor {
    std::string name;
    std::vector<int> shape;
    fb::DType dtype = fb::DType::Float32;
    int buffer = -1;
    rt::TensorLevels levels;  // BitPacked only
  };
  struct Op {
    std::string name;
    fb::OperatorOptions type;
    OptionsFn options;
    std::vector<int> inputs;
    int output;
    std::vector<int> more_outputs;  // outputs[1..]: BinaryConv2D FloatAndBitPacked's bits
  };
  std::vector<Tensor> tensors;
  std::vector<std::vector<uint8_t>> buffers;
  std::vector<Op> ops;
  std::vector<int> inputs, outputs;
  ModelMetadata metadata;
  std::string error;

  bool fail(const std::string& op, fb::OperatorOptions type, const std::string& what) {
    if (error.empty()) error = "ModelBuilder: '" + op + "' (" + rt::op_type_name(type) + "): " + what;
    return false;
  }
  bool valid(int t) const { return t >= 0 && size_t(t) < tensors.size(); }
  /// Checks that `t` exists and has rank `rank` (0: any rank).
  bool need(const std::string& op, fb::OperatorOptions type, int t, size_t rank) {
    if (!valid(t)) return fail(op, type, "tensor id " + std::to_string(t) + " does not exist");
    if (rank != 0 && tensors[size_t(t)].shape.size() != rank)
      return fail(op, type, "input " + rt::shape_string(tensors[size_t(t)].shape) + " must have rank " +
                                std::to_string(rank));
    return true;
  }
  const std::vector<int>& shape_of(int t) const {
    static const std::vector<int> kNone;
    return valid(t) ? tensors[size_t(t)].shape : kNone;
  }
  int constant(const std::string& name, std::vector<int> shape, fb::DType dtype, std::vector<uint8_t> bytes) {
    buffers.push_back(std::move(bytes));
    tensors.push_back({name, std::move(shape), dtype, int(buffers.size()) - 1, {}});
    return int(tensors.size()) - 1;
  }
  int floats(const std::string& name, std::vector<int> shape, const std::vector<float>& v) {
    std::vector<uint8_t> bytes(v.size() * sizeof(float));
    if (!v.empty()) std::memcpy(bytes.data(), v.data(), bytes.size());
    return constant(name, std::move(shape), fb::DType::Float32, std::move(bytes));
  }
  int words(const std::string& name, std::vector<int> shape, const std::vector<uint32_t>& v,
            const rt::TensorLevels& levels = {}) {
    std::vector<uint8_t> bytes(v.size() * sizeof(uint32_t));
    if (!v.empty()) std::memcpy(bytes.data(), v.data(), bytes.size());
    const int t = constant(name, std::move(shape), fb::DType::BitPacked, std::move(bytes));
    tensors[size_t(t)].levels = levels;
    return t;
  }
  /// Binary weights (weight_bits 1: signs) or Bipolar 2-bit weights (nearest of {-3, -1, 1, 3}) of `rows`
  /// rows of `cols`, row-major, as a BitPacked constant.
  int weight_words(const std::string& name, std::vector<int> shape, const std::vector<float>& v, size_t rows,
                   size_t cols, int weight_bits);
  rt::TensorLevels levels_of(int t) const { return valid(t) ? tensors[size_t(t)].levels : rt::TensorLevels(); }
  int add(const std::string& name, fb::OperatorOptions type, OptionsFn options, std::vector<int> in,
          std::vector<int> out_shape, fb::DType out_dtype = fb::DType::Float32) {
    if (out_shape.empty()) out_shape = {1};
    tensors.push_back({name, std::move(out_shape), out_dtype, -1, {}});
    const int out = int(tensors.size()) - 1;
    ops.push_back({name, type, std::move(options), std::move(in), out, {}});
    return out;
  }
  /// NHWC output of a window op; on a window that does not fit, records the error and returns 1x1.
  std::vector<int> window_shape(const std::string& op, fb::OperatorOptions type, int x, int out_c,
                                const Conv2DParams& p) {
    const std::vector<int>& s = shape_of(x);
    if (s.size() != 4) return {1, 1, 1, out_c};
    const int64_t oh = rt::window_output_size(s[1], p.pad_top, p.pad_bottom, p.kernel_h, p.stride_h, p.dilation_h);
    const int64_t ow = rt::window_output_size(s[2], p.pad_left, p.pad_right, p.kernel_w, p.stride_w, p.dilation_w);
    if (oh < 1 || ow < 1 || oh > rt::kMaxDim || ow > rt::kMaxDim) {
      fail(op, type, "window does not fit input " + rt::shape_string(s));
      return {s[0], 1, 1, out_c};
    }
    return {s[0], int(oh), int(ow), out_c};
  }
  static int pool(Impl& b, const std::string& name, fb::OperatorOptions type, int x, const Pool2DParams& p);
  static int channelwise(Impl& b, const std::string& name, fb::OperatorOptions type, int x,
                         const std::vector<std::pair<const char*, const std::vector<float>*>>& vectors,
                         OptionsFn options);
  bool sized(const std::string& op, fb::OperatorOptions type, const char* what, size_t have, size_t want) {
    if (have == want) return true;
    return fail(op, type, std::string(what) + " has " + std::to_string(have) + " values, expected " + std::to_string(want));
  }
};

namespace {

using T = fb::OperatorOptions;

flatbuffers::Offset<void> binary_conv2d_options(Fbb& f, const BinaryConv2DParams& p, const BinaryConv2DFusion& fusion) {
  const fb::OutputKind kind = p.bitpacked_output ? fb::OutputKind::BitPacked
                              : fusion.quantize  ? fb::OutputKind::FloatAndBitPacked
                                                 : fb::OutputKind::Float;
  flatbuffers::Offset<flatbuffers::Vector<uint8_t>> flip;
  flatbuffers::Offset<flatbuffers::Vector<int8_t>> constant;
  if (!fusion.flip.empty()) flip = f.CreateVector(fusion.flip);
  if (!fusion.constant.empty()) constant = f.CreateVector(fusion.constant);
  return fb::CreateBinaryConv2DOptions(f, p.kernel_h, p.kernel_w, p.stride_h, p.stride_w, p.dilation_h, p.dilation_w,
                                       p.pad_top, p.pad_left, p.pad_bottom, p.pad_right, p.groups,
                                       fb::BinaryPadMode(int(p.pad_mode)), kind, p.clamp_min, p.clamp_max, flip,
                                       constant)
      .Union();
}

Conv2DParams pool_as_conv(const Pool2DParams& p) {
  Conv2DParams c;
  c.kernel_h = p.kernel_h;
  c.kernel_w = p.kernel_w;
  c.stride_h = p.stride_h;
  c.stride_w = p.stride_w;
  c.pad_top = p.pad_top;
  c.pad_left = p.pad_left;
  c.pad_bottom = p.pad_bottom;
  c.pad_right = p.pad_right;
  return c;
}

/// OIHW -> OHWI (the float element order XNNPACK and the format use).
std::vector<float> oihw_to_ohwi(const std::vector<float>& w, int o_n, int i_n, int kh, int kw) {
  std::vector<float> r(w.size());
  for (int o = 0; o < o_n; ++o)
    for (int i = 0; i < i_n; ++i)
      for (int y = 0; y < kh; ++y)
        for (int x = 0; x < kw; ++x)
          r[((size_t(o) * kh + y) * kw + x) * i_n + i] = w[((size_t(o) * i_n + i) * kh + y) * kw + x];
  return r;
}

/// rows x cols floats (row-major, already in OHW-major / I-minor order) -> packed rows of packed_words(cols).
std::vector<uint32_t> pack_rows(const std::vector<float>& v, size_t rows, size_t cols) {
  const size_t words = packed_words(cols);
  std::vector<uint32_t> r(rows * words, 0);
  for (size_t row = 0; row < rows; ++row)
    for (size_t c = 0; c < cols; ++c)
      r[row * words + c / kBitsPerWord] |= binarize_bit(v[row * cols + c]) << (c % kBitsPerWord);
  return r;
}

/// The Bipolar 2-bit level index of the level nearest w in {-3, -1, 1, 3} (ties toward +inf; NaN -> q 0).
uint32_t bipolar2_index(float w) {
  const float t = std::floor((w + 3.0f) * 0.5f + 0.5f);
  return !(t > 0.0f) ? 0u : t >= 3.0f ? 3u : uint32_t(t);
}

/// Level indices q (one per element, rows x cols row-major) -> `bits` planes of packed rows, planes-major.
std::vector<uint32_t> pack_planes(const std::vector<uint32_t>& q, size_t rows, size_t cols, int bits) {
  const size_t words = packed_words(cols), plane = rows * words;
  std::vector<uint32_t> r(size_t(bits) * plane, 0);
  for (int i = 0; i < bits; ++i)
    for (size_t row = 0; row < rows; ++row)
      for (size_t c = 0; c < cols; ++c)
        r[size_t(i) * plane + row * words + c / kBitsPerWord] |= ((q[row * cols + c] >> i) & 1u) << (c % kBitsPerWord);
  return r;
}

}  // namespace

int ModelBuilder::Impl::weight_words(const std::string& name, std::vector<int> shape, const std::vector<float>& v,
                                     size_t rows, size_t cols, int weight_bits) {
  if (weight_bits == 1) return words(name, std::move(shape), pack_rows(v, rows, cols));
  std::vector<uint32_t> q(v.size());
  for (size_t i = 0; i < v.size(); ++i) q[i] = bipolar2_index(v[i]);
  rt::TensorLevels levels;
  levels.kind = LevelKind::kBipolar;
  levels.bits = 2;
  return words(name, std::move(shape), pack_planes(q, rows, cols, 2), levels);
}

ModelBuilder::ModelBuilder() : impl_(new Impl()) {}
ModelBuilder::~ModelBuilder() = default;

int ModelBuilder::add_input(const std::string& name, const std::vector<int>& shape) {
  impl_->tensors.push_back({name, shape, fb::DType::Float32, -1, {}});
  impl_->inputs.push_back(int(impl_->tensors.size()) - 1);
  return impl_->inputs.back();
}

void ModelBuilder::mark_output(int tensor) { impl_->outputs.push_back(tensor); }
const std::vector<int>& ModelBuilder::shape(int tensor) const { return impl_->shape_of(tensor); }

namespace {

flatbuffers::Offset<fb::Int8Quantization> int8_table(Fbb& f, const Int8Params& q) {
  return fb::CreateInt8Quantization(f, q.input_scale, int8_t(q.input_zero_point), q.output_scale,
                                    int8_t(q.output_zero_point));
}

/// Conv2D with float or 1-bit weights: the checks, options and output shape both share. `weights(i_n, &in)`
/// checks the weight-related sizes (i_n = input channels per group) and appends the constant inputs.
/// (B is ModelBuilder::Impl, a private type: deduced, not named.)
template <typename B>
int add_conv2d(B& b, const std::string& name, int x, int out_c, const Conv2DParams& p,
               const std::function<void(int, std::vector<int>*)>& weights, const Int8Params* q8 = nullptr) {
  const auto type = T::Conv2DOptions;
  std::vector<int> in = {x};
  if (b.need(name, type, x, 4) && p.groups > 0 && out_c > 0 && b.shape_of(x)[3] % p.groups == 0) {
    weights(b.shape_of(x)[3] / p.groups, &in);
  } else if (b.valid(x)) {
    b.fail(name, type, "groups " + std::to_string(p.groups) + " must divide the input channels and out_c > 0");
  }
  const Int8Params q = q8 ? *q8 : Int8Params();
  const bool int8 = q8 != nullptr;
  return b.add(name, type, [p, q, int8](Fbb& f) {
    const auto q_table = int8 ? int8_table(f, q) : flatbuffers::Offset<fb::Int8Quantization>();
    return fb::CreateConv2DOptions(f, p.kernel_h, p.kernel_w, p.stride_h, p.stride_w, p.dilation_h, p.dilation_w,
                                   p.pad_top, p.pad_left, p.pad_bottom, p.pad_right, p.groups, p.clamp_min,
                                   p.clamp_max, q_table).Union();
  }, in, b.window_shape(name, type, x, out_c, p));
}

/// FullyConnected with float or 1-bit weights; `weights(k, &in)` as for add_conv2d (k = input features).
template <typename B>
int add_fully_connected(B& b, const std::string& name, int x, int out_c, float lo, float hi,
                        const std::function<void(int, std::vector<int>*)>& weights, const Int8Params* q8 = nullptr) {
  const auto type = T::FullyConnectedOptions;
  std::vector<int> in = {x};
  int n = 1;
  if (b.need(name, type, x, 2)) {
    n = b.shape_of(x)[0];
    weights(b.shape_of(x)[1], &in);
  }
  const Int8Params q = q8 ? *q8 : Int8Params();
  const bool int8 = q8 != nullptr;
  return b.add(name, type, [lo, hi, q, int8](Fbb& f) {
    const auto q_table = int8 ? int8_table(f, q) : flatbuffers::Offset<fb::Int8Quantization>();
    return fb::CreateFullyConnectedOptions(f, lo, hi, q_table).Union();
  }, in, {n, out_c});
}

}  // namespace

int ModelBuilder::Impl::pool(Impl& b, const std::string& name, fb::OperatorOptions type, int x, const Pool2DParams& p) {
  const int c = b.need(name, type, x, 4) ? b.shape_of(x)[3] : 1;
  const fb::DType dtype = b.valid(x) ? b.tensors[size_t(x)].dtype : fb::DType::Float32;
  const std::vector<int> out = b.window_shape(name, type, x, c, pool_as_conv(p));
  OptionsFn options;
  if (type == T::BinaryMaxPool2DOptions) {
    options = [p](Fbb& f) {
      return fb::CreateBinaryMaxPool2DOptions(f, p.kernel_h, p.kernel_w, p.stride_h, p.stride_w, p.pad_top,
                                              p.pad_left, p.pad_bottom, p.pad_right).Union();
    };
  } else {
    options = [p](Fbb& f) {
      return fb::CreatePool2DOptions(f, p.kernel_h, p.kernel_w, p.stride_h, p.stride_w, p.pad_top, p.pad_left,
                                     p.pad_bottom, p.pad_right, p.count_include_pad).Union();
    };
  }
  return b.add(name, type, options, {x}, out, dtype);
}

int ModelBuilder::max_pool(const std::string& name, int x, const Pool2DParams& p) {
  return Impl::pool(*impl_, name, T::MaxPool2DOptions, x, p);
}
int ModelBuilder::avg_pool(const std::string& name, int x, const Pool2DParams& p) {
  return Impl::pool(*impl_, name, T::AvgPool2DOptions, x, p);
}
int ModelBuilder::binary_max_pool(const std::string& name, int x, const Pool2DParams& p) {
  return Impl::pool(*impl_, name, T::BinaryMaxPool2DOptions, x, p);
}

int ModelBuilder::global_avg_pool(const std::string& name, int x) {
  Impl& b = *impl_;
  const auto type = T::GlobalAvgPoolOptions;
  std::vector<int> out = {1, 1};
  if (b.need(name, type, x, 4)) out = {b.shape_of(x)[0], b.shape_of(x)[3]};
  return b.add(name, type, [](Fbb& f) { return fb::CreateGlobalAvgPoolOptions(f).Union(); }, {x}, out);
}

int ModelBuilder::add(const std::string& name, int a, int c, float lo, float hi) {
  Impl& b = *impl_;
  const auto type = T::AddOptions;
  std::vector<int> out;
  if (b.need(name, type, a, 0) && b.need(name, type, c, 0)) {
    const std::vector<int>& sa = b.shape_of(a);
    const std::vector<int>& sc = b.shape_of(c);
    out.assign(std::max(sa.size(), sc.size()), 1);
    for (size_t i = 0; i < out.size(); ++i) {
      const int da = i < out.size() - sa.size() ? 1 : sa[i - (out.size() - sa.size())];
      const int dc = i < out.size() - sc.size() ? 1 : sc[i - (out.size() - sc.size())];
      if (da != dc && da != 1 && dc != 1) b.fail(name, type, rt::shape_string(sa) + " and " + rt::shape_string(sc) + " do not broadcast");
      out[i] = std::max(da, dc);
    }
  }
  return b.add(name, type, [lo, hi](Fbb& f) { return fb::CreateAddOptions(f, lo, hi).Union(); }, {a, c}, out);
}

/// Ops whose output has the input's shape, with per-channel constant vectors (size = last dim).
int ModelBuilder::Impl::channelwise(Impl& b, const std::string& name, fb::OperatorOptions type, int x,
                       const std::vector<std::pair<const char*, const std::vector<float>*>>& vectors,
                       OptionsFn options) {
  std::vector<int> in = {x};
  std::vector<int> out;
  if (b.need(name, type, x, 0)) {
    out = b.shape_of(x);
    for (const auto& [what, v] : vectors) {
      if (!b.sized(name, type, what, v->size(), size_t(out.back()))) break;
      in.push_back(b.floats(name + "/" + what, {out.back()}, *v));
    }
  }
  return b.add(name, type, std::move(options), in, out);
}

int ModelBuilder::mul(const std::string& name, int x, const std::vector<float>& scale) {
  return Impl::channelwise(*impl_, name, T::MulOptions, x, {{"scale", &scale}},
                     [](Fbb& f) { return fb::CreateMulOptions(f).Union(); });
}
int ModelBuilder::channel_affine(const std::string& name, int x, const std::vector<float>& scale,
                                 const std::vector<float>& shift) {
  return Impl::channelwise(*impl_, name, T::ChannelAffineOptions, x, {{"scale", &scale}, {"shift", &shift}},
                     [](Fbb& f) { return fb::CreateChannelAffineOptions(f).Union(); });
}
int ModelBuilder::relu(const std::string& name, int x) {
  return Impl::channelwise(*impl_, name, T::ReluOptions, x, {}, [](Fbb& f) { return fb::CreateReluOptions(f).Union(); });
}
int ModelBuilder::prelu(const std::string& name, int x, const std::vector<float>& slope) {
  return Impl::channelwise(*impl_, name, T::PReluOptions, x, {{"slope", &slope}},
                     [](Fbb& f) { return fb::CreatePReluOptions(f).Union(); });
}
int ModelBuilder::clamp(const std::string& name, int x, float lo, float hi) {
  return Impl::channelwise(*impl_, name, T::ClampOptions, x, {},
                     [lo, hi](Fbb& f) { return fb::CreateClampOptions(f, lo, hi).Union(); });
}
int ModelBuilder::softmax(const std::string& name, int x, bool log) {
  return Impl::channelwise(*impl_, name, T::SoftmaxOptions, x, {},
                     [log](Fbb& f) { return fb::CreateSoftmaxOptions(f, log).Union(); });
}

int ModelBuilder::reshape(const std::string& name, int x, const std::vector<int>& shape) {
  return impl_->add(name, T::ReshapeOptions, [](Fbb& f) { return fb::CreateReshapeOptions(f).Union(); }, {x}, shape);
}

int ModelBuilder::concat(const std::string& name, const std::vector<int>& xs, int axis) {
  Impl& b = *impl_;
  const auto type = T::ConcatOptions;
  std::vector<int> out;
  bool ok = !xs.empty();
  for (int x : xs) ok = ok && b.need(name, type, x, 0);
  if (ok) {
    out = b.shape_of(xs[0]);
    const int rank = int(out.size());
    const int a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= rank) {
      b.fail(name, type, "axis " + std::to_string(axis) + " out of range for rank " + std::to_string(rank));
    } else {
      out[size_t(a)] = 0;
      for (int x : xs) out[size_t(a)] += b.shape_of(x).size() == out.size() ? b.shape_of(x)[size_t(a)] : 0;
    }
  }
  return b.add(name, type, [axis](Fbb& f) { return fb::CreateConcatOptions(f, axis).Union(); }, xs, out);
}

int ModelBuilder::pad(const std::string& name, int x, const std::vector<int>& pads, float value) {
  Impl& b = *impl_;
  const auto type = T::PadOptions;
  std::vector<int> out;
  if (b.need(name, type, x, 0)) {
    out = b.shape_of(x);
    if (b.sized(name, type, "pads", pads.size(), 2 * out.size())) {
      for (size_t i = 0; i < pads.size(); ++i) out[i % out.size()] += pads[i];
    }
  }
  return b.add(name, type, [pads, value](Fbb& f) { return fb::CreatePadOptions(f, f.CreateVector(pads), value).Union(); },
               {x}, out);
}

int ModelBuilder::quantize(const std::string& name, int x, const std::vector<float>& threshold,
                           const std::vector<bool>& flip, const std::vector<int8_t>& constant) {
  Impl& b = *impl_;
  const auto type = T::QuantizeOptions;
  std::vector<int> in = {x};
  std::vector<int> out;
  if (b.need(name, type, x, 0)) {
    out = b.shape_of(x);
    if (!threshold.empty() && b.sized(name, type, "threshold", threshold.size(), size_t(out.back())))
      in.push_back(b.floats(name + "/threshold", {out.back()}, threshold));
  }
  return b.add(name, type, [flip, constant](Fbb& f) {
    flatbuffers::Offset<flatbuffers::Vector<uint8_t>> fv;
    flatbuffers::Offset<flatbuffers::Vector<int8_t>> cv;
    if (!flip.empty()) fv = f.CreateVector(flip);
    if (!constant.empty()) cv = f.CreateVector(constant);
    return fb::CreateQuantizeOptions(f, fv, cv).Union();
  }, in, out, fb::DType::BitPacked);
}

int ModelBuilder::dequantize(const std::string& name, int x) {
  Impl& b = *impl_;
  return b.add(name, T::DequantizeOptions, [](Fbb& f) { return fb::CreateDequantizeOptions(f).Union(); }, {x},
               b.shape_of(x));
}

int ModelBuilder::binary_conv2d(const std::string& name, int x, int out_c, const std::vector<float>& w,
                                const std::vector<float>& multiplier, const std::vector<float>& bias,
                                const BinaryConv2DParams& p) {
  Impl& b = *impl_;
  const auto type = T::BinaryConv2DOptions;
  std::vector<int> in = {x};
  if (p.weight_bits != 1 && p.weight_bits != 2)
    b.fail(name, type, "weight_bits = " + std::to_string(p.weight_bits) + ", expected 1 or 2");
  if (b.need(name, type, x, 4) && p.groups > 0 && out_c > 0 && b.shape_of(x)[3] % p.groups == 0) {
    const int i_n = b.shape_of(x)[3] / p.groups;
    if (b.sized(name, type, "weights", w.size(), size_t(out_c) * i_n * p.kernel_h * p.kernel_w) &&
        b.sized(name, type, "multiplier", multiplier.size(), size_t(out_c)) &&
        b.sized(name, type, "bias", bias.size(), size_t(out_c))) {
      const std::vector<float> ohwi = oihw_to_ohwi(w, out_c, i_n, p.kernel_h, p.kernel_w);
      in.push_back(b.weight_words(name + "/weights", {out_c, p.kernel_h, p.kernel_w, i_n}, ohwi,
                                  size_t(out_c) * p.kernel_h * p.kernel_w, size_t(i_n), p.weight_bits));
      in.push_back(b.floats(name + "/multiplier", {out_c}, multiplier));
      in.push_back(b.floats(name + "/bias", {out_c}, bias));
    }
  } else if (b.valid(x)) {
    b.fail(name, type, "groups " + std::to_string(p.groups) + " must divide the input channels and out_c > 0");
  }
  return b.add(name, type, [p](Fbb& f) { return binary_conv2d_options(f, p, {}); }, in,
               b.window_shape(name, type, x, out_c, p), p.bitpacked_output ? fb::DType::BitPacked : fb::DType::Float32);
}

int ModelBuilder::binary_conv2d_fused(const std::string& name, int x, int out_c, const std::vector<float>& w,
                                      const std::vector<float>& multiplier, const std::vector<float>& bias,
                                      const BinaryConv2DParams& p, const BinaryConv2DFusion& fusion, int* bits) {
  Impl& b = *impl_;
  const auto type = T::BinaryConv2DOptions;
  const int y = binary_conv2d(name, x, out_c, w, multiplier, bias, p);
  if (p.bitpacked_output) b.fail(name, type, "fusions need a float output (bitpacked_output is set)");
  const std::vector<int> shape = b.shape_of(y);
  if (fusion.residual != -1 && b.need(name, type, fusion.residual, 4) && b.shape_of(fusion.residual) != shape)
    b.fail(name, type, "residual " + rt::shape_string(b.shape_of(fusion.residual)) + " must have the output's shape " +
                           rt::shape_string(shape));
  // inputs[4] residual, inputs[5] threshold; -1 where absent, trailing -1s left out.
  std::vector<int> extra = {fusion.residual, -1};
  if (fusion.quantize && !fusion.threshold.empty() &&
      b.sized(name, type, "threshold", fusion.threshold.size(), size_t(out_c)))
    extra[1] = b.floats(name + "/quantize_threshold", {out_c}, fusion.threshold);
  while (!extra.empty() && extra.back() == -1) extra.pop_back();
  Impl::Op& op = b.ops.back();
  if (op.inputs.size() == 4) op.inputs.insert(op.inputs.end(), extra.begin(), extra.end());
  BinaryConv2DFusion f = fusion;
  op.options = [p, f](Fbb& fbb) { return binary_conv2d_options(fbb, p, f); };
  if (fusion.quantize) {
    b.tensors.push_back({name + "/bits", shape, fb::DType::BitPacked, -1, {}});
    op.more_outputs = {int(b.tensors.size()) - 1};
    if (bits != nullptr) *bits = op.more_outputs[0];
  }
  return y;
}

int ModelBuilder::binary_fully_connected(const std::string& name, int x, int out_c, const std::vector<float>& w,
                                         const std::vector<float>& multiplier, const std::vector<float>& bias,
                                         bool bitpacked_output, float lo, float hi, int weight_bits) {
  Impl& b = *impl_;
  const auto type = T::BinaryFullyConnectedOptions;
  std::vector<int> in = {x};
  if (weight_bits != 1 && weight_bits != 2)
    b.fail(name, type, "weight_bits = " + std::to_string(weight_bits) + ", expected 1 or 2");
  int n = 1;
  if (b.need(name, type, x, 2)) {
    n = b.shape_of(x)[0];
    const int k = b.shape_of(x)[1];
    if (b.sized(name, type, "weights", w.size(), size_t(out_c) * k) &&
        b.sized(name, type, "multiplier", multiplier.size(), size_t(out_c)) &&
        b.sized(name, type, "bias", bias.size(), size_t(out_c))) {
      in.push_back(b.weight_words(name + "/weights", {out_c, k}, w, size_t(out_c), size_t(k), weight_bits));
      in.push_back(b.floats(name + "/multiplier", {out_c}, multiplier));
      in.push_back(b.floats(name + "/bias", {out_c}, bias));
    }
  }
  const auto kind = bitpacked_output ? fb::OutputKind::BitPacked : fb::OutputKind::Float;
  return b.add(name, type, [kind, lo, hi](Fbb& f) {
    return fb::CreateBinaryFullyConnectedOptions(f, kind, lo, hi).Union();
  }, in, {n, out_c}, bitpacked_output ? fb::DType::BitPacked : fb::DType::Float32);
}

int ModelBuilder::quantize_levels(const std::string& name, int x, const Levels& levels, const std::vector<float>& scale,
                                  const std::vector<float>& shift) {
  Impl& b = *impl_;
  const auto type = T::QuantizeLevelsOptions;
  if (levels.kind == LevelKind::kBinary) b.fail(name, type, "levels Binary: use quantize()");
  std::vector<int> in = {x};
  std::vector<int> out;
  if (b.need(name, type, x, 0)) {
    out = b.shape_of(x);
    const size_t c = size_t(out.back());
    if ((scale.empty() || b.sized(name, type, "scale", scale.size(), c)) &&
        (shift.empty() || b.sized(name, type, "shift", shift.size(), c))) {
      in.push_back(b.floats(name + "/scale", {out.back()}, scale.empty() ? std::vector<float>(c, 1.0f) : scale));
      in.push_back(b.floats(name + "/shift", {out.back()}, shift.empty() ? std::vector<float>(c, 0.0f) : shift));
    }
  }
  const int y = b.add(name, type, [](Fbb& f) { return fb::CreateQuantizeLevelsOptions(f).Union(); }, in, out,
                      fb::DType::BitPacked);
  b.tensors[size_t(y)].levels = {levels.kind, levels.bits, levels.zero_level, levels.scale};
  return y;
}

int ModelBuilder::conv2d_binary_weights(const std::string& name, int x, int out_c, const std::vector<float>& signs,
                                        const std::vector<float>& weight_scale, const std::vector<float>& bias,
                                        const Conv2DParams& p) {
  Impl& b = *impl_;
  return add_conv2d(b, name, x, out_c, p, [&](int i_n, std::vector<int>* in) {
    const auto type = T::Conv2DOptions;
    if (b.sized(name, type, "weights", signs.size(), size_t(out_c) * i_n * p.kernel_h * p.kernel_w) &&
        b.sized(name, type, "weight_scale", weight_scale.size(), size_t(out_c)) &&
        (bias.empty() || b.sized(name, type, "bias", bias.size(), size_t(out_c)))) {
      const std::vector<float> ohwi = oihw_to_ohwi(signs, out_c, i_n, p.kernel_h, p.kernel_w);
      in->push_back(b.words(name + "/weights", {out_c, p.kernel_h, p.kernel_w, i_n},
                            pack_rows(ohwi, size_t(out_c) * p.kernel_h * p.kernel_w, size_t(i_n))));
      in->push_back(b.floats(name + "/bias", {out_c}, bias.empty() ? std::vector<float>(size_t(out_c), 0.0f) : bias));
      in->push_back(b.floats(name + "/weight_scale", {out_c}, weight_scale));
    }
  });
}

int ModelBuilder::fully_connected_binary_weights(const std::string& name, int x, int out_c,
                                                 const std::vector<float>& signs,
                                                 const std::vector<float>& weight_scale,
                                                 const std::vector<float>& bias, float lo, float hi) {
  Impl& b = *impl_;
  return add_fully_connected(b, name, x, out_c, lo, hi, [&](int k, std::vector<int>* in) {
    const auto type = T::FullyConnectedOptions;
    if (b.sized(name, type, "weights", signs.size(), size_t(out_c) * k) &&
        b.sized(name, type, "weight_scale", weight_scale.size(), size_t(out_c)) &&
        (bias.empty() || b.sized(name, type, "bias", bias.size(), size_t(out_c)))) {
      in->push_back(b.words(name + "/weights", {out_c, k}, pack_rows(signs, size_t(out_c), size_t(k))));
      in->push_back(b.floats(name + "/bias", {out_c}, bias.empty() ? std::vector<float>(size_t(out_c), 0.0f) : bias));
      in->push_back(b.floats(name + "/weight_scale", {out_c}, weight_scale));
    }
  });
}

// ---- Stored precision of float layers' weights: Float16, Int8 (issue 12) ----

uint16_t float_to_half(float v) {
  uint32_t x;
  std::memcpy(&x, &v, sizeof x);
  const uint16_t sign = uint16_t((x >> 16) & 0x8000u);
  const uint32_t a = x & 0x7fffffffu;
  if (a > 0x7f800000u) return uint16_t(sign | 0x7e00u);             // NaN
  if (a >= 0x477ff000u) return uint16_t(sign | 0x7c00u);            // >= 65520 rounds to infinity
  if (a < 0x38800000u) {                                            // below 2^-14: a subnormal half
    float m;
    std::memcpy(&m, &a, sizeof m);
    return uint16_t(sign | uint16_t(std::nearbyint(std::ldexp(m, 24))));  // exact scaling, then nearest even
  }
  uint32_t h = ((a >> 23) - 112) << 10 | ((a >> 13) & 0x3ffu);     // rebias 127 -> 15, keep 10 mantissa bits
  const uint32_t rest = a & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;         // nearest even; a carry bumps the exponent
  return uint16_t(sign | h);
}

void quantize_per_channel(const std::vector<float>& w, int out_c, std::vector<int8_t>* q, std::vector<float>* scale) {
  const size_t row = out_c > 0 ? w.size() / size_t(out_c) : 0;
  q->assign(w.size(), 0);
  scale->assign(size_t(out_c), 0.0f);
  for (size_t o = 0; o < size_t(out_c); ++o) {
    float m = 0;
    for (size_t i = 0; i < row; ++i) m = std::max(m, std::fabs(w[o * row + i]));
    const float s = m > 0 ? m / 127.0f : 1.17549435e-38f;
    (*scale)[o] = s;
    for (size_t i = 0; i < row; ++i)
      (*q)[o * row + i] = int8_t(std::clamp(std::nearbyint(w[o * row + i] / s), -127.0f, 127.0f));
  }
}

namespace {

std::vector<uint8_t> halves(const std::vector<float>& v) {
  std::vector<uint8_t> bytes(v.size() * 2);
  for (size_t i = 0; i < v.size(); ++i) {
    const uint16_t h = float_to_half(v[i]);
    bytes[2 * i] = uint8_t(h & 0xff);
    bytes[2 * i + 1] = uint8_t(h >> 8);
  }
  return bytes;
}

std::vector<uint8_t> int8_bytes(const std::vector<float>& v) {
  std::vector<uint8_t> bytes(v.size());
  for (size_t i = 0; i < v.size(); ++i) bytes[i] = uint8_t(int8_t(v[i]));
  return bytes;
}

}  // namespace

namespace {

/// Float weights stored as Float32, or as Float16 (`half`, expanded by the runtime at prepare). B is
/// ModelBuilder::Impl (private: deduced, not named).
template <typename B>
int float_weights(B& b, const std::string& name, const std::vector<int>& shape,
                  const std::vector<float>& w, bool half) {
  return half ? b.constant(name, shape, fb::DType::Float16, halves(w)) : b.floats(name, shape, w);
}

template <typename B>
int float_conv2d(B& b, const std::string& name, int x, int out_c, const std::vector<float>& w,
                 const std::vector<float>& bias, const Conv2DParams& p, bool half) {
  return add_conv2d(b, name, x, out_c, p, [&](int i_n, std::vector<int>* in) {
    const auto type = T::Conv2DOptions;
    if (b.sized(name, type, "weights", w.size(), size_t(out_c) * i_n * p.kernel_h * p.kernel_w) &&
        (bias.empty() || b.sized(name, type, "bias", bias.size(), size_t(out_c)))) {
      in->push_back(float_weights(b, name + "/weights", {out_c, p.kernel_h, p.kernel_w, i_n},
                                  oihw_to_ohwi(w, out_c, i_n, p.kernel_h, p.kernel_w), half));
      if (!bias.empty()) in->push_back(b.floats(name + "/bias", {out_c}, bias));
    }
  });
}

template <typename B>
int float_fully_connected(B& b, const std::string& name, int x, int out_c,
                          const std::vector<float>& w, const std::vector<float>& bias, float lo, float hi, bool half) {
  return add_fully_connected(b, name, x, out_c, lo, hi, [&](int k, std::vector<int>* in) {
    const auto type = T::FullyConnectedOptions;
    if (b.sized(name, type, "weights", w.size(), size_t(out_c) * k) &&
        (bias.empty() || b.sized(name, type, "bias", bias.size(), size_t(out_c)))) {
      in->push_back(float_weights(b, name + "/weights", {out_c, k}, w, half));
      if (!bias.empty()) in->push_back(b.floats(name + "/bias", {out_c}, bias));
    }
  });
}

}  // namespace

int ModelBuilder::conv2d(const std::string& name, int x, int out_c, const std::vector<float>& w,
                         const std::vector<float>& bias, const Conv2DParams& p) {
  return float_conv2d(*impl_, name, x, out_c, w, bias, p, false);
}
int ModelBuilder::conv2d_float16_weights(const std::string& name, int x, int out_c, const std::vector<float>& w,
                                         const std::vector<float>& bias, const Conv2DParams& p) {
  return float_conv2d(*impl_, name, x, out_c, w, bias, p, true);
}
int ModelBuilder::fully_connected(const std::string& name, int x, int out_c, const std::vector<float>& w,
                                  const std::vector<float>& bias, float lo, float hi) {
  return float_fully_connected(*impl_, name, x, out_c, w, bias, lo, hi, false);
}
int ModelBuilder::fully_connected_float16_weights(const std::string& name, int x, int out_c,
                                                  const std::vector<float>& w, const std::vector<float>& bias,
                                                  float lo, float hi) {
  return float_fully_connected(*impl_, name, x, out_c, w, bias, lo, hi, true);
}

int ModelBuilder::conv2d_int8_weights(const std::string& name, int x, int out_c, const std::vector<int8_t>& q,
                                      const std::vector<float>& weight_scale, const std::vector<float>& bias,
                                      const Conv2DParams& p, const Int8Params& q8) {
  Impl& b = *impl_;
  return add_conv2d(b, name, x, out_c, p, [&](int i_n, std::vector<int>* in) {
    const auto type = T::Conv2DOptions;
    if (b.sized(name, type, "weights", q.size(), size_t(out_c) * i_n * p.kernel_h * p.kernel_w) &&
        b.sized(name, type, "weight_scale", weight_scale.size(), size_t(out_c)) &&
        (bias.empty() || b.sized(name, type, "bias", bias.size(), size_t(out_c)))) {
      const std::vector<float> levels(q.begin(), q.end());
      in->push_back(b.constant(name + "/weights", {out_c, p.kernel_h, p.kernel_w, i_n}, fb::DType::Int8,
                               int8_bytes(oihw_to_ohwi(levels, out_c, i_n, p.kernel_h, p.kernel_w))));
      in->push_back(b.floats(name + "/bias", {out_c}, bias.empty() ? std::vector<float>(size_t(out_c), 0.0f) : bias));
      in->push_back(b.floats(name + "/weight_scale", {out_c}, weight_scale));
    }
  }, &q8);
}

int ModelBuilder::fully_connected_int8_weights(const std::string& name, int x, int out_c, const std::vector<int8_t>& q,
                                               const std::vector<float>& weight_scale, const std::vector<float>& bias,
                                               const Int8Params& q8, float lo, float hi) {
  Impl& b = *impl_;
  return add_fully_connected(b, name, x, out_c, lo, hi, [&](int k, std::vector<int>* in) {
    const auto type = T::FullyConnectedOptions;
    if (b.sized(name, type, "weights", q.size(), size_t(out_c) * k) &&
        b.sized(name, type, "weight_scale", weight_scale.size(), size_t(out_c)) &&
        (bias.empty() || b.sized(name, type, "bias", bias.size(), size_t(out_c)))) {
      in->push_back(b.constant(name + "/weights", {out_c, k}, fb::DType::Int8,
                               int8_bytes(std::vector<float>(q.begin(), q.end()))));
      in->push_back(b.floats(name + "/bias", {out_c}, bias.empty() ? std::vector<float>(size_t(out_c), 0.0f) : bias));
      in->push_back(b.floats(name + "/weight_scale", {out_c}, weight_scale));
    }
  }, &q8);
}

void ModelBuilder::set_metadata(const ModelMetadata& metadata) { impl_->metadata = metadata; }

Status ModelBuilder::finish(std::vector<uint8_t>* out) {
  const Impl& b = *impl_;
  if (!b.error.empty()) return Status::Error(b.error);
  Fbb f(1 << 16);
  std::vector<flatbuffers::Offset<fb::Buffer>> buffers;
  for (const std::vector<uint8_t>& data : b.buffers) {
    f.ForceVectorAlignment(data.size(), sizeof(uint8_t), 16);
    buffers.push_back(fb::CreateBuffer(f, f.CreateVector(data)));
  }
  std::vector<flatbuffers::Offset<fb::Tensor>> tensors;
  for (const Impl::Tensor& t : b.tensors)
    tensors.push_back(fb::CreateTensor(f, f.CreateString(t.name), f.CreateVector(t.shape), t.dtype, t.buffer,
                                       uint8_t(t.levels.bits), fb::LevelKind(int(t.levels.kind)),
                                       uint8_t(t.levels.zero_level), t.levels.scale));
  std::vector<flatbuffers::Offset<fb::Operator>> ops;
  for (const Impl::Op& op : b.ops) {
    const auto options = op.options(f);
    std::vector<int> outputs = {op.output};
    outputs.insert(outputs.end(), op.more_outputs.begin(), op.more_outputs.end());
    ops.push_back(fb::CreateOperator(f, op.type, options, f.CreateVector(op.inputs), f.CreateVector(outputs),
                                     f.CreateString(op.name)));
  }
  const ModelMetadata& m = b.metadata;
  const auto metadata = fb::CreateMetadata(f, f.CreateString(m.producer), f.CreateString(m.source),
                                           f.CreateVector(m.input_shape), f.CreateVector(m.input_mean),
                                           f.CreateVector(m.input_std), f.CreateVectorOfStrings(m.labels));
  const auto model = fb::CreateModel(f, kFormatVersion, f.CreateVector(tensors), f.CreateVector(buffers),
                                     f.CreateVector(ops), f.CreateVector(b.inputs), f.CreateVector(b.outputs), metadata);
  fb::FinishModelBuffer(f, model);
  std::vector<uint8_t> bytes(f.GetBufferPointer(), f.GetBufferPointer() + f.GetSize());
  std::unique_ptr<Model> check;
  const Status s = Model::load_buffer(bytes.data(), bytes.size(), &check);
  if (!s.ok()) return Status::Error("ModelBuilder: the model does not validate: " + s.message());
  *out = std::move(bytes);
  return Status::Ok();
}

namespace {

/// Creates `path`.tmp-XXXXXX exclusively with mode 0666, so the kernel applies the umask and the final file
/// gets the usual 0666 & ~umask (mkstemp's 0600 would survive the rename). Returns the fd, or -1 with errno.
int create_temporary(const std::string& path, std::string* tmp) {
  static const char kChars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::random_device device;
  std::mt19937_64 rng((uint64_t(device()) << 32) ^ uint64_t(getpid()) ^
                      uint64_t(std::chrono::steady_clock::now().time_since_epoch().count()));
  for (int attempt = 0; attempt < 100; ++attempt) {
    *tmp = path + ".tmp-";
    for (int i = 0; i < 6; ++i) *tmp += kChars[rng() % (sizeof(kChars) - 1)];
    const int fd = open(tmp->c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0 || errno != EEXIST) return fd;
  }
  errno = EEXIST;
  return -1;
}

}  // namespace

Status write_file_atomically(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::string tmp;
  const int fd = create_temporary(path, &tmp);
  if (fd < 0) return Status::Error("cannot create a temporary file next to '" + path + "': " + std::strerror(errno));
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += size_t(n);
  }
  int err = done == bytes.size() ? 0 : (errno ? errno : EIO);
  if (err == 0 && fsync(fd) != 0) err = errno;
  if (close(fd) != 0 && err == 0) err = errno;
  if (err == 0 && std::rename(tmp.c_str(), path.c_str()) != 0) err = errno;
  if (err != 0) {
    unlink(tmp.c_str());
    return Status::Error("cannot write '" + path + "': " + std::strerror(err));
  }
  return Status::Ok();
}

}  // namespace onebit
