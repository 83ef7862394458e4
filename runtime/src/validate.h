// Internal interface of model validation: between the graph-level checks (validate.cc) and the per-operator
// checks, which live next to each operator's implementation in ops/*.cc and are reached through the operator
// table (ops/op_table.h). The shared building blocks of those checks (ValidateContext, the window / conv /
// fully connected / pool / channel-wise checks) are defined in validate_ops.cc.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "graph.h"
#include "onebit/pool.h"

namespace onebit::rt {

/// What validate.cc has established about one tensor before the operator checks run.
struct TensorFacts {
  Vec<int> shape;
  fb::DType dtype = fb::DType::Float32;
  TensorLevels levels;            // BitPacked: bits / levels / zero_level / level_scale; else the defaults
  bool constant = false;
  const uint8_t* data = nullptr;  // constant data (size == tensor_bytes), else null
};

/// What an operator's validate function sees: the operator, the facts about its tensors, and checks whose
/// failures all start with "operator <index> '<source name>' (<type>)" and say which field broke which
/// expectation.
// Each check below is an inline test that calls a cold, out-of-line function only when it fails: the
// message's temporaries (fixed Text buffers on Cortex-M) then take stack only while a message is written,
// never on the path of a model that validates (inlined, they took it in every caller's frame).
#define ONEBIT_COLD __attribute__((noinline, cold))

class ValidateContext {
 public:
  using Shape = Vec<int>;

  ValidateContext(const fb::Model& m, const Vec<TensorFacts>& t, size_t index)
      : m_(m), t_(t), op_(*m.operators()->Get(flatbuffers::uoffset_t(index))), index_(index) {
    in_.list = op_.inputs();
    outs_.list = op_.outputs();
  }

  const fb::Operator& op() const { return op_; }
  size_t inputs() const { return in_.size(); }
  /// Input k exists and is not -1 (absent; only where the operator table allows it).
  bool present(size_t k) const { return k < in_.size() && in_[k] >= 0; }
  const TensorFacts& in(size_t k) const { return t_[size_t(in_[k])]; }
  size_t outputs() const { return outs_.size(); }
  const TensorFacts& out(size_t j = 0) const { return t_[size_t(outs_[j])]; }

  ONEBIT_COLD Status fail(const Text& what) const { return Status::Error(describe_op(m_, index_) + ": " + what); }

  ONEBIT_COLD Text in_label(size_t k) const {
    return "input " + num(k) + " (tensor " + num(in_[k]) + " '" + tensor_name(m_, size_t(in_[k])) + "')";
  }
  ONEBIT_COLD Text out_label(size_t j = 0) const {
    return (outs_.size() > 1 ? "output " + num(j) : Text("output")) + " (tensor " +
           num(outs_[j]) + " '" + tensor_name(m_, size_t(outs_[j])) + "')";
  }

  Status count(size_t lo, size_t hi) const {
    return in_.size() >= lo && in_.size() <= hi ? Status::Ok() : count_error(lo, hi);
  }
  Status dtype(size_t k, fb::DType d) const { return in(k).dtype == d ? Status::Ok() : dtype_error(k, d); }
  Status constant(size_t k) const {
    return in(k).constant ? Status::Ok() : fail(in_label(k) + " must be a constant (weights are prepared once)");
  }
  Status rank(size_t k, size_t r) const { return in(k).shape.size() == r ? Status::Ok() : rank_error(k, r); }
  Status shape(size_t k, const Shape& s, const char* what) const {
    return in(k).shape == s ? Status::Ok() : shape_error(k, s, what);
  }
  Status output(fb::DType d, const Shape& s, size_t j = 0) const {
    return out(j).dtype == d && out(j).shape == s ? Status::Ok() : output_error(d, s, j);
  }
  Status output_count(size_t n) const { return outs_.size() == n ? Status::Ok() : output_count_error(n); }
  /// Input k is a BitPacked tensor of Binary levels (1 bit); `why` ends the message.
  Status binary_levels(size_t k, const char* why) const {
    return in(k).levels.binary() ? Status::Ok() : binary_levels_error(k, why);
  }
  Status range(const char* field, int64_t v, int64_t lo, int64_t hi) const {
    return v >= lo && v <= hi ? Status::Ok() : range_error(field, v, lo, hi);
  }
  Status clamp(float lo, float hi) const {
    return !std::isnan(lo) && !std::isnan(hi) && lo < hi ? Status::Ok() : clamp_error(lo, hi);
  }

 private:
  ONEBIT_COLD Status count_error(size_t lo, size_t hi) const {
    const Text want = lo == hi ? num(lo) : num(lo) + ".." + num(hi);
    return fail("has " + num(in_.size()) + " inputs, expected " + want);
  }
  ONEBIT_COLD Status dtype_error(size_t k, fb::DType d) const {
    return fail(in_label(k) + " has dtype " + dtype_name(in(k).dtype) + ", expected " + dtype_name(d));
  }
  ONEBIT_COLD Status rank_error(size_t k, size_t r) const {
    return fail(in_label(k) + " has shape " + shape_string(in(k).shape) + ", expected rank " + num(r));
  }
  ONEBIT_COLD Status shape_error(size_t k, const Shape& s, const char* what) const {
    return fail(in_label(k) + " has shape " + shape_string(in(k).shape) + ", expected " + shape_string(s) + " (" +
                what + ")");
  }
  ONEBIT_COLD Status output_error(fb::DType d, const Shape& s, size_t j) const {
    if (out(j).dtype != d)
      return fail(out_label(j) + " has dtype " + dtype_name(out(j).dtype) + ", expected " + dtype_name(d));
    return fail(out_label(j) + " has shape " + shape_string(out(j).shape) + ", expected " + shape_string(s));
  }
  ONEBIT_COLD Status output_count_error(size_t n) const {
    return fail("has " + num(outs_.size()) + " outputs, expected " + num(n));
  }
  ONEBIT_COLD Status binary_levels_error(size_t k, const char* why) const {
    return fail(in_label(k) + " has levels " + levels_string(in(k).levels) + ", expected Binary (" + why + ")");
  }
  ONEBIT_COLD Status range_error(const char* field, int64_t v, int64_t lo, int64_t hi) const {
    return fail(Text(field) + " = " + num(v) + ", expected " + num(lo) + ".." + num(hi));
  }
  ONEBIT_COLD Status clamp_error(float lo, float hi) const {
    return fail("clamp_min " + num(lo) + " / clamp_max " + num(hi) + ": expected clamp_min < clamp_max");
  }

  const fb::Model& m_;
  const Vec<TensorFacts>& t_;
  const fb::Operator& op_;
  size_t index_;  // the operator's, for messages (describe_op: formatted only when one is written)
  // The operator's tensor indices where the model has them (no copy: validation allocates nothing per op).
  struct Indices {
    const flatbuffers::Vector<int32_t>* list = nullptr;
    size_t size() const { return list != nullptr ? list->size() : 0; }
    int operator[](size_t k) const { return list->Get(flatbuffers::uoffset_t(k)); }
  };
  Indices in_, outs_;
};

// Checks shared by several operators (validate_ops.cc).

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

/// Conv2D and BinaryConv2D: x [N,H,W,C], weights [O,KH,KW,C/groups] constant, then per-channel vectors.
/// Weights have x's dtype, except that Float32 x also admits BitPacked weights (Conv2D's 1-bit weights; the
/// caller checks their levels and weight_scale). `trailing` more inputs may follow the vectors, which the
/// caller checks (BinaryConv2D's optional fusion inputs).
Status check_conv(const ValidateContext& c, const Window& w, int groups, fb::DType x_dtype, fb::DType out_dtype,
                  size_t vectors_min, size_t vectors_max, size_t trailing = 0);
/// FullyConnected and BinaryFullyConnected: x [N,K], weights [O,K] constant, per-channel vectors (weights'
/// dtype as for check_conv).
Status check_fc(const ValidateContext& c, fb::DType x_dtype, fb::DType out_dtype, size_t vectors_min,
                size_t vectors_max);
/// MaxPool2D, AvgPool2D, BinaryMaxPool2D: x [N,H,W,C] of `dtype`, output of the same dtype and channels.
Status check_pool(const ValidateContext& c, const Window& w, fb::DType dtype);
/// BinaryConv2D / BinaryFullyConnected over k-bit levels (bit_contract.h): weights Binary 1-bit or Bipolar
/// 2-bit; unless x and weights are both Binary: Float output, pad_mode Zero (`pad_mode_zero`, true for FC),
/// and taps * max|L_x| * max|L_w| <= 2^24 (the kernel's dot is then exact in float).
Status check_binary_levels(const ValidateContext& c, bool bitpacked_output, bool pad_mode_zero, int64_t taps);
/// Conv2D / FullyConnected inputs after x and weights: bias [O] (optional) and weight_scale [O], which is
/// required iff the weights are BitPacked (then Binary 1-bit: weight = weight_scale[o] * L).
Status check_float_weights(const ValidateContext& c);
/// x (Float32) followed by `vectors` Float32 inputs of shape [C] (C = last dim of x); output like x.
Status check_channelwise(const ValidateContext& c, size_t vectors, bool constant_vectors);
/// Quantize's flip / constant lists (QuantizeOptions, and BinaryConv2D's quantize_flip / quantize_constant,
/// `prefix` "quantize_" naming them in messages): each empty or one entry per channel, constants -1..1.
Status check_quantize_lists(const ValidateContext& c, const Text& prefix,
                            const flatbuffers::Vector<uint8_t>* flips, const flatbuffers::Vector<int8_t>* constants,
                            int channels);

}  // namespace onebit::rt
