// Softmax over the last dimension, a plain loop (it runs once, on the logits).
#include <algorithm>
#include <cmath>

#include "ops/op.h"

namespace onebit::rt {
namespace {

/// y = exp(x - max) / sum(exp(x - max)) over the last dimension.
class Softmax final : public Op {
 public:
  Status prepare(const OpContext& ctx) override {
    channels_ = size_t(ctx.inputs[0]->shape.back());
    rows_ = element_count(ctx.inputs[0]->shape) / channels_;
    return Status::Ok();
  }
  Status bind(const OpContext&, const std::vector<const void*>& in, void* out, void*) override {
    x_ = static_cast<const float*>(in[0]);
    y_ = static_cast<float*>(out);
    return Status::Ok();
  }
  Status run(pthreadpool_t) override {
    for (size_t r = 0; r < rows_; ++r) {
      const float* x = x_ + r * channels_;
      float* y = y_ + r * channels_;
      const float mx = *std::max_element(x, x + channels_);
      float sum = 0;
      for (size_t c = 0; c < channels_; ++c) sum += (y[c] = std::exp(x[c] - mx));
      for (size_t c = 0; c < channels_; ++c) y[c] /= sum;
    }
    return Status::Ok();
  }

 private:
  size_t channels_ = 0, rows_ = 0;
  const float* x_ = nullptr;
  float* y_ = nullptr;
};

}  // namespace

std::unique_ptr<Op> make_softmax() { return std::make_unique<Softmax>(); }

}  // namespace onebit::rt
