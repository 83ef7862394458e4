// The builder's graph (builder_graph.h): tensors, shapes and the checks behind them, and every operator
// without weights. Each add_* infers its output's shape; a finished model is validated again by the runtime
// (model_file.cc), so a builder can never emit a file the runtime would reject.
#include "builder_graph.h"

#include <algorithm>

#include "weight_encoding.h"

namespace onebit {

using T = fb::OperatorOptions;

// ---- Impl: checks and tensors ----

bool ModelBuilder::Impl::fail(const std::string& op, fb::OperatorOptions type, const std::string& what) {
  if (error.empty()) error = "ModelBuilder: '" + op + "' (" + rt::op_type_name(type) + "): " + what;
  return false;
}

bool ModelBuilder::Impl::need(const std::string& op, fb::OperatorOptions type, int t, size_t rank) {
  if (!valid(t)) return fail(op, type, "tensor id " + std::to_string(t) + " does not exist");
  if (rank != 0 && tensors[size_t(t)].shape.size() != rank)
    return fail(op, type, "input " + rt::shape_string(tensors[size_t(t)].shape) + " must have rank " +
                              std::to_string(rank));
  return true;
}

bool ModelBuilder::Impl::sized(const std::string& op, fb::OperatorOptions type, const char* what, size_t have,
                               size_t want) {
  if (have == want) return true;
  return fail(op, type, std::string(what) + " has " + std::to_string(have) + " values, expected " + std::to_string(want));
}

const std::vector<int>& ModelBuilder::Impl::shape_of(int t) const {
  static const std::vector<int> kNone;
  return valid(t) ? tensors[size_t(t)].shape : kNone;
}

int ModelBuilder::Impl::constant(const std::string& name, std::vector<int> shape, fb::DType dtype,
                                 std::vector<uint8_t> bytes) {
  buffers.push_back(std::move(bytes));
  tensors.push_back({name, std::move(shape), dtype, int(buffers.size()) - 1, {}});
  return int(tensors.size()) - 1;
}

int ModelBuilder::Impl::floats(const std::string& name, std::vector<int> shape, const std::vector<float>& v) {
  return constant(name, std::move(shape), fb::DType::Float32, weight_encoding::float_bytes(v));
}

int ModelBuilder::Impl::words(const std::string& name, std::vector<int> shape, const std::vector<uint32_t>& v,
                              const rt::TensorLevels& levels) {
  const int t = constant(name, std::move(shape), fb::DType::BitPacked, weight_encoding::word_bytes(v));
  tensors[size_t(t)].levels = levels;
  return t;
}

int ModelBuilder::Impl::add(const std::string& name, fb::OperatorOptions type, OptionsFn options, std::vector<int> in,
                            std::vector<int> out_shape, fb::DType out_dtype) {
  if (out_shape.empty()) out_shape = {1};
  tensors.push_back({name, std::move(out_shape), out_dtype, -1, {}});
  const int out = int(tensors.size()) - 1;
  ops.push_back({name, type, std::move(options), std::move(in), out, {}});
  return out;
}

std::vector<int> ModelBuilder::Impl::window_shape(const std::string& op, fb::OperatorOptions type, int x, int out_c,
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

// ---- Inputs and outputs ----

ModelBuilder::ModelBuilder() : impl_(new Impl()) {}
ModelBuilder::~ModelBuilder() = default;

int ModelBuilder::add_input(const std::string& name, const std::vector<int>& shape) {
  impl_->tensors.push_back({name, shape, fb::DType::Float32, -1, {}});
  impl_->inputs.push_back(int(impl_->tensors.size()) - 1);
  return impl_->inputs.back();
}

void ModelBuilder::mark_output(int tensor) { impl_->outputs.push_back(tensor); }
const std::vector<int>& ModelBuilder::shape(int tensor) const { return impl_->shape_of(tensor); }

// ---- Pools ----

namespace {

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

}  // namespace

int ModelBuilder::Impl::pool(const std::string& name, fb::OperatorOptions type, int x, const Pool2DParams& p) {
  const int c = need(name, type, x, 4) ? shape_of(x)[3] : 1;
  const fb::DType dtype = valid(x) ? tensors[size_t(x)].dtype : fb::DType::Float32;
  const std::vector<int> out = window_shape(name, type, x, c, pool_as_conv(p));
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
  return add(name, type, options, {x}, out, dtype);
}

int ModelBuilder::max_pool(const std::string& name, int x, const Pool2DParams& p) {
  return impl_->pool(name, T::MaxPool2DOptions, x, p);
}
int ModelBuilder::avg_pool(const std::string& name, int x, const Pool2DParams& p) {
  return impl_->pool(name, T::AvgPool2DOptions, x, p);
}
int ModelBuilder::binary_max_pool(const std::string& name, int x, const Pool2DParams& p) {
  return impl_->pool(name, T::BinaryMaxPool2DOptions, x, p);
}

int ModelBuilder::global_avg_pool(const std::string& name, int x) {
  Impl& b = *impl_;
  const auto type = T::GlobalAvgPoolOptions;
  std::vector<int> out = {1, 1};
  if (b.need(name, type, x, 4)) out = {b.shape_of(x)[0], b.shape_of(x)[3]};
  return b.add(name, type, [](Fbb& f) { return fb::CreateGlobalAvgPoolOptions(f).Union(); }, {x}, out);
}

// ---- Elementwise and per-channel ops ----

std::vector<int> ModelBuilder::Impl::broadcast(const std::string& name, fb::OperatorOptions type, int a, int c) {
  std::vector<int> out;
  if (need(name, type, a, 0) && need(name, type, c, 0)) {
    const std::vector<int>& sa = shape_of(a);
    const std::vector<int>& sc = shape_of(c);
    if (!core::broadcast_shapes(sa, sc, &out)) {
      fail(name, type, rt::shape_string(sa) + " and " + rt::shape_string(sc) + " do not broadcast");
      out = sa.size() >= sc.size() ? sa : sc;
    }
  }
  return out;
}

int ModelBuilder::add(const std::string& name, int a, int c, float lo, float hi) {
  const std::vector<int> out = impl_->broadcast(name, T::AddOptions, a, c);
  return impl_->add(name, T::AddOptions, [lo, hi](Fbb& f) { return fb::CreateAddOptions(f, lo, hi).Union(); }, {a, c}, out);
}

int ModelBuilder::mul(const std::string& name, int a, int c) {
  const std::vector<int> out = impl_->broadcast(name, T::MulOptions, a, c);
  return impl_->add(name, T::MulOptions, [](Fbb& f) { return fb::CreateMulOptions(f).Union(); }, {a, c}, out);
}

int ModelBuilder::float_constant(const std::string& name, const std::vector<int>& shape, const std::vector<float>& values) {
  size_t n = 1;
  for (int d : shape) n *= size_t(d < 0 ? 0 : d);
  impl_->sized(name, T::MulOptions, "constant values", values.size(), n);
  return impl_->floats(name, shape, values);
}

int ModelBuilder::Impl::channelwise(const std::string& name, fb::OperatorOptions type, int x,
                                    const std::vector<std::pair<const char*, const std::vector<float>*>>& vectors,
                                    OptionsFn options) {
  std::vector<int> in = {x};
  std::vector<int> out;
  if (need(name, type, x, 0)) {
    out = shape_of(x);
    for (const auto& [what, v] : vectors) {
      if (!sized(name, type, what, v->size(), size_t(out.back()))) break;
      in.push_back(floats(name + "/" + what, {out.back()}, *v));
    }
  }
  return add(name, type, std::move(options), in, out);
}

int ModelBuilder::mul(const std::string& name, int x, const std::vector<float>& scale) {
  return impl_->channelwise(name, T::MulOptions, x, {{"scale", &scale}},
                            [](Fbb& f) { return fb::CreateMulOptions(f).Union(); });
}
int ModelBuilder::channel_affine(const std::string& name, int x, const std::vector<float>& scale,
                                 const std::vector<float>& shift) {
  return impl_->channelwise(name, T::ChannelAffineOptions, x, {{"scale", &scale}, {"shift", &shift}},
                            [](Fbb& f) { return fb::CreateChannelAffineOptions(f).Union(); });
}
int ModelBuilder::relu(const std::string& name, int x) {
  return impl_->channelwise(name, T::ReluOptions, x, {}, [](Fbb& f) { return fb::CreateReluOptions(f).Union(); });
}
int ModelBuilder::prelu(const std::string& name, int x, const std::vector<float>& slope) {
  return impl_->channelwise(name, T::PReluOptions, x, {{"slope", &slope}},
                            [](Fbb& f) { return fb::CreatePReluOptions(f).Union(); });
}
int ModelBuilder::clamp(const std::string& name, int x, float lo, float hi) {
  return impl_->channelwise(name, T::ClampOptions, x, {},
                            [lo, hi](Fbb& f) { return fb::CreateClampOptions(f, lo, hi).Union(); });
}
int ModelBuilder::sigmoid(const std::string& name, int x) {
  return impl_->channelwise(name, T::SigmoidOptions, x, {}, [](Fbb& f) { return fb::CreateSigmoidOptions(f).Union(); });
}
int ModelBuilder::softmax(const std::string& name, int x, bool log) {
  return impl_->channelwise(name, T::SoftmaxOptions, x, {},
                            [log](Fbb& f) { return fb::CreateSoftmaxOptions(f, log).Union(); });
}

// ---- Shape ops ----

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

// ---- Quantization (float <-> binary / k-bit levels) ----

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

int ModelBuilder::dequantize(const std::string& name, int x) {
  Impl& b = *impl_;
  return b.add(name, T::DequantizeOptions, [](Fbb& f) { return fb::CreateDequantizeOptions(f).Union(); }, {x},
               b.shape_of(x));
}

}  // namespace onebit
