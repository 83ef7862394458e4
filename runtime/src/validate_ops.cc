// Per-operator semantic checks: input count, dtypes, constant-ness of weights, shapes, option values and
// the output shape the operator's computation implies. Every message starts with
// "operator <index> '<source name>' (<type>)" and says which field broke which expectation.
#include <cmath>
#include <string>
#include <vector>

#include "validate.h"

namespace onebit::rt {
namespace {

using Shape = std::vector<int>;

class Check {
 public:
  Check(const fb::Model& m, const std::vector<TensorFacts>& t, size_t index)
      : m_(m), t_(t), op_(*m.operators()->Get(flatbuffers::uoffset_t(index))), label_(describe_op(m, index)) {
    if (op_.inputs()) in_.assign(op_.inputs()->begin(), op_.inputs()->end());
    out_ = op_.outputs()->Get(0);
  }

  const fb::Operator& op() const { return op_; }
  size_t inputs() const { return in_.size(); }
  const TensorFacts& in(size_t k) const { return t_[size_t(in_[k])]; }
  const TensorFacts& out() const { return t_[size_t(out_)]; }

  Status fail(const std::string& what) const { return Status::Error(label_ + ": " + what); }

  std::string in_label(size_t k) const {
    return "input " + std::to_string(k) + " (tensor " + std::to_string(in_[k]) + " '" + tensor_name(m_, size_t(in_[k])) + "')";
  }
  std::string out_label() const {
    return "output (tensor " + std::to_string(out_) + " '" + tensor_name(m_, size_t(out_)) + "')";
  }

  Status count(size_t lo, size_t hi) const {
    if (in_.size() >= lo && in_.size() <= hi) return Status::Ok();
    const std::string want = lo == hi ? std::to_string(lo) : std::to_string(lo) + ".." + std::to_string(hi);
    return fail("has " + std::to_string(in_.size()) + " inputs, expected " + want);
  }
  Status dtype(size_t k, fb::DType d) const {
    if (in(k).dtype == d) return Status::Ok();
    return fail(in_label(k) + " has dtype " + dtype_name(in(k).dtype) + ", expected " + dtype_name(d));
  }
  Status constant(size_t k) const {
    if (in(k).constant) return Status::Ok();
    return fail(in_label(k) + " must be a constant (weights are prepared once)");
  }
  Status rank(size_t k, size_t r) const {
    if (in(k).shape.size() == r) return Status::Ok();
    return fail(in_label(k) + " has shape " + shape_string(in(k).shape) + ", expected rank " + std::to_string(r));
  }
  Status shape(size_t k, const Shape& s, const char* what) const {
    if (in(k).shape == s) return Status::Ok();
    return fail(in_label(k) + " has shape " + shape_string(in(k).shape) + ", expected " + shape_string(s) + " (" +
                what + ")");
  }
  Status output(fb::DType d, const Shape& s) const {
    if (out().dtype != d)
      return fail(out_label() + " has dtype " + dtype_name(out().dtype) + ", expected " + dtype_name(d));
    if (out().shape != s)
      return fail(out_label() + " has shape " + shape_string(out().shape) + ", expected " + shape_string(s));
    return Status::Ok();
  }
  Status range(const char* field, int64_t v, int64_t lo, int64_t hi) const {
    if (v >= lo && v <= hi) return Status::Ok();
    return fail(std::string(field) + " = " + std::to_string(v) + ", expected " + std::to_string(lo) + ".." +
                std::to_string(hi));
  }
  Status clamp(float lo, float hi) const {
    if (!std::isnan(lo) && !std::isnan(hi) && lo < hi) return Status::Ok();
    return fail("clamp_min " + std::to_string(lo) + " / clamp_max " + std::to_string(hi) +
                ": expected clamp_min < clamp_max");
  }

 private:
  const fb::Model& m_;
  const std::vector<TensorFacts>& t_;
  const fb::Operator& op_;
  std::string label_;
  std::vector<int> in_;
  int out_ = -1;
};

struct Window {
  int kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left, pad_bottom, pad_right;
};

template <typename Options>
Window conv_window(const Options& o) {
  return {o.kernel_h(), o.kernel_w(), o.stride_h(), o.stride_w(), o.dilation_h(), o.dilation_w(),
          o.pad_top(),  o.pad_left(), o.pad_bottom(), o.pad_right()};
}
template <typename Options>
Window pool_window(const Options& o) {
  return {o.kernel_h(), o.kernel_w(), o.stride_h(), o.stride_w(), 1, 1,
          o.pad_top(),  o.pad_left(), o.pad_bottom(), o.pad_right()};
}

/// Checks the window fields and computes the output's spatial size from an NHWC input shape.
/// pool: each pad must be smaller than the kernel, so that every window holds at least one real tap.
Status check_window(const Check& c, const Window& w, const Shape& in, bool pool, int* out_h, int* out_w) {
  ONEBIT_RETURN_IF_ERROR(c.range("kernel_h", w.kernel_h, 1, kMaxWindow));
  ONEBIT_RETURN_IF_ERROR(c.range("kernel_w", w.kernel_w, 1, kMaxWindow));
  ONEBIT_RETURN_IF_ERROR(c.range("stride_h", w.stride_h, 1, kMaxWindow));
  ONEBIT_RETURN_IF_ERROR(c.range("stride_w", w.stride_w, 1, kMaxWindow));
  ONEBIT_RETURN_IF_ERROR(c.range("dilation_h", w.dilation_h, 1, kMaxWindow));
  ONEBIT_RETURN_IF_ERROR(c.range("dilation_w", w.dilation_w, 1, kMaxWindow));
  const int pad_max_h = pool ? w.kernel_h - 1 : kMaxWindow, pad_max_w = pool ? w.kernel_w - 1 : kMaxWindow;
  ONEBIT_RETURN_IF_ERROR(c.range("pad_top", w.pad_top, 0, pad_max_h));
  ONEBIT_RETURN_IF_ERROR(c.range("pad_bottom", w.pad_bottom, 0, pad_max_h));
  ONEBIT_RETURN_IF_ERROR(c.range("pad_left", w.pad_left, 0, pad_max_w));
  ONEBIT_RETURN_IF_ERROR(c.range("pad_right", w.pad_right, 0, pad_max_w));
  const int64_t oh = window_output_size(in[1], w.pad_top, w.pad_bottom, w.kernel_h, w.stride_h, w.dilation_h);
  const int64_t ow = window_output_size(in[2], w.pad_left, w.pad_right, w.kernel_w, w.stride_w, w.dilation_w);
  if (oh < 1 || ow < 1)
    return c.fail("window " + std::to_string(w.kernel_h) + "x" + std::to_string(w.kernel_w) + " (dilation " +
                  std::to_string(w.dilation_h) + "x" + std::to_string(w.dilation_w) + ") does not fit input " +
                  shape_string(in) + " with pads t" + std::to_string(w.pad_top) + " b" + std::to_string(w.pad_bottom) +
                  " l" + std::to_string(w.pad_left) + " r" + std::to_string(w.pad_right));
  *out_h = int(oh);
  *out_w = int(ow);
  return Status::Ok();
}

/// Conv2D and BinaryConv2D: x [N,H,W,C], weights [O,KH,KW,C/groups] constant, then per-channel vectors.
Status check_conv(const Check& c, const Window& w, int groups, fb::DType x_dtype, fb::DType out_dtype,
                  size_t vectors_min, size_t vectors_max) {
  ONEBIT_RETURN_IF_ERROR(c.count(2 + vectors_min, 2 + vectors_max));
  ONEBIT_RETURN_IF_ERROR(c.dtype(0, x_dtype));
  ONEBIT_RETURN_IF_ERROR(c.rank(0, 4));
  ONEBIT_RETURN_IF_ERROR(c.dtype(1, x_dtype));
  ONEBIT_RETURN_IF_ERROR(c.constant(1));
  ONEBIT_RETURN_IF_ERROR(c.rank(1, 4));
  const Shape& x = c.in(0).shape;
  const int out_c = c.in(1).shape[0];
  ONEBIT_RETURN_IF_ERROR(c.range("groups", groups, 1, x[3]));
  if (x[3] % groups != 0)
    return c.fail("groups = " + std::to_string(groups) + " does not divide input channels " + std::to_string(x[3]));
  if (out_c % groups != 0)
    return c.fail("groups = " + std::to_string(groups) + " does not divide output channels " + std::to_string(out_c));
  ONEBIT_RETURN_IF_ERROR(c.shape(1, {out_c, w.kernel_h, w.kernel_w, x[3] / groups}, "weights OHWI, I = C / groups"));
  int oh = 0, ow = 0;
  ONEBIT_RETURN_IF_ERROR(check_window(c, w, x, false, &oh, &ow));
  for (size_t k = 2; k < c.inputs(); ++k) {
    ONEBIT_RETURN_IF_ERROR(c.dtype(k, fb::DType::Float32));
    ONEBIT_RETURN_IF_ERROR(c.constant(k));
    ONEBIT_RETURN_IF_ERROR(c.shape(k, {out_c}, "one value per output channel"));
  }
  return c.output(out_dtype, {x[0], oh, ow, out_c});
}

/// FullyConnected and BinaryFullyConnected: x [N,K], weights [O,K] constant, per-channel vectors.
Status check_fc(const Check& c, fb::DType x_dtype, fb::DType out_dtype, size_t vectors_min, size_t vectors_max) {
  ONEBIT_RETURN_IF_ERROR(c.count(2 + vectors_min, 2 + vectors_max));
  ONEBIT_RETURN_IF_ERROR(c.dtype(0, x_dtype));
  ONEBIT_RETURN_IF_ERROR(c.rank(0, 2));
  ONEBIT_RETURN_IF_ERROR(c.dtype(1, x_dtype));
  ONEBIT_RETURN_IF_ERROR(c.constant(1));
  ONEBIT_RETURN_IF_ERROR(c.rank(1, 2));
  const Shape& x = c.in(0).shape;
  const int out_c = c.in(1).shape[0];
  ONEBIT_RETURN_IF_ERROR(c.shape(1, {out_c, x[1]}, "weights [out][in]"));
  for (size_t k = 2; k < c.inputs(); ++k) {
    ONEBIT_RETURN_IF_ERROR(c.dtype(k, fb::DType::Float32));
    ONEBIT_RETURN_IF_ERROR(c.constant(k));
    ONEBIT_RETURN_IF_ERROR(c.shape(k, {out_c}, "one value per output channel"));
  }
  return c.output(out_dtype, {x[0], out_c});
}

Status check_pool(const Check& c, const Window& w, fb::DType dtype) {
  ONEBIT_RETURN_IF_ERROR(c.count(1, 1));
  ONEBIT_RETURN_IF_ERROR(c.dtype(0, dtype));
  ONEBIT_RETURN_IF_ERROR(c.rank(0, 4));
  const Shape& x = c.in(0).shape;
  int oh = 0, ow = 0;
  ONEBIT_RETURN_IF_ERROR(check_window(c, w, x, true, &oh, &ow));
  return c.output(dtype, {x[0], oh, ow, x[3]});
}

/// x (Float32) followed by `vectors` Float32 inputs of shape [C] (C = last dim of x); output like x.
Status check_channelwise(const Check& c, size_t vectors, bool constant_vectors) {
  ONEBIT_RETURN_IF_ERROR(c.count(1 + vectors, 1 + vectors));
  ONEBIT_RETURN_IF_ERROR(c.dtype(0, fb::DType::Float32));
  for (size_t k = 1; k <= vectors; ++k) {
    ONEBIT_RETURN_IF_ERROR(c.dtype(k, fb::DType::Float32));
    if (constant_vectors) ONEBIT_RETURN_IF_ERROR(c.constant(k));
    ONEBIT_RETURN_IF_ERROR(c.shape(k, {c.in(0).shape.back()}, "one value per channel (last dimension)"));
  }
  return c.output(fb::DType::Float32, c.in(0).shape);
}

Status check_add(const Check& c, float lo, float hi) {
  ONEBIT_RETURN_IF_ERROR(c.count(2, 2));
  ONEBIT_RETURN_IF_ERROR(c.dtype(0, fb::DType::Float32));
  ONEBIT_RETURN_IF_ERROR(c.dtype(1, fb::DType::Float32));
  ONEBIT_RETURN_IF_ERROR(c.clamp(lo, hi));
  // NumPy broadcasting, shapes aligned at the last dimension.
  const Shape& a = c.in(0).shape;
  const Shape& b = c.in(1).shape;
  Shape out(std::max(a.size(), b.size()));
  for (size_t i = 0; i < out.size(); ++i) {
    const int da = i < out.size() - a.size() ? 1 : a[i - (out.size() - a.size())];
    const int db = i < out.size() - b.size() ? 1 : b[i - (out.size() - b.size())];
    if (da != db && da != 1 && db != 1)
      return c.fail("inputs " + shape_string(a) + " and " + shape_string(b) + " do not broadcast");
    out[i] = std::max(da, db);
  }
  return c.output(fb::DType::Float32, out);
}

Status check_concat(const Check& c, int axis) {
  ONEBIT_RETURN_IF_ERROR(c.count(1, 64));
  const Shape& first = c.in(0).shape;
  const int rank = int(first.size());
  ONEBIT_RETURN_IF_ERROR(c.range("axis", axis, -rank, rank - 1));
  const size_t a = size_t(axis < 0 ? axis + rank : axis);
  Shape out = first;
  out[a] = 0;
  for (size_t k = 0; k < c.inputs(); ++k) {
    ONEBIT_RETURN_IF_ERROR(c.dtype(k, fb::DType::Float32));
    const Shape& s = c.in(k).shape;
    Shape want = first;
    want[a] = s.size() == first.size() ? s[a] : 1;
    ONEBIT_RETURN_IF_ERROR(c.shape(k, want, "equal to input 0 except along the concat axis"));
    out[a] += s[a];  // <= 64 * 2^20: no overflow
  }
  return c.output(fb::DType::Float32, out);
}

Status check_pad(const Check& c, const fb::PadOptions& o) {
  ONEBIT_RETURN_IF_ERROR(c.count(1, 1));
  ONEBIT_RETURN_IF_ERROR(c.dtype(0, fb::DType::Float32));
  const Shape& x = c.in(0).shape;
  const size_t n = o.pads() ? o.pads()->size() : 0;
  if (n != 2 * x.size())
    return c.fail("pads has " + std::to_string(n) + " values, expected " + std::to_string(2 * x.size()) +
                  " (begin and end for each of the " + std::to_string(x.size()) + " dimensions)");
  Shape out = x;
  for (size_t i = 0; i < n; ++i) {
    const int p = o.pads()->Get(flatbuffers::uoffset_t(i));
    ONEBIT_RETURN_IF_ERROR(c.range(("pads[" + std::to_string(i) + "]").c_str(), p, 0, kMaxWindow));
    out[i % x.size()] += p;
  }
  return c.output(fb::DType::Float32, out);
}

Status check_quantize(const Check& c, const fb::QuantizeOptions& o) {
  ONEBIT_RETURN_IF_ERROR(c.count(1, 2));
  ONEBIT_RETURN_IF_ERROR(c.dtype(0, fb::DType::Float32));
  const int channels = c.in(0).shape.back();
  if (c.inputs() == 2) {
    ONEBIT_RETURN_IF_ERROR(c.dtype(1, fb::DType::Float32));
    ONEBIT_RETURN_IF_ERROR(c.constant(1));
    ONEBIT_RETURN_IF_ERROR(c.shape(1, {channels}, "threshold, one per channel"));
  }
  const size_t flips = o.flip() ? o.flip()->size() : 0;
  const size_t constants = o.constant() ? o.constant()->size() : 0;
  if (flips != 0 && flips != size_t(channels))
    return c.fail("flip has " + std::to_string(flips) + " entries, expected 0 or " + std::to_string(channels));
  if (constants != 0 && constants != size_t(channels))
    return c.fail("constant has " + std::to_string(constants) + " entries, expected 0 or " + std::to_string(channels));
  for (size_t i = 0; i < constants; ++i)
    ONEBIT_RETURN_IF_ERROR(c.range(("constant[" + std::to_string(i) + "]").c_str(),
                                   o.constant()->Get(flatbuffers::uoffset_t(i)), -1, 1));
  return c.output(fb::DType::BitPacked, c.in(0).shape);
}

fb::DType output_dtype(fb::OutputKind kind) {
  return kind == fb::OutputKind::BitPacked ? fb::DType::BitPacked : fb::DType::Float32;
}

Status check_output_kind(const Check& c, fb::OutputKind kind) {
  if (kind == fb::OutputKind::Float || kind == fb::OutputKind::BitPacked) return Status::Ok();
  return c.fail("output = " + std::to_string(int(kind)) + ", expected Float (0) or BitPacked (1)");
}

}  // namespace

Status validate_operator(const fb::Model& m, const std::vector<TensorFacts>& t, size_t index) {
  const Check c(m, t, index);
  const fb::Operator& op = c.op();
  using T = fb::OperatorOptions;
  const auto f32 = fb::DType::Float32;
  switch (op.options_type()) {
    case T::Conv2DOptions: {
      const auto& o = *op.options_as_Conv2DOptions();
      ONEBIT_RETURN_IF_ERROR(c.clamp(o.clamp_min(), o.clamp_max()));
      return check_conv(c, conv_window(o), o.groups(), f32, f32, 0, 1);
    }
    case T::FullyConnectedOptions: {
      const auto& o = *op.options_as_FullyConnectedOptions();
      ONEBIT_RETURN_IF_ERROR(c.clamp(o.clamp_min(), o.clamp_max()));
      return check_fc(c, f32, f32, 0, 1);
    }
    case T::MaxPool2DOptions: return check_pool(c, pool_window(*op.options_as_MaxPool2DOptions()), f32);
    case T::AvgPool2DOptions: return check_pool(c, pool_window(*op.options_as_AvgPool2DOptions()), f32);
    case T::GlobalAvgPoolOptions: {
      ONEBIT_RETURN_IF_ERROR(c.count(1, 1));
      ONEBIT_RETURN_IF_ERROR(c.dtype(0, f32));
      ONEBIT_RETURN_IF_ERROR(c.rank(0, 4));
      return c.output(f32, {c.in(0).shape[0], c.in(0).shape[3]});
    }
    case T::AddOptions: {
      const auto& o = *op.options_as_AddOptions();
      return check_add(c, o.clamp_min(), o.clamp_max());
    }
    case T::MulOptions: return check_channelwise(c, 1, false);
    case T::ChannelAffineOptions: return check_channelwise(c, 2, false);
    case T::ReluOptions: return check_channelwise(c, 0, false);
    case T::PReluOptions: return check_channelwise(c, 1, true);
    case T::ClampOptions: {
      const auto& o = *op.options_as_ClampOptions();
      ONEBIT_RETURN_IF_ERROR(c.clamp(o.min(), o.max()));
      return check_channelwise(c, 0, false);
    }
    case T::SoftmaxOptions: return check_channelwise(c, 0, false);
    case T::ReshapeOptions: {
      ONEBIT_RETURN_IF_ERROR(c.count(1, 1));
      ONEBIT_RETURN_IF_ERROR(c.dtype(0, f32));
      if (element_count(c.in(0).shape) != element_count(c.out().shape))
        return c.fail("output shape " + shape_string(c.out().shape) + " has a different element count than input " +
                      shape_string(c.in(0).shape));
      return c.output(f32, c.out().shape);
    }
    case T::ConcatOptions: return check_concat(c, op.options_as_ConcatOptions()->axis());
    case T::PadOptions: return check_pad(c, *op.options_as_PadOptions());
    case T::QuantizeOptions: return check_quantize(c, *op.options_as_QuantizeOptions());
    case T::DequantizeOptions: {
      ONEBIT_RETURN_IF_ERROR(c.count(1, 1));
      ONEBIT_RETURN_IF_ERROR(c.dtype(0, fb::DType::BitPacked));
      return c.output(f32, c.in(0).shape);
    }
    case T::BinaryConv2DOptions: {
      const auto& o = *op.options_as_BinaryConv2DOptions();
      const int mode = int(o.pad_mode());
      if (mode < 0 || mode > 2)
        return c.fail("pad_mode = " + std::to_string(mode) + ", expected Zero (0), One (1) or MinusOne (2)");
      ONEBIT_RETURN_IF_ERROR(check_output_kind(c, o.output()));
      ONEBIT_RETURN_IF_ERROR(c.clamp(o.clamp_min(), o.clamp_max()));
      return check_conv(c, conv_window(o), o.groups(), fb::DType::BitPacked, output_dtype(o.output()), 2, 2);
    }
    case T::BinaryFullyConnectedOptions: {
      const auto& o = *op.options_as_BinaryFullyConnectedOptions();
      ONEBIT_RETURN_IF_ERROR(check_output_kind(c, o.output()));
      ONEBIT_RETURN_IF_ERROR(c.clamp(o.clamp_min(), o.clamp_max()));
      return check_fc(c, fb::DType::BitPacked, output_dtype(o.output()), 2, 2);
    }
    case T::BinaryMaxPool2DOptions:
      return check_pool(c, pool_window(*op.options_as_BinaryMaxPool2DOptions()), fb::DType::BitPacked);
    default: return c.fail("unknown operator type");
  }
}

}  // namespace onebit::rt
