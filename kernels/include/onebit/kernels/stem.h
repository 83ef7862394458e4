// Direct float convolution for few input channels: the full-precision stem of binary networks (7x7 stride 2,
// C = 3 -> 64 at 224x224; 3x3, C = 1). With C <= 4 there is no channel dot product to vectorize, so the
// ukernels vectorize along the output channels: one input value is broadcast and multiplies a block of
// output channels' weights, for a tile of output pixels of one row at once (each weight vector loaded once
// per tile, each input value once per channel block).
//
// Weights are repacked once (stem_pack) into the layout the ukernel reads: blocks of `block` output channels
// (the ukernel's vector width times its vectors per tile; the last block zero-padded), each block the bias
// [block] followed by the weights [kernel_h][kernel_w][in_c][block].
//
// Order of operations: not float.h's. Each output is acc = 0; for ky, kx (padded taps skipped), i
// ascending: acc += x * w (fused multiply-add in the SIMD ukernels, product then sum in the scalar one);
// then acc + bias (0 when there is none); then float.h's clamp. The tests hold every ukernel to conv2d_f32
// within 1e-5 of the sum of |terms|.
#pragma once

#include <cstddef>

#include "onebit/kernels/float.h"
#include "onebit/kernels/isa.h"

/// Output rows [row_begin, row_end) of batch * out_h: y = clamp(conv(x, weights) + bias), `packed` as
/// stem_pack wrote it for this ukernel. x NHWC, y NHWC from the first output of row row_begin on (the
/// drivers below pass the whole output's address plus that row's offset); y must not overlap x.
typedef void (*onebit_stem_ukernel_fn)(const onebit::kernels::FloatConv2D* g, const float* x, const float* packed,
                                       float* y, int row_begin, int row_end);

/// One output row of max pool p over the window's input rows[0, n) (n >= 1; p->in_w * p->channels floats
/// each), the rows' maximum going through `columns` (p->in_w * p->channels floats); y the output row.
typedef void (*onebit_stem_max_pool_fn)(const onebit::kernels::FloatPool2D* p, const float* const* rows, int n,
                                        float* columns, float* y);

namespace onebit::kernels {

struct StemUkernel {
  Isa isa = Isa::kScalar;
  onebit_stem_ukernel_fn fn = nullptr;
  const char* name = "";
  int block = 1;  // output channels per packed block
  onebit_stem_max_pool_fn max_pool = nullptr;  // stem_conv2d_max_pool_f32's pooling, in the same ISA
};

/// Whether the stem ukernels run this convolution: groups 1, dilation 1, in_c 1..4, kernel height and width
/// 3, 5 or 7, strides 1 or 2.
bool stem_supported(const FloatConv2D& g);
/// Best stem ukernel allowed by `isa` and supported by this CPU (scalar at worst).
const StemUkernel& stem_select(Isa isa);
/// Every stem ukernel compiled into this binary, best ISA first (the CPU may lack some). Sets *count.
const StemUkernel* stem_ukernels(size_t* count);

/// Floats of the packed weights and bias of g for ukernel u.
size_t stem_packed_floats(const StemUkernel& u, const FloatConv2D& g);
/// Packs OHWI weights [out_c][kernel_h][kernel_w][in_c] and bias [out_c] (null: zeros) into `packed`
/// (stem_packed_floats(u, g) floats).
void stem_pack(const StemUkernel& u, const FloatConv2D& g, const float* w_ohwi, const float* bias, float* packed);
/// Output rows [row_begin, row_end) of the convolution with ukernel u on weights stem_pack packed for it.
/// Any split of the rows gives the same bits.
void stem_conv2d_f32(const StemUkernel& u, const FloatConv2D& g, const float* x, const float* packed, float* y,
                     int row_begin, int row_end);

/// Floats of the ring stem_conv2d_max_pool_f32 keeps the convolution's rows in: min(p.kernel_h, g.out_h)
/// output rows of g, and one more for their maximum.
size_t stem_max_pool_ring_floats(const FloatConv2D& g, const FloatPool2D& p);
/// The most rows a max pool's window may have for stem_conv2d_max_pool_f32.
inline constexpr int kStemMaxPoolRows = 8;
/// Whether stem_conv2d_max_pool_f32 runs max pool p: kernel_h <= kStemMaxPoolRows.
bool stem_max_pool_supported(const FloatPool2D& p);
/// The max pooling p of g's output (p.batch, in_h, in_w, channels = g.batch, out_h, out_w, out_c) without
/// that output in memory: output rows [row_begin, row_end) of p (batch * p.out_h rows) into y, the
/// convolution's rows computed with ukernel u as the windows reach them, each once per call, into `ring`
/// (stem_max_pool_ring_floats floats, one ring per concurrent call) and max-pooled from there by u's
/// max_pool (padded taps ignored; over the window's rows, then its pixels, comparing as max_pool2d_f32
/// does). So y has the bits of
/// stem_conv2d_f32 then max_pool2d_f32 or any max pool (the maximum of the same floats; NaN and the sign of
/// zero apart, which the order may change), for any split of the rows; a split only recomputes the rows
/// two windows share.
void stem_conv2d_max_pool_f32(const StemUkernel& u, const FloatConv2D& g, const FloatPool2D& p, const float* x,
                              const float* packed, float* ring, float* y, int row_begin, int row_end);

}  // namespace onebit::kernels
