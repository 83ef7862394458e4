#include "onebit/pool.h"
#include "ops/int8_layer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "ops/parallel.h"

namespace onebit::rt {
#if !ONEBIT_MCU
namespace {

size_t slack_aligned(size_t bytes) { return (bytes + 16 + 63) / 64 * 64; }  // XNNPACK may read 16 bytes past

Status check(const OpContext& ctx, xnn_status s, const char* call) {
  if (s == xnn_status_success) return Status::Ok();
  return ctx.fail(Text(call) + " failed (XNNPACK status " + num(int(s)) + ")");
}

}  // namespace
#endif

float half_to_float(uint16_t h) {
  const int exponent = (h >> 10) & 0x1f;
  const int mantissa = h & 0x3ff;
  float v;
  if (exponent == 0) v = std::ldexp(float(mantissa), -24);  // zero and subnormals: mantissa * 2^-24
  else if (exponent == 31) v = mantissa != 0 ? NAN : INFINITY;
  else v = std::ldexp(float(mantissa | 0x400), exponent - 25);  // (1024 + m) * 2^(e - 15 - 10)
  return (h & 0x8000) != 0 ? -v : v;
}

int8_t quantize_bound(float v, float scale, int zero_point) {
  if (std::isinf(v)) return v < 0 ? int8_t(-128) : int8_t(127);
  const double q = std::nearbyint(double(v) / double(scale)) + zero_point;
  return int8_t(std::clamp(q, -128.0, 127.0));
}

int32_t quantize_bias(float bias, float input_scale, float weight_scale) {
  const double q = std::nearbyint(double(bias) / (double(input_scale) * double(weight_scale)));
  return int32_t(std::clamp(q, -2147483648.0, 2147483647.0));
}

#if ONEBIT_MCU
Int8Layer::~Int8Layer() = default;
Status Int8Layer::prepare(const OpContext& ctx, const Int8Geometry&, const fb::Int8Quantization&, Int8Route) {
  return ctx.fail("int8 layers need XNNPACK, which the Cortex-M build does not have");
}
Status Int8Layer::bind(const OpContext&, const float*, float*, void*) { return Status::Ok(); }
Status Int8Layer::run(pthreadpool_t) { return Status::Error("internal: an int8 layer in the Cortex-M build"); }
#else
Int8Layer::~Int8Layer() {
  for (xnn_operator_t op : {quantize_, conv_, dequantize_})
    if (op != nullptr) xnn_delete_operator(op);
}

Status Int8Layer::prepare(const OpContext& ctx, const Int8Geometry& g, const fb::Int8Quantization& q,
                          Int8Route route) {
  g_ = g;
  const int8_t* weights = ctx.constant<int8_t>(1);
  const float* bias = ctx.constant<float>(2);
  const float* weight_scale = ctx.constant<float>(3);
  Vec<int32_t> qbias(g.out_c);
  for (size_t o = 0; o < g.out_c; ++o) qbias[o] = quantize_bias(bias[o], q.input_scale(), weight_scale[o]);
  const int8_t qmin = quantize_bound(g.clamp_min, q.output_scale(), q.output_zero_point());
  const int8_t qmax = quantize_bound(g.clamp_max, q.output_scale(), q.output_zero_point());
  if (qmin >= qmax)
    return ctx.fail("clamp [" + num(g.clamp_min) + ", " + num(g.clamp_max) +
                    "] quantizes to the empty int8 range [" + num(qmin) + ", " + num(qmax) + "]");
  if (route == Int8Route::kStem) return prepare_stem(ctx, q, qbias.data(), qmin, qmax);
  in_bytes_ = slack_aligned(g.batch * g.in_h * g.in_w * g.in_c);
  out_bytes_ = slack_aligned(g.batch * g.out_h * g.out_w * g.out_c);
  ONEBIT_RETURN_IF_ERROR(check(ctx,
                               xnn_create_convert_nc_f32_qs8(g.in_c, g.in_c, g.in_c, q.input_scale(),
                                                             q.input_zero_point(), -128, 127, 0, &quantize_),
                               "xnn_create_convert_nc_f32_qs8"));
  zero_point_ = q.input_zero_point();
  im2col_ = g.groups == 1 && g.in_c < 8 && g.kernel_h * g.kernel_w > 1;
  const size_t k = size_t(g.kernel_h) * g.kernel_w * g.in_c;
  if (im2col_) cols_bytes_ = slack_aligned(g.batch * g.out_h * g.out_w * k);
  const xnn_status created =
      im2col_ ? xnn_create_convolution2d_nhwc_qc8(0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, k, g.out_c, k, g.out_c,
                                                  q.input_zero_point(), q.input_scale(), weight_scale, weights,
                                                  qbias.data(), q.output_zero_point(), q.output_scale(), qmin, qmax, 0,
                                                  &conv_)
              : xnn_create_convolution2d_nhwc_qc8(
                    g.pad_top, g.pad_right, g.pad_bottom, g.pad_left, g.kernel_h, g.kernel_w, g.stride_h, g.stride_w,
                    g.dilation_h, g.dilation_w, uint32_t(g.groups), g.in_c / g.groups, g.out_c / g.groups, g.in_c,
                    g.out_c, q.input_zero_point(), q.input_scale(), weight_scale, weights, qbias.data(),
                    q.output_zero_point(), q.output_scale(), qmin, qmax, 0, &conv_);
  ONEBIT_RETURN_IF_ERROR(check(ctx, created, "xnn_create_convolution2d_nhwc_qc8"));
  return check(ctx,
               xnn_create_convert_nc_qs8_f32(g.out_c, g.out_c, g.out_c, q.output_scale(), q.output_zero_point(), 0,
                                             &dequantize_),
               "xnn_create_convert_nc_qs8_f32");
}

Status Int8Layer::prepare_stem(const OpContext& ctx, const fb::Int8Quantization& q, const int32_t* qbias,
                               int8_t qmin, int8_t qmax) {
  kernels::StemInt8& p = stem_params_;
  p.g = {int(g_.batch), int(g_.in_h), int(g_.in_w), int(g_.in_c), int(g_.out_h), int(g_.out_w), int(g_.out_c),
         int(g_.kernel_h), int(g_.kernel_w), int(g_.stride_h), int(g_.stride_w), 1, 1, int(g_.pad_top),
         int(g_.pad_left), 1, g_.clamp_min, g_.clamp_max};
  p.input_scale = q.input_scale(), p.input_zero_point = q.input_zero_point();
  p.output_scale = q.output_scale(), p.output_zero_point = q.output_zero_point();
  p.qmin = qmin, p.qmax = qmax;
  p.float_output = true;
  kernels::stem_int8_init(&p);
  stem_ = &kernels::stem_int8_select();
  stem_input_bytes_ = slack_aligned(kernels::stem_int8_input_bytes(*stem_, p));
  stem_packed_.resize(kernels::stem_int8_packed_bytes(*stem_, p));
  kernels::stem_int8_pack(*stem_, p, ctx.constant<int8_t>(1), qbias, ctx.constant<float>(3), stem_packed_.data());
  return Status::Ok();
}

void Int8Layer::run_stem(pthreadpool_t pool) const {
  const kernels::StemInt8& p = stem_params_;
  const size_t in_rows = size_t(p.g.batch) * size_t(p.padded_h), rows = size_t(p.g.batch) * size_t(p.g.out_h);
  parallel_for(pool, in_rows, size_t(p.padded_w) * size_t(p.g.in_c), [&](size_t r0, size_t r1) {
    kernels::stem_int8_quantize(*stem_, p, x_, xq_, int(r0), int(r1));
  });
  parallel_for(pool, rows, size_t(p.g.out_w) * size_t(p.g.out_c) * sizeof(float), [&](size_t r0, size_t r1) {
    kernels::stem_int8_conv(*stem_, p, xq_, stem_packed_.data(), y_, int(r0), int(r1));
  });
}

Status Int8Layer::bind(const OpContext& ctx, const float* x, float* y, void* scratch) {
  if (stem_ != nullptr) {
    x_ = x, y_ = y, xq_ = static_cast<uint8_t*>(scratch);
    return Status::Ok();
  }
  int8_t* qx = static_cast<int8_t*>(scratch);
  int8_t* qy = qx + in_bytes_ + cols_bytes_;
  qx_ = qx;
  cols_ = qx + in_bytes_;
  ONEBIT_RETURN_IF_ERROR(check(
      ctx, xnn_setup_convert_nc_f32_qs8(quantize_, g_.batch * g_.in_h * g_.in_w, x, qx, ctx.pool),
      "xnn_setup_convert_nc_f32_qs8"));
  const xnn_status set =
      im2col_ ? xnn_setup_convolution2d_nhwc_qc8(conv_, g_.batch * g_.out_h * g_.out_w, 1, 1, cols_, qy, ctx.pool)
              : xnn_setup_convolution2d_nhwc_qc8(conv_, g_.batch, g_.in_h, g_.in_w, qx, qy, ctx.pool);
  ONEBIT_RETURN_IF_ERROR(check(ctx, set, "xnn_setup_convolution2d_nhwc_qc8"));
  return check(ctx, xnn_setup_convert_nc_qs8_f32(dequantize_, g_.batch * g_.out_h * g_.out_w, qy, y, ctx.pool),
               "xnn_setup_convert_nc_qs8_f32");
}

void Int8Layer::im2col(pthreadpool_t pool) const {
  // Split over output rows (each row of columns written once, by one task): same bytes for any split.
  const size_t c = g_.in_c, row_bytes = g_.out_w * g_.kernel_h * g_.kernel_w * c;
  parallel_for(pool, g_.batch * g_.out_h, row_bytes, [&](size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; ++r) {
      const size_t n = r / g_.out_h, oy = r % g_.out_h;
      int8_t* out = cols_ + r * row_bytes;
      for (size_t ox = 0; ox < g_.out_w; ++ox)
        for (uint32_t ky = 0; ky < g_.kernel_h; ++ky)
          for (uint32_t kx = 0; kx < g_.kernel_w; ++kx, out += c) {
            const int64_t iy = int64_t(oy * g_.stride_h + ky * g_.dilation_h) - g_.pad_top;
            const int64_t ix = int64_t(ox * g_.stride_w + kx * g_.dilation_w) - g_.pad_left;
            if (iy < 0 || ix < 0 || iy >= int64_t(g_.in_h) || ix >= int64_t(g_.in_w)) {
              std::memset(out, zero_point_, c);  // a padded tap is real 0
            } else {
              std::memcpy(out, qx_ + ((n * g_.in_h + size_t(iy)) * g_.in_w + size_t(ix)) * c, c);
            }
          }
    }
  });
}

Status Int8Layer::run(pthreadpool_t pool) {
  if (stem_ != nullptr) {
    run_stem(pool);
    return Status::Ok();
  }
  for (xnn_operator_t op : {quantize_, conv_, dequantize_}) {
    if (op == conv_ && im2col_) im2col(pool);
    const xnn_status s = xnn_run_operator(op, pool);
    if (s != xnn_status_success) return Status::Error("xnn_run_operator failed (status " + num(int(s)) + ")");
  }
  return Status::Ok();
}

#endif  // ONEBIT_MCU
}  // namespace onebit::rt
