// Data-movement operators as plain loops: Reshape (a copy: same bytes, new shape), Concat along any axis,
// and Pad (constant value, begin/end per dimension like ONNX).
#include <algorithm>
#include <cstring>

#include "ops/op.h"
#include "ops/op_table.h"
#include "validate.h"

namespace onebit::rt {
namespace {

class Reshape final : public Op {
 public:
  Status prepare(const OpContext& ctx) override {
    bytes_ = ctx.output->bytes;
    return Status::Ok();
  }
  Status bind(const OpContext&, const std::vector<const void*>& in, void* out, void*) override {
    x_ = in[0];
    y_ = out;
    return Status::Ok();
  }
  Status run(pthreadpool_t) override {
    std::memcpy(y_, x_, bytes_);
    return Status::Ok();
  }

 private:
  size_t bytes_ = 0;
  const void* x_ = nullptr;
  void* y_ = nullptr;
};

/// Each input is `outer` blocks of inner_k = dim_k(axis) * inner floats; the output interleaves them.
class Concat final : public Op {
 public:
  Status prepare(const OpContext& ctx) override {
    const std::vector<int>& y = ctx.output->shape;
    int axis = ctx.op->options_as_ConcatOptions()->axis();
    if (axis < 0) axis += int(y.size());
    outer_ = 1;
    for (int d = 0; d < axis; ++d) outer_ *= size_t(y[size_t(d)]);
    size_t inner = 1;
    for (size_t d = size_t(axis) + 1; d < y.size(); ++d) inner *= size_t(y[d]);
    for (const TensorDesc* t : ctx.inputs) block_.push_back(size_t(t->shape[size_t(axis)]) * inner);
    return Status::Ok();
  }
  Status bind(const OpContext&, const std::vector<const void*>& in, void* out, void*) override {
    for (const void* p : in) x_.push_back(static_cast<const float*>(p));
    y_ = static_cast<float*>(out);
    return Status::Ok();
  }
  Status run(pthreadpool_t) override {
    float* y = y_;
    for (size_t o = 0; o < outer_; ++o) {
      for (size_t k = 0; k < x_.size(); ++k) {
        std::memcpy(y, x_[k] + o * block_[k], block_[k] * sizeof(float));
        y += block_[k];
      }
    }
    return Status::Ok();
  }

 private:
  size_t outer_ = 1;
  std::vector<size_t> block_;
  std::vector<const float*> x_;
  float* y_ = nullptr;
};

/// Works on the shape right-aligned to 4 dimensions (missing leading dims are 1 with no padding).
class Pad final : public Op {
 public:
  Status prepare(const OpContext& ctx) override {
    const fb::PadOptions& o = *ctx.op->options_as_PadOptions();
    value_ = o.value();
    const std::vector<int>& x = ctx.inputs[0]->shape;
    const size_t r = x.size(), lead = 4 - r;
    for (size_t d = 0; d < 4; ++d) {
      in_[d] = d < lead ? 1 : size_t(x[d - lead]);
      begin_[d] = d < lead ? 0 : size_t(o.pads()->Get(flatbuffers::uoffset_t(d - lead)));
      out_[d] = d < lead ? 1 : size_t(ctx.output->shape[d - lead]);
    }
    return Status::Ok();
  }
  Status bind(const OpContext&, const std::vector<const void*>& in, void* out, void*) override {
    x_ = static_cast<const float*>(in[0]);
    y_ = static_cast<float*>(out);
    return Status::Ok();
  }
  Status run(pthreadpool_t) override {
    std::fill(y_, y_ + out_[0] * out_[1] * out_[2] * out_[3], value_);
    for (size_t a = 0; a < in_[0]; ++a) {
      for (size_t b = 0; b < in_[1]; ++b) {
        for (size_t c = 0; c < in_[2]; ++c) {
          const float* src = x_ + ((a * in_[1] + b) * in_[2] + c) * in_[3];
          float* dst = y_ + (((a + begin_[0]) * out_[1] + b + begin_[1]) * out_[2] + c + begin_[2]) * out_[3] + begin_[3];
          std::memcpy(dst, src, in_[3] * sizeof(float));
        }
      }
    }
    return Status::Ok();
  }

 private:
  float value_ = 0;
  size_t in_[4] = {}, out_[4] = {}, begin_[4] = {};
  const float* x_ = nullptr;
  float* y_ = nullptr;
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
  const std::vector<int>& first = c.in(0).shape;
  const int rank = int(first.size());
  ONEBIT_RETURN_IF_ERROR(c.range("axis", axis, -rank, rank - 1));
  const size_t a = size_t(axis < 0 ? axis + rank : axis);
  std::vector<int> out = first;
  out[a] = 0;
  for (size_t k = 0; k < c.inputs(); ++k) {
    ONEBIT_RETURN_IF_ERROR(c.dtype(k, fb::DType::Float32));
    const std::vector<int>& s = c.in(k).shape;
    std::vector<int> want = first;
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
  const std::vector<int>& x = c.in(0).shape;
  const size_t n = o.pads() ? o.pads()->size() : 0;
  if (n != 2 * x.size())
    return c.fail("pads has " + std::to_string(n) + " values, expected " + std::to_string(2 * x.size()) +
                  " (begin and end for each of the " + std::to_string(x.size()) + " dimensions)");
  std::vector<int> out = x;
  for (size_t i = 0; i < n; ++i) {
    const int p = o.pads()->Get(flatbuffers::uoffset_t(i));
    ONEBIT_RETURN_IF_ERROR(c.range(("pads[" + std::to_string(i) + "]").c_str(), p, 0, kMaxWindow));
    out[i % x.size()] += p;
  }
  return c.output(fb::DType::Float32, out);
}
std::unique_ptr<Op> make_pad() { return std::make_unique<Pad>(); }

}  // namespace onebit::rt
