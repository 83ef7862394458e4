// Softmax and log-softmax over the last dimension, plain loops (they run once, on the logits).
#include <algorithm>
#include <cmath>

#include "ops/op.h"
#include "ops/op_table.h"
#include "validate.h"

namespace onebit::rt {
namespace {

/// log = false: y = exp(x - max) / sum(exp(x - max)).
/// log = true:  y = (x - max) - log(sum(exp(x - max))), the ONNX LogSoftmax. Never log(softmax): a softmax
/// entry can underflow to 0 (x - max below about -104 in float) and its log would be -inf, while this form
/// stays finite because the shift by the max makes the sum >= 1 (the max's own term is exp(0) = 1), so its
/// log is >= 0 and finite for any finite row.
class Softmax final : public Op {
 public:
  Status prepare(const OpContext& ctx) override {
    channels_ = size_t(ctx.inputs[0]->shape.back());
    rows_ = element_count(ctx.inputs[0]->shape) / channels_;
    const fb::SoftmaxOptions* o = ctx.op->options_as_SoftmaxOptions();
    log_ = o != nullptr && o->log();
    return Status::Ok();
  }
  Status bind(const OpContext&, const std::vector<const void*>& in, void* out, void*) override {
    x_ = static_cast<const float*>(in[0]);
    y_ = static_cast<float*>(out);
    return Status::Ok();
  }
  Status run(pthreadpool_t) override {
    if (log_) {
      run_log();
      return Status::Ok();
    }
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
  void run_log() const {
    for (size_t r = 0; r < rows_; ++r) {
      const float* x = x_ + r * channels_;
      float* y = y_ + r * channels_;
      const float mx = *std::max_element(x, x + channels_);
      float sum = 0;
      for (size_t c = 0; c < channels_; ++c) sum += std::exp(x[c] - mx);
      const float lse = std::log(sum);
      for (size_t c = 0; c < channels_; ++c) y[c] = (x[c] - mx) - lse;
    }
  }

  size_t channels_ = 0, rows_ = 0;
  bool log_ = false;
  const float* x_ = nullptr;
  float* y_ = nullptr;
};

}  // namespace

Status validate_softmax(const ValidateContext& c) { return check_channelwise(c, 0, false); }
std::unique_ptr<Op> make_softmax() { return std::make_unique<Softmax>(); }

}  // namespace onebit::rt
