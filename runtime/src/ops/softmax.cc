// Softmax and log-softmax over the last dimension, plain loops. Rows are split over the pool (each row whole
// in one task). A single row (batch 1 logits) stays serial unless it is large (kLargeRow floats): then the
// exponentials and the final scaling are split by spans of the row while the max and the sum stay serial,
// in the same order as the row loop, so the output is the same for every thread count.
#include <algorithm>
#include <cmath>

#include "ops/op.h"
#include "ops/op_table.h"
#include "ops/parallel.h"
#include "validate.h"

namespace onebit::rt {
namespace {

constexpr size_t kLargeRow = 4 * kMinTaskBytes / sizeof(float);

/// log = false: y = exp(x - max) / sum(exp(x - max)).
/// log = true:  y = (x - max) - log(sum(exp(x - max))), the ONNX LogSoftmax. Never log(softmax): a softmax
/// entry can underflow to 0 (x - max below about -104 in float) and its log would be -inf, while this form
/// stays finite because the shift by the max makes the sum >= 1 (the max's own term is exp(0) = 1), so its
/// log is >= 0 and finite for any finite row.
class Softmax final : public UnaryOp<float, float> {
 public:
  Status prepare(const OpContext& ctx) override {
    channels_ = size_t(ctx.inputs[0]->shape.back());
    rows_ = element_count(ctx.inputs[0]->shape) / channels_;
    const fb::SoftmaxOptions* o = ctx.op->options_as_SoftmaxOptions();
    log_ = o != nullptr && o->log();
    return Status::Ok();
  }
  Status run(pthreadpool_t pool) override {
    if (rows_ == 1 && channels_ >= kLargeRow) {
      large_row(pool);
    } else {
      parallel_for(pool, rows_, channels_ * sizeof(float), [this](size_t begin, size_t end) {
        for (size_t r = begin; r < end; ++r) row(x_ + r * channels_, y_ + r * channels_);
      });
    }
    return Status::Ok();
  }

 private:
  void row(const float* x, float* y) const {
    const float mx = *std::max_element(x, x + channels_);
    float sum = 0;
    if (log_) {
      for (size_t c = 0; c < channels_; ++c) sum += std::exp(x[c] - mx);
      const float lse = std::log(sum);
      for (size_t c = 0; c < channels_; ++c) y[c] = (x[c] - mx) - lse;
    } else {
      for (size_t c = 0; c < channels_; ++c) sum += (y[c] = std::exp(x[c] - mx));
      for (size_t c = 0; c < channels_; ++c) y[c] /= sum;
    }
  }

  /// row() on one long row: the exponentials go to y first (both forms), then are summed in order.
  void large_row(pthreadpool_t pool) const {
    const float* x = x_;
    float* y = y_;
    const float mx = *std::max_element(x, x + channels_);
    parallel_for(pool, channels_, sizeof(float), [&](size_t begin, size_t end) {
      for (size_t c = begin; c < end; ++c) y[c] = std::exp(x[c] - mx);
    });
    float sum = 0;
    for (size_t c = 0; c < channels_; ++c) sum += y[c];
    const float lse = log_ ? std::log(sum) : 0.0f;
    parallel_for(pool, channels_, sizeof(float), [&](size_t begin, size_t end) {
      if (log_) {
        for (size_t c = begin; c < end; ++c) y[c] = (x[c] - mx) - lse;
      } else {
        for (size_t c = begin; c < end; ++c) y[c] /= sum;
      }
    });
  }

  size_t channels_ = 0, rows_ = 0;
  bool log_ = false;
};

}  // namespace

Status validate_softmax(const ValidateContext& c) { return check_channelwise(c, 0, false); }
std::unique_ptr<Op> make_softmax() { return std::make_unique<Softmax>(); }

}  // namespace onebit::rt
