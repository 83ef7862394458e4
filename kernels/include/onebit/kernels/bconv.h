// Binary convolution (and binary fully connected, its 1x1-on-1x1 case) on bit-packed NHWC tensors.
// prepare() once per operator (weight re-packing - none on Cortex-M -, padding-correction tables,
// thresholds), run() many times with no allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <pthreadpool.h>

#include "onebit/core/shape_math.h"
#include "onebit/kernels/bit_contract.h"
#include "onebit/kernels/isa.h"
#include "onebit/kernels/pack.h"
#include "onebit/text.h"

namespace onebit::kernels {

/// How padded taps of the binary input count: core/include/onebit/core/levels.h.
using core::PadMode;

struct BConvGeometry {
  int batch = 1, in_h = 1, in_w = 1, in_c = 1, out_c = 1;
  int kernel_h = 1, kernel_w = 1;
  int stride_h = 1, stride_w = 1;
  int dilation_h = 1, dilation_w = 1;
  int pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int groups = 1;
  PadMode pad_mode = PadMode::kZero;
  /// k-bit activations and weights (bit_contract.h "k-bit tensors"). Input: act_bits planes planes-major,
  /// [act_bits][batch][in_h][in_w][packed_words(in_c)]. Weights: weight_bits planes, [weight_bits][out_c]
  /// [kernel_h][kernel_w][packed_words(in_c / groups)], LevelKind kBinary for 1 bit, kBipolar for 2.
  /// Anything but binary x binary: the dot is D = sum over the window of L_x * L_w with zero padding
  /// (padded taps have L_x = 0; pad_mode must be kZero), float output only, and
  /// taps * max|L_x| * max|L_w| <= 2^24 (so D is exact in float).
  LevelKind act_kind = LevelKind::kBinary;
  int act_bits = 1;
  int act_zero_level = 0;  // kUnipolar only
  int weight_bits = 1;

  int out_h() const { return int(core::window_output_size(in_h, pad_top, pad_bottom, kernel_h, stride_h, dilation_h)); }
  int out_w() const { return int(core::window_output_size(in_w, pad_left, pad_right, kernel_w, stride_w, dilation_w)); }
  /// Real taps per output value: kernel_h * kernel_w * in_c / groups.
  long taps() const { return long(kernel_h) * kernel_w * (in_c / groups); }
};

/// What the integer dot becomes.
///  float:     y[c] = min(max(multiplier[c] * dot + bias[c], clamp_min), clamp_max), evaluated as
///             fl(fl(multiplier * dot) + bias) (no FMA contraction), NHWC float output.
///  bitpacked: bit[c] = (fl(fl(multiplier[c] * dot) + bias[c]) < 0), evaluated as an integer threshold
///             compare that agrees exactly with the float expression; output packed NHWC words.
///  float and bits (BinaryConv2D FloatAndBitPacked): the float y as above (with the run's residual, if any),
///             and also, from the same block of accumulators while it is in cache, the packed bits that
///             pack_bits(pack_select(isa), y, quantize) - the Quantize operator - gives for it: the same
///             kernel on the same floats, so the bits equal a separate Quantize of y exactly, on every ISA.
struct OutputTransformParams {
  bool bitpacked = false;
  const float* multiplier = nullptr;  // [out_c]
  const float* bias = nullptr;        // [out_c]
  float clamp_min = -__builtin_huge_valf();
  float clamp_max = __builtin_huge_valf();
  /// Float output only: run() may also write the bits of y (BConvRunArgs::bits). quantize: null for plain
  /// sign (bit = y < 0), else per-channel thresholds as pack.h (copied by prepare; padding channels are the
  /// caller's to set, as pack.h requires).
  bool float_and_bits = false;
  const QuantizeThresholds* quantize = nullptr;
  /// With float_and_bits (BinaryConv2D FloatAndLevels, issue 20): null for the bits above, else the second
  /// output holds the k-bit levels quantize_levels(quantize_levels_select(isa), y, *levels) - the
  /// QuantizeLevels operator - gives for y, [levels->bits][batch][out_h][out_w][packed_words(out_c)] words:
  /// the same kernel on the same floats, so equal to a separate QuantizeLevels of y on every ISA.
  /// BConv2D::prepare only (prepare_binary refuses it: the quantizer is k-bit code). scale / shift are
  /// copied on the desktop, read where they lie on Cortex-M, as quantize's tables.
  const LevelQuantizer* levels = nullptr;
};

/// Per-run fused operands (issue 12). residual: null, or [batch][out_h][out_w][out_c] floats added before the
/// clamp (float output only): y = clamp(fl(fl(fl(m * dot) + b) + residual)). bits: null, or (prepared with
/// float_and_bits) the packed Quantize(y), [batch][out_h][out_w][packed_words(out_c)] words, or with
/// transform.levels the k-bit planes of QuantizeLevels(y).
struct BConvRunArgs {
  const float* residual = nullptr;
  uint32_t* bits = nullptr;
};

struct BConvPlan;  // bconv-impl.h

class BConv2D {
 public:
  BConv2D();
  ~BConv2D();
  BConv2D(BConv2D&&) noexcept;
  BConv2D& operator=(BConv2D&&) noexcept;

  /// weights: [weight_bits][out_c][kernel_h][kernel_w][packed_words(in_c / groups)] words (OHWI packed
  /// along I), channel-padding bits 0 (bit_contract.h).
  /// Desktop builds copy everything they need (weights repacked for the SIMD ukernels, channel-padding bits
  /// masked); the caller's arrays may be freed afterwards.
  /// Cortex-M builds (ONEBIT_MCU) copy neither the weights nor transform.multiplier / transform.bias /
  /// transform.quantize's tables: run() reads them where they lie, so they must outlive this BConv2D (the
  /// runtime passes the model's constants, which live as long as the model, and its operator's own
  /// thresholds), and prepare() refuses weights whose channel-padding bits are set.
  /// Returns false with *error set for geometry it cannot run (e.g. in_c not divisible by groups).
  bool prepare(Isa isa, const BConvGeometry& geometry, const uint32_t* weights,
               const OutputTransformParams& transform, Text* error);
  /// prepare() for binary activations x 1-bit weights alone (it refuses k-bit geometries): the k-bit code
  /// (bconv-levels.cc, ~5 KB on Cortex-M) is then not linked, for a firmware whose model has none.
  bool prepare_binary(Isa isa, const BConvGeometry& geometry, const uint32_t* weights,
                      const OutputTransformParams& transform, Text* error);

  /// Scratch the caller provides to run() (im2col rows, accumulators); 0 if none. run() uses one slot per
  /// pool thread, so pass threads = pthreadpool_get_threads_count(pool) (1 for a null pool). k-bit operands
  /// need more: one popcount block per activation plane, each out_c * weight_bits wide, plus the dots.
  size_t scratch_bytes(size_t threads) const;

  /// input:  [act_bits][batch][in_h][in_w][packed_words(in_c)] words (act_bits = 1: a binary tensor).
  /// output: float [batch][out_h][out_w][out_c] or words [batch][out_h][out_w][packed_words(out_c)].
  /// pool may be null (single-threaded). args: the fused residual / bits output, see BConvRunArgs.
  void run(const uint32_t* input, void* output, void* scratch, pthreadpool_t pool,
           const BConvRunArgs& args = BConvRunArgs()) const;

  Isa isa() const;

 private:
  struct Impl;
  using LevelsPrepare = void (*)(BConvPlan& plan, const uint32_t* weights);  // bconv_levels_prepare or null
  bool prepare_with(LevelsPrepare levels_prepare, Isa isa, const BConvGeometry& geometry, const uint32_t* weights,
                    const OutputTransformParams& transform, Text* error);
  Impl* impl_ = nullptr;
};

/// A binary max pool window over packed NHWC (the pool itself: bpool.h).
struct BPoolGeometry {
  int batch = 1, in_h = 1, in_w = 1, channels = 1;
  int kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1;
  int pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int out_h() const { return int(core::window_output_size(in_h, pad_top, pad_bottom, kernel_h, stride_h)); }
  int out_w() const { return int(core::window_output_size(in_w, pad_left, pad_right, kernel_w, stride_w)); }
};

}  // namespace onebit::kernels
