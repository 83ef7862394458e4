// BConv2D's prepared state (internal, BConv2D::Impl): shared by the prepare and run halves of the driver.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "bgemm/bgemm.h"
#include "onebit/kernels/bconv.h"
#include "onebit/pool.h"
#include "pack/pack-ukernels.h"
#include "transform/transform.h"

namespace onebit::kernels {

// A FloatAndLevels output: QuantizeLevels' own ukernel and quantizer (scale / shift copied on the desktop,
// the caller's on Cortex-M), planes plane_words apart.
struct BConvLevelsOutput {
  QuantizeLevelsUkernel ukernel;
  LevelQuantizer quantizer;
  Vec<float> scale_copy, shift_copy;
  size_t plane_words = 0;
};

struct BConvPlan;

/// The k-bit steps run() takes (bconv-levels.cc), reached through BConvPlan::level_ops, which only
/// BConv2D::prepare sets: a program that prepares with prepare_binary() alone does not link them.
struct BConvLevelOps {
  void (*combine)(const BConvPlan& impl, size_t mb, size_t c0, size_t c1, const int32_t* popcounts,
                  const int32_t* const* corrections, int32_t* neg_dots);
  void (*to_f32)(const BConvPlan& impl, size_t mb, size_t c0, size_t c1, const int32_t* neg_dots,
                 const float* residual, float* out);
};
extern const BConvLevelOps kBConvLevelOps;

struct BConvPlan {
  BConvGeometry g;
  BgemmConfig gemm;
  TransformConfig transform;

  size_t cin_g = 0, cout_g = 0;  // channels per group
  size_t tap_words = 0;          // packed_words(cin_g): words per tap in an im2col row / weight row
  size_t row_words = 0;          // kernel_h * kernel_w * tap_words: K of the GEMM, in words
  size_t in_words = 0, out_words = 0;
  int32_t taps = 0;              // real taps per output value
  int out_h = 0, out_w = 0;

  bool extract = false;      // group slices straddle words: im2col extracts bits per group
  // A GEMM row (one output pixel) is segs segments of seg_words words. In-place windows: each kernel row of
  // a window that lies inside the image is one contiguous run of kernel_w * tap_words input words (needs
  // word-aligned groups, dilation_w 1, and one group per pixel's words unless kernel_w is 1), so the GEMM
  // reads it from the input through a pointer; only windows that touch padding are copied (im2col). Else
  // every window is copied and a row is one segment of row_words.
  bool in_place = false;
  bool needs_im2col = true;  // some window is copied
  size_t segs = 1, seg_words = 0;
  size_t block_m = 0;        // output pixels per GEMM block (multiple of gemm.mr), over the flattened output

  // Weights, one of two ways (gemm.rows_ukernel says which):
  // - row weights (Cortex-M, bgemm.h's row-weight ABI): the caller's [weight_bits][out_c][row_words] array,
  //   read where it lies (channel-padding bits checked 0 by prepare); output channel o of weight plane j is
  //   the row at weights + (j * out_c + o) * row_words.
  // - packed (elsewhere): [groups][weight_bits][plane_chunks], each (group, weight plane) its own run of
  //   NR-column tiles, so the columns of output channels [c0, c1) of one weight plane, c0 a multiple of NR,
  //   start c0 * tile_chunks / NR chunks into that run (a pointer offset: the channel split below).
  bool row_weights = false;
  const uint32_t* weights = nullptr;
  Vec<uint64_t> packed_weights;
  size_t plane_chunks = 0, group_chunks = 0;  // bgemm_packed_chunks(nr, cout_g, segs, seg_words); * weight_bits

  // Channel split (issue 12): when the pixel tiles cannot keep the pool busy (batch-1 FC, 7x7 heads), run()
  // also splits output channels into ranges starting at multiples of channel_unit (a multiple of NR, and of
  // 32 for bits outputs so that each task writes whole words); 0: no split (groups > 1).
  size_t channel_unit = 0;

  // k-bit activations / weights (bconv-levels.cc). Binary x binary: levels false, planes 1, weight_bits 1,
  // gemm_n = out_c: exactly the binary path. Otherwise, unless serial (below: columns are output channels),
  // the GEMM runs once per activation plane (input offset by plane * plane_words) and its columns are the
  // weight planes: within group grp, column grp * gemm_n_g + j * cout_g + o is weight plane j of the group's
  // output channel o.
  bool levels = false;
  const BConvLevelOps* level_ops = nullptr;  // set when levels
  int planes = 1, weight_bits = 1;
  size_t plane_words = 0;               // words of one activation plane
  size_t gemm_n = 0, gemm_n_g = 0;      // GEMM columns in total / per group: out_c * weight_bits / cout_g * weight_bits
  bool fill_ones[4] = {false, false, false, false};  // padded-tap bit of each activation plane
  int32_t neg_coef[4][2] = {};          // -D = sum_ij neg_coef[i][j] * P_ij + neg_const[o] + neg_gamma * correction[o]
  int32_t neg_gamma = 0;
  Vec<int32_t> neg_const;       // [out_c]
  // The f32 transform ukernels see dot = dot_scale * D and apply dot_multiplier[o] = multiplier[o] / dot_scale
  // (exact for every channel, else dot_exact is false: bconv_levels_f32, plain scalar, after the combine).
  int32_t dot_scale = 2;
  bool dot_exact = true;
  Vec<float> dot_multiplier;    // [out_c]
  // Bit-serial GEMM (gemm.serial_ukernel, packed weights, dot_exact): one GEMM per tile over every
  // (activation plane i, weight plane j) term, combined in the ukernel's registers into
  // S = sum_ij c_i 2^j P_ij per output channel (gemm_n = out_c: no combine step), and the transform's
  // correction row of each pixel holds the rest of D: dot = -2 S - serial_correction = dot_scale * D.
  // Without it (serial false): one GEMM per activation plane and weight plane, then the combine step.
  bool serial = false;
  // One entry when serial (out of line: Cortex-M, which never runs serial, keeps 100 bytes per plan). Its
  // a_offset: the term's activation plane (run() scales it to pointers).
  Vec<onebit_bgemm_terms> terms;
  Vec<int32_t> serial_correction;  // [out_c] (no padding correction) or [row class][col class][out_c]

  bool bitpacked = false;
  // FloatAndBitPacked: each block's floats are packed by the Quantize operator's own kernel (pack.h).
  bool float_and_bits = false;
  PackUkernel pack;  // chosen at prepare
#if !ONEBIT_MCU
  // Float and bits in one pass where the transform's ISA has such a ukernel (else transform.f32, then pack).
  // Not on Cortex-M: no second copy of the float transform in flash, and the plan's RAM unchanged.
  onebit_transform_f32_bits_ukernel_fn f32_bits = nullptr;
#endif
  bool quantize_thresholds = false;  // else plain sign
  Vec<float> quantize_threshold;                             // [out_c]
  Vec<uint32_t> quantize_flip, quantize_mask, quantize_bits;  // [out_words]
  QuantizeThresholds quantize;       // points into the vectors above
  // FloatAndLevels (BConv2D::prepare with transform.levels): the bits output holds QuantizeLevels(y) instead.
  // One entry when so (out of line: ~50 bytes a plan that Cortex-M's RAM would keep for every binary conv).
  Vec<BConvLevelsOutput> levels_out;
  // [out_c] each: the caller's arrays with row weights (they live as long as the weights), else copies.
  const float* multiplier = nullptr;
  const float* bias = nullptr;
  Vec<float> multiplier_copy, bias_copy;
  float clamp_min = 0, clamp_max = 0;
  Vec<int32_t> threshold, sign_mask;

  // Zero-padding correction (PadMode::kZero only). Output row oy has row class row_class[oy], column ox
  // column class col_class[ox]; class 0 means "window inside the image along that axis". For a pair of
  // classes (r, c) != (0, 0), correction[(r * col_classes + c) * out_c + o] = sum over the taps of the
  // window that fall on padding of the weight levels of output channel o (±1 for binary weights).
  Vec<int32_t> row_class, col_class;
  size_t col_classes = 1;
  Vec<int32_t> correction;
  // Row weights (Cortex-M): no table; run() computes border pixels' rows into a cache in the thread's
  // scratch (correction_bytes, bconv-padding.cc).
  bool correction_per_pixel = false;

  // Per-thread scratch layout (bytes, 64-aligned pieces).
  // popcount_bytes holds planes blocks of block_m * gemm_n int32 (one block when serial); dots_bytes (k-bit,
  // not serial) block_m * out_c. Serial: im2col rows and A pointers of every activation plane at once.
  size_t im2col_bytes = 0, pointer_bytes = 0, popcount_bytes = 0, dots_bytes = 0, correction_bytes = 0;
  size_t slot_bytes = 0;

  Vec<uint8_t> row_inside, col_inside;  // [out_h], [out_w]: window_rows_inside / window_cols_inside

  /// Whether the kernel rows of output row oy / the kernel columns of output column ox are all inside the
  /// image; a window inside on both axes is read in place when in_place.
  bool window_rows_inside(int oy) const {
    const int iy0 = oy * g.stride_h - g.pad_top;
    return iy0 >= 0 && iy0 + (g.kernel_h - 1) * g.dilation_h < g.in_h;
  }
  bool window_cols_inside(int ox) const {
    const int ix0 = ox * g.stride_w - g.pad_left;
    return ix0 >= 0 && ix0 + (g.kernel_w - 1) * g.dilation_w < g.in_w;
  }

  const int32_t* correction_for(int oy, int ox) const {
    if (correction.empty()) return nullptr;
    const size_t r = static_cast<size_t>(row_class[oy]), c = static_cast<size_t>(col_class[ox]);
    if (r == 0 && c == 0) return nullptr;
    return correction.data() + (r * col_classes + c) * static_cast<size_t>(g.out_c);
  }
};

struct BConv2D::Impl : BConvPlan {
  ONEBIT_POOL_NEW_DELETE  // Cortex-M: in the interpreter's arena (onebit/pool.h)
};

/// Fills im2col rows for output pixels [ox0, ox0 + count) of output row (n, oy), group `group`, into
/// `rows` (count rows of impl.row_words words). `input` is one bit-plane; padded taps get 1-bits on the
/// real channels if fill_ones, else 0-bits.
void bconv_im2col(const BConvPlan& impl, const uint32_t* input, int n, int oy, int ox0, size_t count,
                  size_t group, bool fill_ones, uint32_t* rows);

/// Output coordinates of a pixel of the flattened [batch][out_h][out_w] output, advanced incrementally (no
/// division per pixel).
struct BConvCursor {
  int n, oy, ox;
  void next(const BConvPlan& p) {
    if (++ox == p.out_w) {
      ox = 0;
      if (++oy == p.out_h) oy = 0, ++n;
    }
  }
};

/// The A rows of mb output pixels from `at` on, group grp, of one activation plane (plane_input, padded taps
/// filled with fill bits): segs pointers per pixel into `pointers`, into the image in place where the window
/// is inside it (in_place), else into im2col rows written at `im2col`.
void bconv_gather_rows(const BConvPlan& impl, const uint32_t* plane_input, BConvCursor at, size_t mb, size_t grp,
                       bool fill, const uint32_t** pointers, uint32_t* im2col);
/// correction_for() of mb output pixels from `at` on into out[0, mb) (correction not empty); returns the
/// cursor after them.
BConvCursor bconv_correction_rows(const BConvPlan& impl, BConvCursor at, size_t mb, const int32_t** out);

/// Builds impl.row_class / col_class / correction from the (unpacked-layout, channel-padding bits 0)
/// weights [weight_bits][out_c][kernel_h][kernel_w][tap_words]: the correction is the sum of the weight
/// LEVELS (bit_contract.h) that fall on padded taps.
void bconv_zero_padding_correction(BConvPlan& impl, const uint32_t* weights);
/// Row weights (correction_per_pixel): a cache of block_m correction rows in a thread's scratch, keyed by
/// the padded taps. Its bytes; clear it at the start of a run; then the row of output pixel (oy, ox)
/// (channels [c0, c1) valid, the same range for the whole run), computed from impl.weights when not cached,
/// never evicting a row that block `block` (a counter per block of the run) already uses.
size_t bconv_correction_cache_bytes(const BConvPlan& impl);
void bconv_correction_cache_clear(const BConvPlan& impl, void* cache);
const int32_t* bconv_correction_cached(const BConvPlan& impl, void* cache, int oy, int ox, size_t c0, size_t c1,
                                       size_t block);

/// k-bit convolutions (bconv-levels.cc). Validation of the k-bit fields ("" when fine).
Text bconv_levels_validate(const BConvGeometry& g, bool bitpacked);
/// Fills impl's k-bit fields (fill bits, combine coefficients, per-channel constants, half multipliers)
/// from the weights (channel-padding bits 0) (layout as bconv_zero_padding_correction). Call after the multipliers are set.
void bconv_levels_prepare(BConvPlan& impl, const uint32_t* weights);
/// Combine step: for mb pixels and output channels [c0, c1), neg_dots[p][o] = -D (row stride out_c) from the
/// per-plane popcount blocks (plane i at popcounts + i * block_m * gemm_n, row stride gemm_n) and the
/// per-pixel zero-padding corrections.
void bconv_levels_combine(const BConvPlan& impl, size_t mb, size_t c0, size_t c1, const int32_t* popcounts,
                          const int32_t* const* corrections, int32_t* neg_dots);
/// Float output of -D for multipliers whose half is inexact, channels [c0, c1) of mb rows of out_c:
/// y = clamp(fl(fl(m * D) + b)), or with a residual (null: none; same layout) y = clamp(fl(fl(fl(m * D) + b) + r)).
void bconv_levels_f32(const BConvPlan& impl, size_t mb, size_t c0, size_t c1, const int32_t* neg_dots,
                      const float* residual, float* out);

}  // namespace onebit::kernels
