// Portable full-precision kernels: the float layers of a model where there is no XNNPACK (Cortex-M), the
// reference the desktop's XNNPACK path is tested against, and the scalar path. Plain C++17: no heap, no
// exceptions, no RTTI, no threads; each kernel takes a range of output rows so that a caller may split the
// work over threads (any split gives the same bits as the whole range).
//
// Layouts are the runtime's: activations NHWC, convolution weights OHWI with I = C / groups (output channel o
// belongs to group o / (out_c / groups) and reads input channels [group * I, group * I + I)), fully connected
// weights [out][in], per-channel vectors indexed by the last dimension.
//
// Order of floating-point operations. Every result below is computed in IEEE single precision, one rounding
// per written operation, in exactly the order given; no operation is fused or reassociated (the kernels are
// compiled with -ffp-contract=off and no fast-math). A Cortex-M build and an x86 / Arm build of these files
// therefore give the same bits. Loops may visit outputs in any order and hold several outputs' partial sums
// at once; each single output's sum is always formed in the documented order.
//   clamp(v, lo, hi):   v = (v < lo) ? lo : v;  v = (v > hi) ? hi : v    (a NaN v stays NaN)
//   conv2d_f32:         acc = 0.0f; for ky ascending, for kx ascending, skipping taps that fall in the
//                       padding, for i ascending: acc = acc + x * w (the product rounded, then the sum);
//                       then acc = acc + bias[o] (only when bias is not null); then clamp.
//                       A padded tap contributes nothing (as a zero input would, up to the sign of a zero
//                       sum and non-finite weights).
//   fully_connected_f32: acc = 0.0f; for i ascending: acc = acc + x[i] * w[o][i]; then + bias[o] when bias
//                       is not null; then clamp.
//   conv2d_binary_weights_f32, fully_connected_binary_weights_f32 (1-bit weights w = scale[o] * ±1):
//                       acc = 0.0f; taps in conv2d_f32's (fully_connected_f32's) order, each adding the
//                       input or its negation: acc = acc + x * (bit ? -1.0f : 1.0f) (an exact product, so
//                       acc - x where the bit is 1, acc + x where it is 0); then acc = acc * scale[o]; then
//                       + bias[o] when bias is not null; then clamp. The scale multiplies the sum once: not
//                       the rounding of the float kernels on the expanded weights (a sum of x * ±scale[o]),
//                       which the desktop's XNNPACK path still runs.
//   max_pool2d_f32:     acc = -inf; for h ascending, w ascending over the real (non-padded) taps:
//                       acc = (acc < v) ? v : acc.
//   avg_pool2d_f32:     acc = 0.0f; for h, w ascending over the real taps: acc = acc + v; then
//                       acc / d with d = kernel_h * kernel_w when count_include_pad (padded taps count as
//                       zeros), else the number of real taps (a division, not a multiplication by 1/d).
//   global_avg_pool_f32: acc = 0.0f; for pixels ascending: acc = acc + v; then acc / pixels.
//   clamp_f32:          clamp(x, lo, hi).
//   prelu_f32:          (x < 0) ? x * slope[c] : x.
//   add_f32:            clamp(a + b, lo, hi).
#pragma once

#include <cstddef>
#include <cstdint>

namespace onebit::kernels {

/// A 2-D convolution's geometry. out_h / out_w are the caller's (the pads at the bottom / right are implied
/// by them); groups divides in_c and out_c; every field positive except the pads (>= 0).
struct FloatConv2D {
  int batch, in_h, in_w, in_c, out_h, out_w, out_c, kernel_h, kernel_w, stride_h, stride_w, dilation_h,
      dilation_w, pad_top, pad_left, groups;
  float clamp_min, clamp_max;
};

/// y [batch, out_h, out_w, out_c] = conv(x [batch, in_h, in_w, in_c], w_ohwi [out_c, kernel_h, kernel_w,
/// in_c / groups]) + bias [out_c] (or no bias when null), clamped; output rows [row_begin, row_end) of the
/// batch * out_h rows only. Order of operations: header comment. y must not overlap x. The weights are read
/// where they lie (no copy, no scratch); the stack holds one tile of 4 x 8 accumulators.
void conv2d_f32(const FloatConv2D& g, const float* x, const float* w_ohwi, const float* bias, float* y,
                int row_begin, int row_end);

/// y [batch, out_c] = x [batch, in_c] · w [out_c][in_c]ᵀ + bias [out_c] (or none when null), clamped to
/// [lo, hi]; batch rows [row_begin, row_end) only.
void fully_connected_f32(int batch, int in_c, int out_c, const float* x, const float* w, const float* bias,
                         float lo, float hi, float* y, int row_begin, int row_end);

/// The same convolution with 1-bit weights (BinaryConnect / BWN): weight (o, ky, kx, i) = scale[o] *
/// (1 - 2 * bit), the bits read where they lie in the model's layout: OHWI packed along I (the bit contract,
/// bit_contract.h), row (o, ky, kx) of in_c / groups bits starting at word ((o * kernel_h + ky) * kernel_w +
/// kx) * ceil(in_c / groups / 32), element i at bit i % 32 of the row's word i / 32 (bits past in_c / groups
/// are never read). scale [out_c]; bias, clamp, rows and overlap as conv2d_f32. Order of operations: header
/// comment (a sum of ±x, then one multiplication by scale[o]). No copy, no scratch, no heap.
void conv2d_binary_weights_f32(const FloatConv2D& g, const float* x, const uint32_t* w_bits, const float* scale,
                               const float* bias, float* y, int row_begin, int row_end);

/// y [batch, out_c] = x [batch, in_c] · (scale[o] * (1 - 2 * bit[o][i]))ᵀ + bias (or none when null), clamped
/// to [lo, hi]; the bits are rows of in_c, each starting on a word (row o at word o * ceil(in_c / 32)), as
/// above. Batch rows [row_begin, row_end) only.
void fully_connected_binary_weights_f32(int batch, int in_c, int out_c, const float* x, const uint32_t* w_bits,
                                        const float* scale, const float* bias, float lo, float hi, float* y,
                                        int row_begin, int row_end);

/// A 2-D pooling window over NHWC data (the pads at the bottom / right are implied by out_h / out_w). Every
/// window must hold at least one real tap (the runtime validates pads < kernel).
struct FloatPool2D {
  int batch, in_h, in_w, channels, out_h, out_w, kernel_h, kernel_w, stride_h, stride_w, pad_top, pad_left;
};

/// Max pooling of output rows [row_begin, row_end) of batch * out_h; padded taps are ignored.
void max_pool2d_f32(const FloatPool2D& p, const float* x, float* y, int row_begin, int row_end);
/// Average pooling of output rows [row_begin, row_end): the sum of the real taps divided by the kernel area
/// (count_include_pad) or by the number of real taps.
void avg_pool2d_f32(const FloatPool2D& p, bool count_include_pad, const float* x, float* y, int row_begin,
                    int row_end);
/// y [batch, channels] = the mean of x [batch, pixels, channels] over the pixels.
void global_avg_pool_f32(int batch, int pixels, int channels, const float* x, float* y);

/// y[i] = clamp(x[i], lo, hi) for i < n (lo = 0, hi = +inf is ReLU). y may be x.
void clamp_f32(size_t n, const float* x, float lo, float hi, float* y);
/// y [rows, channels] = x < 0 ? x * slope[c] : x. y may be x.
void prelu_f32(size_t rows, size_t channels, const float* x, const float* slope, float* y);

/// The largest rank add_f32 broadcasts (the runtime's tensor rank limit).
inline constexpr int kFloatAddMaxRank = 4;

/// NumPy broadcasting of two shapes for add_f32, built by float_add_shape: both inputs right-aligned to the
/// output's rank (missing leading dimensions are 1), a dimension of 1 stretched.
struct FloatAdd {
  int rank;
  int out[kFloatAddMaxRank];
  int a[kFloatAddMaxRank];
  int b[kFloatAddMaxRank];
  float clamp_min, clamp_max;
};

/// Fills *g for shapes a (rank_a dims) and b (rank_b dims) and the output clamp; false when a rank is
/// outside 1..kFloatAddMaxRank, a dimension is below 1, or the shapes do not broadcast.
bool float_add_shape(int rank_a, const int* a, int rank_b, const int* b, float lo, float hi, FloatAdd* g);
/// Rows of the output (the product of every dimension but the last).
size_t float_add_rows(const FloatAdd& g);
/// y = clamp(a + b) over output rows [row_begin, row_end) of float_add_rows(g), each of g.out[rank - 1]
/// elements. y may be a or b when that input has the output's shape.
void add_f32(const FloatAdd& g, const float* a, const float* b, float* y, size_t row_begin, size_t row_end);
/// y = clamp(a * b), the same broadcasting (issue 21: XNOR-Net's per-position scale K [N, H, W, 1] and
/// XNOR-Net++'s constant [1, H, W, C] times a feature map; a per-channel scale [C]).
void mul_f32(const FloatAdd& g, const float* a, const float* b, float* y, size_t row_begin, size_t row_end);

}  // namespace onebit::kernels
