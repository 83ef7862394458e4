// BinaryMaxPool2D through kernels::binary_max_pool_rows (its ukernel chosen once, at prepare): the max of
// ±1 values is the AND of the "is -1" bits; padded taps are ignored. Binary tensors only (validated): the max of k-bit levels is no plane-wise AND.
// Output rows (batch * out_h of them) are split over the pool; each output pixel is one window's AND.
#include "onebit/kernels/bpool.h"
#include "onebit/pool.h"
#include "ops/op.h"
#include "ops/op_table.h"
#include "ops/parallel.h"
#include "validate.h"

namespace onebit::rt {
namespace {

class BinaryMaxPool final : public UnaryOp<uint32_t, uint32_t> {
 public:
  Status prepare(const OpContext& ctx) override {
    const fb::BinaryMaxPool2DOptions& o = *ctx.op->options_as_BinaryMaxPool2DOptions();
    const Vec<int>& x = ctx.inputs[0]->shape;
    ukernel_ = kernels::bpool_select(ctx.isa);
    g_.batch = x[0];
    g_.in_h = x[1];
    g_.in_w = x[2];
    g_.channels = x[3];
    g_.kernel_h = o.kernel_h();
    g_.kernel_w = o.kernel_w();
    g_.stride_h = o.stride_h();
    g_.stride_w = o.stride_w();
    g_.pad_top = o.pad_top();
    g_.pad_left = o.pad_left();
    g_.pad_bottom = o.pad_bottom();
    g_.pad_right = o.pad_right();
    return Status::Ok();
  }
  Status run(pthreadpool_t pool) override {
    if (g_.out_h() <= 0 || g_.out_w() <= 0) return Status::Ok();
    const size_t rows = size_t(g_.batch) * size_t(g_.out_h());
    const size_t row_bytes = size_t(g_.out_w()) * packed_words(size_t(g_.channels)) * sizeof(uint32_t);
    parallel_for(pool, rows, row_bytes, [&](size_t begin, size_t end) {
      kernels::binary_max_pool_rows(ukernel_, g_, x_, y_, begin, end);
    });
    return Status::Ok();
  }

 private:
  kernels::BPoolUkernel ukernel_;
  kernels::BPoolGeometry g_;
};

}  // namespace

Status validate_binary_max_pool2d(const ValidateContext& c) {
  ONEBIT_RETURN_IF_ERROR(check_pool(c, pool_window(*c.op().options_as_BinaryMaxPool2DOptions()), fb::DType::BitPacked));
  // The output has the input's levels only if the input is Binary: checked on the input first.
  ONEBIT_RETURN_IF_ERROR(c.binary_levels(0, "the max of k-bit levels is not the AND of their planes; dequantize and "
                                            "use MaxPool2D"));
  if (!c.out().levels.binary())
    return c.fail(c.out_label() + " has levels " + levels_string(c.out().levels) + ", expected Binary like the input");
  return Status::Ok();
}
std::unique_ptr<Op> make_binary_max_pool2d() { return std::make_unique<BinaryMaxPool>(); }

}  // namespace onebit::rt
