// Direct int8 convolution for few input channels: the int8 form of the stem (onebit/kernels/stem.h) for
// layers converted with --int8-float-layers, following schema Int8Quantization:
//   qx  = clamp(round_half_even(x * (1 / input_scale)) + input_zero_point, -128, 127)     (per tensor)
//   acc = qbias[o] + sum over the real taps of (qx - input_zero_point) * w[o] (int8 weights; padded taps are
//         real zeros, qx = input_zero_point, and add nothing)
//   q   = clamp(round_half_even(float(acc) * mult[o]) + output_zero_point, qmin, qmax),
//         mult[o] = input_scale * weight_scale[o] / output_scale (float)
//   y   = q (int8 output) or float(q - output_zero_point) * output_scale (float output, what a following float
//         operator reads: the int8 layer's dequantized output).
// (qbias - (input_zero_point + 128) * sum w is saturated to +-2^30 when packed, so no accumulator can overflow:
// it differs from the contract only for biases beyond ~2^30 quanta, which only a corrupt model holds.)
// Everything up to float(acc) is integer arithmetic and the rest the same float operations in every ukernel,
// so every ukernel gives the scalar one's bits.
//
// Two steps. stem_int8_quantize writes the input once as u = qx + 128 (0..255) into a padded image
// (padding: input_zero_point + 128, so no tap is ever clipped), rows [padded_h][padded_w][in_c] per image,
// each element tap_bytes wide (the ukernel's: 1, unsigned bytes; 2, int16); the ukernels then read every
// kernel row of a window as kernel_w * in_c contiguous elements, in groups of 4 bytes (4 bytes or 2 int16:
// the last group runs up to 3 elements into the next pixel; its weights are 0 there), which is what a
// u8 x s8 dot product of 4 (vpdpbusd) or an int16 one of 2 (vpmaddwd) takes.
// sum (qx - zp) * w = sum u * w - (zp + 128) * sum w: the second term is folded into the packed bias.
// Packed weights: blocks of `block` output channels, each int32 bias'[block], float mult[block], then
// w[kernel_h][groups][block][4 bytes] (int8 x 4 or int16 x 2; groups = ceil(kernel_w * in_c * tap_bytes / 4);
// the last block zero-padded).
#pragma once

#include <cstddef>
#include <cstdint>

#include "onebit/kernels/float.h"
#include "onebit/kernels/isa.h"

namespace onebit::kernels {

struct StemInt8 {
  FloatConv2D g{};       // geometry (as stem_supported accepts it); its clamp is not read: qmin / qmax are
  int padded_h = 0, padded_w = 0;  // the quantized input image, padding included (stem_int8_init sets them)
  float input_scale = 1, output_scale = 1;
  int input_zero_point = 0, output_zero_point = 0;
  int qmin = -128, qmax = 127;
  bool float_output = true;  // y is float (dequantized), else int8
};

}  // namespace onebit::kernels

/// Output rows [row_begin, row_end) of batch * out_h, every channel block: y (float or int8, NHWC) from the
/// quantized padded input xq (stem_int8_quantize) and the packed weights (stem_int8_pack).
typedef void (*onebit_stem_int8_ukernel_fn)(const onebit::kernels::StemInt8* p, const uint8_t* xq,
                                            const uint8_t* packed, void* y, int row_begin, int row_end);
/// Quantizes n floats to u = clamp(round_half_even(x * inv_scale) + offset, 0, 255) (offset = zero point + 128),
/// n elements of the ukernel's tap_bytes (uint8_t, or uint16_t in the machine's byte order) at u.
typedef void (*onebit_stem_int8_quantize_fn)(const float* x, size_t n, float inv_scale, int offset, uint8_t* u);

namespace onebit::kernels {

struct StemInt8Ukernel {
  Isa isa = Isa::kScalar;
  bool vnni = false;  // needs the ISA's VNNI (vpdpbusd) besides it: AVX-512 VNNI, or AVX-VNNI for AVX2
  onebit_stem_int8_ukernel_fn fn = nullptr;
  onebit_stem_int8_quantize_fn quantize = nullptr;
  const char* name = "";
  int block = 1;      // output channels per packed block
  int tap_bytes = 1;  // bytes per input element and weight: 1 (u8 x s8) or 2 (int16)
};

/// Whether this CPU runs u (its ISA and, for a VNNI ukernel, VNNI).
bool stem_int8_runs(const StemInt8Ukernel& u);
/// Best int8 stem ukernel this CPU runs (scalar at worst; the CPU's, not a requested ISA's).
const StemInt8Ukernel& stem_int8_select();
/// Every int8 stem ukernel compiled into this binary, best first (the CPU may lack some). Sets *count.
const StemInt8Ukernel* stem_int8_ukernels(size_t* count);

/// Sets p->padded_h / padded_w from p->g (stem_supported(p->g) must hold).
void stem_int8_init(StemInt8* p);
/// Bytes of the quantized padded input for u (3 bytes of slack past the last row included).
size_t stem_int8_input_bytes(const StemInt8Ukernel& u, const StemInt8& p);
/// Quantizes rows [row_begin, row_end) of batch * padded_h of the padded input from x (NHWC floats);
/// any split of the rows gives the same bytes.
void stem_int8_quantize(const StemInt8Ukernel& u, const StemInt8& p, const float* x, uint8_t* xq, int row_begin,
                        int row_end);
/// Bytes of the packed weights of p for u.
size_t stem_int8_packed_bytes(const StemInt8Ukernel& u, const StemInt8& p);
/// Packs int8 OHWI weights, the int32 bias qbias [out_c] (null: zeros) and weight_scale [out_c].
void stem_int8_pack(const StemInt8Ukernel& u, const StemInt8& p, const int8_t* w_ohwi, const int32_t* qbias,
                    const float* weight_scale, uint8_t* packed);
/// Output rows [row_begin, row_end) of batch * out_h; any split gives the same bits.
void stem_int8_conv(const StemInt8Ukernel& u, const StemInt8& p, const uint8_t* xq, const uint8_t* packed, void* y,
                    int row_begin, int row_end);

}  // namespace onebit::kernels
