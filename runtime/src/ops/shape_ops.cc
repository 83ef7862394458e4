// Data-movement operators as plain loops: Reshape (a copy: same bytes, new shape), Concat along any axis,
// and Pad (constant value, begin/end per dimension like ONNX). Concat and Pad split their output over the
// pool (spans of output elements, rows of the padded image); copies are exact, so any split gives the same
// bytes.
#include <algorithm>
#include <cstring>

#include "onebit/pool.h"
#include "ops/op.h"
#include "ops/op_table.h"
#include "ops/parallel.h"
#include "validate.h"

namespace onebit::rt {
namespace {

class Reshape final : public Op {
 public:
  Status prepare(const OpContext& ctx) override {
    bytes_ = ctx.output->bytes;
    return Status::Ok();
  }
  Status bind(const OpContext&, const Vec<const void*>& in, void* out, void*) override {
    x_ = in[0];
    y_ = out;
    return Status::Ok();
  }
  Status run(pthreadpool_t) override {
    if (y_ != x_) std::memcpy(y_, x_, bytes_);  // the interpreter usually aliases y to x (then nothing to do)
    return Status::Ok();
  }

 private:
  size_t bytes_ = 0;
  const void* x_ = nullptr;
  void* y_ = nullptr;
};

/// Each input is `outer` blocks of inner_k = dim_k(axis) * inner floats; the output interleaves them: output
/// row o (of row_ = sum of the blocks floats) is block o of input 0, then block o of input 1, ...
class Concat final : public Op {
 public:
  Status prepare(const OpContext& ctx) override {
    const Vec<int>& y = ctx.output->shape;
    int axis = ctx.op->options_as_ConcatOptions()->axis();
    if (axis < 0) axis += int(y.size());
    outer_ = 1;
    for (int d = 0; d < axis; ++d) outer_ *= size_t(y[size_t(d)]);
    size_t inner = 1;
    for (size_t d = size_t(axis) + 1; d < y.size(); ++d) inner *= size_t(y[d]);
    row_ = 0;
    for (const TensorDesc* t : ctx.inputs) {
      start_.push_back(row_);
      block_.push_back(size_t(t->shape[size_t(axis)]) * inner);
      row_ += block_.back();
    }
    return Status::Ok();
  }
  Status bind(const OpContext&, const Vec<const void*>& in, void* out, void*) override {
    x_.clear();
    for (const void* p : in) x_.push_back(static_cast<const float*>(p));
    y_ = static_cast<float*>(out);
    return Status::Ok();
  }
  Status run(pthreadpool_t pool) override {
    parallel_for(pool, outer_ * row_, sizeof(float), [this](size_t begin, size_t end) { span(begin, end); });
    return Status::Ok();
  }

 private:
  /// Output floats [begin, end): piece by piece, each a part of one input block.
  void span(size_t begin, size_t end) const {
    size_t o = begin / row_, j = begin % row_, k = 0;
    while (j >= start_[k] + block_[k]) ++k;
    for (size_t i = begin; i < end;) {
      const size_t off = j - start_[k];
      const size_t n = std::min(block_[k] - off, end - i);
      std::memcpy(y_ + i, x_[k] + o * block_[k] + off, n * sizeof(float));
      i += n;
      j += n;
      if (j == start_[k] + block_[k] && ++k == block_.size()) {
        k = 0;
        j = 0;
        ++o;
      }
    }
  }

  size_t outer_ = 1, row_ = 0;
  Vec<size_t> block_, start_;
  Vec<const float*> x_;
  float* y_ = nullptr;
};

/// Works on the shape right-aligned to 4 dimensions (missing leading dims are 1 with no padding). Each output
/// row (the last dimension) is written once: all `value`, or value / input row / value.
class Pad final : public UnaryOp<float, float> {
 public:
  Status prepare(const OpContext& ctx) override {
    const fb::PadOptions& o = *ctx.op->options_as_PadOptions();
    value_ = o.value();
    const Vec<int>& x = ctx.inputs[0]->shape;
    const size_t r = x.size(), lead = 4 - r;
    for (size_t d = 0; d < 4; ++d) {
      in_[d] = d < lead ? 1 : size_t(x[d - lead]);
      begin_[d] = d < lead ? 0 : size_t(o.pads()->Get(flatbuffers::uoffset_t(d - lead)));
      out_[d] = d < lead ? 1 : size_t(ctx.output->shape[d - lead]);
    }
    return Status::Ok();
  }
  Status run(pthreadpool_t pool) override {
    parallel_for(pool, out_[0] * out_[1] * out_[2], out_[3] * sizeof(float),
                 [this](size_t begin, size_t end) { rows(begin, end); });
    return Status::Ok();
  }

 private:
  void rows(size_t begin, size_t end) const {
    for (size_t r = begin; r < end; ++r) {
      float* dst = y_ + r * out_[3];
      // Input coordinates of this row (wrapping below 0 makes them huge: outside as well).
      const size_t a = r / (out_[1] * out_[2]) - begin_[0], b = r / out_[2] % out_[1] - begin_[1],
                   c = r % out_[2] - begin_[2];
      if (a >= in_[0] || b >= in_[1] || c >= in_[2]) {
        std::fill(dst, dst + out_[3], value_);
        continue;
      }
      std::fill(dst, dst + begin_[3], value_);
      std::memcpy(dst + begin_[3], x_ + ((a * in_[1] + b) * in_[2] + c) * in_[3], in_[3] * sizeof(float));
      std::fill(dst + begin_[3] + in_[3], dst + out_[3], value_);
    }
  }

  float value_ = 0;
  size_t in_[4] = {}, out_[4] = {}, begin_[4] = {};
};

}  // namespace

Status validate_reshape(const ValidateContext& c) {
  ONEBIT_RETURN_IF_ERROR(c.count(1, 1));
  ONEBIT_RETURN_IF_ERROR(c.dtype(0, fb::DType::Float32));
  if (element_count(c.in(0).shape) != element_count(c.out().shape))
    return c.fail("output shape " + shape_string(c.out().shape) + " has a different element count than input " +
                  shape_string(c.in(0).shape));
  return c.output(fb::DType::Float32, c.out().shape);
}
std::unique_ptr<Op> make_reshape() { return std::make_unique<Reshape>(); }

Status validate_concat(const ValidateContext& c) {
  const int axis = c.op().options_as_ConcatOptions()->axis();
  ONEBIT_RETURN_IF_ERROR(c.count(1, 64));
  const Vec<int>& first = c.in(0).shape;
  const int rank = int(first.size());
  ONEBIT_RETURN_IF_ERROR(c.range("axis", axis, -rank, rank - 1));
  const size_t a = size_t(axis < 0 ? axis + rank : axis);
  Vec<int> out = first;
  out[a] = 0;
  for (size_t k = 0; k < c.inputs(); ++k) {
    ONEBIT_RETURN_IF_ERROR(c.dtype(k, fb::DType::Float32));
    const Vec<int>& s = c.in(k).shape;
    Vec<int> want = first;
    want[a] = s.size() == first.size() ? s[a] : 1;
    ONEBIT_RETURN_IF_ERROR(c.shape(k, want, "equal to input 0 except along the concat axis"));
    out[a] += s[a];  // <= 64 * 2^20: no overflow
  }
  return c.output(fb::DType::Float32, out);
}
std::unique_ptr<Op> make_concat() { return std::make_unique<Concat>(); }

Status validate_pad(const ValidateContext& c) {
  const fb::PadOptions& o = *c.op().options_as_PadOptions();
  ONEBIT_RETURN_IF_ERROR(c.count(1, 1));
  ONEBIT_RETURN_IF_ERROR(c.dtype(0, fb::DType::Float32));
  const Vec<int>& x = c.in(0).shape;
  const size_t n = o.pads() ? o.pads()->size() : 0;
  if (n != 2 * x.size())
    return c.fail("pads has " + num(n) + " values, expected " + num(2 * x.size()) +
                  " (begin and end for each of the " + num(x.size()) + " dimensions)");
  Vec<int> out = x;
  for (size_t i = 0; i < n; ++i) {
    const int p = o.pads()->Get(flatbuffers::uoffset_t(i));
    ONEBIT_RETURN_IF_ERROR(c.range(("pads[" + num(i) + "]").c_str(), p, 0, kMaxWindow));
    out[i % x.size()] += p;
  }
  return c.output(fb::DType::Float32, out);
}
std::unique_ptr<Op> make_pad() { return std::make_unique<Pad>(); }

}  // namespace onebit::rt
