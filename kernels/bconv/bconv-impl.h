// BConv2D's prepared state (internal, BConv2D::Impl): shared by the prepare and run halves of the driver.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "bgemm/bgemm.h"
#include "onebit/kernels/bconv.h"
#include "transform/transform.h"

namespace onebit::kernels {

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

  std::vector<uint64_t> packed_weights;  // [groups][bgemm_packed_chunks(nr, cout_g, segs, seg_words)]
  size_t group_chunks = 0;

  bool bitpacked = false;
  std::vector<float> multiplier, bias;
  float clamp_min = 0, clamp_max = 0;
  std::vector<int32_t> threshold, sign_mask;

  // Zero-padding correction (PadMode::kZero only). Output row oy has row class row_class[oy], column ox
  // column class col_class[ox]; class 0 means "window inside the image along that axis". For a pair of
  // classes (r, c) != (0, 0), correction[(r * col_classes + c) * out_c + o] = sum over the taps of the
  // window that fall on padding of the ±1 weights of output channel o.
  std::vector<int32_t> row_class, col_class;
  size_t col_classes = 1;
  std::vector<int32_t> correction;

  // Per-thread scratch layout (bytes, 64-aligned pieces).
  size_t im2col_bytes = 0, pointer_bytes = 0, popcount_bytes = 0, slot_bytes = 0;

  std::vector<uint8_t> row_inside, col_inside;  // [out_h], [out_w]: window_rows_inside / window_cols_inside

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

struct BConv2D::Impl : BConvPlan {};

/// Fills im2col rows for output pixels [ox0, ox0 + count) of output row (n, oy), group `group`, into
/// `rows` (count rows of impl.row_words words).
void bconv_im2col(const BConvPlan& impl, const uint32_t* input, int n, int oy, int ox0, size_t count,
                  size_t group, uint32_t* rows);

/// Builds impl.row_class / col_class / correction from the (unpacked-layout) weights.
void bconv_zero_padding_correction(BConvPlan& impl, const uint32_t* weights);

}  // namespace onebit::kernels
