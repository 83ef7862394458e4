// im2col on packed words: one row of kernel_h * kernel_w * packed_words(cin_g) words per output pixel and
// group, in the weights' OHWI order, for one bit-plane of the input. Padded taps get the plane's fill bit on
// real channels (padding channel bits stay 0): for a binary input the pad mode's bits, 0-bits (+1) for kOne
// and kZero (kZero is then corrected exactly, see bconv-padding.cc), 1-bits (-1) for kMinusOne; for a k-bit
// input the plane's bit of the zero level (see bconv-levels.cc). And the A rows of a block of output pixels
// (pointers into the image where windows are inside it, else into im2col rows) and their padding
// corrections, walked output row by output row.
#include <algorithm>
#include <cstring>

#include "bconv/bconv-impl.h"
#include "onebit/kernels/bit_contract.h"
#include "util/bits.h"

namespace onebit::kernels {

void bconv_im2col(const BConvPlan& impl, const uint32_t* input, int n, int oy, int ox0, size_t count,
                  size_t group, bool fill_ones, uint32_t* rows) {
  const BConvGeometry& g = impl.g;
  const size_t tw = impl.tap_words;
  const uint32_t* image = input + static_cast<size_t>(n) * g.in_h * g.in_w * impl.in_words;
  // Fast path: word-aligned channels and dilation_w 1 make the kernel_w taps of one kernel row a single
  // contiguous run of kernel_w * tap_words words in the input whenever the whole run is inside the image.
  const bool runs = !impl.extract && g.dilation_w == 1;
  const size_t run_words = static_cast<size_t>(g.kernel_w) * tw;
  for (size_t i = 0; i < count; ++i, rows += impl.row_words) {
    const int ox = ox0 + static_cast<int>(i);
    const int ix0 = ox * g.stride_w - g.pad_left;
    const bool row_inside = runs && ix0 >= 0 && ix0 + g.kernel_w <= g.in_w;
    uint32_t* dst = rows;
    for (int ky = 0; ky < g.kernel_h; ++ky) {
      const int iy = oy * g.stride_h - g.pad_top + ky * g.dilation_h;
      if (row_inside && iy >= 0 && iy < g.in_h) {
        const uint32_t* src = image + (static_cast<size_t>(iy) * g.in_w + ix0) * impl.in_words + group * tw;
        if (tw == impl.in_words) {
          for (size_t k = 0; k < run_words; ++k) dst[k] = src[k];
        } else {
          for (int kx = 0; kx < g.kernel_w; ++kx)
            for (size_t k = 0; k < tw; ++k) dst[kx * tw + k] = src[kx * impl.in_words + k];
        }
        dst += run_words;
        continue;
      }
      for (int kx = 0; kx < g.kernel_w; ++kx, dst += tw) {
        const int ix = ox * g.stride_w - g.pad_left + kx * g.dilation_w;
        if (iy < 0 || iy >= g.in_h || ix < 0 || ix >= g.in_w) {
          for (size_t w = 0; w < tw; ++w) dst[w] = fill_ones ? channel_mask(impl.cin_g, w) : 0u;
          continue;
        }
        const uint32_t* src = image + (static_cast<size_t>(iy) * g.in_w + ix) * impl.in_words;
        if (impl.extract) {
          extract_bits(src, group * impl.cin_g, impl.cin_g, dst);
        } else {
          std::memcpy(dst, src + group * tw, tw * sizeof(uint32_t));
        }
      }
    }
  }
}

namespace {

// The pixels of a run from `at` on that lie in its output row (at most `left`); runs are walked row by row,
// so that the row's terms of addresses and classes are computed once per row, not once per pixel (this
// runs once per pixel, next to ~70 cycles of GEMM at 56x56x64).
size_t row_span(const BConvPlan& p, const BConvCursor& at, size_t left) {
  return std::min(left, static_cast<size_t>(p.out_w - at.ox));
}
void skip_span(const BConvPlan& p, BConvCursor* at, size_t span) {
  at->ox += static_cast<int>(span) - 1;
  at->next(p);
}

}  // namespace

void bconv_gather_rows(const BConvPlan& p, const uint32_t* plane_input, BConvCursor at, size_t mb, size_t grp,
                       bool fill, const uint32_t** pointers, uint32_t* im2col) {
  const BConvGeometry& g = p.g;
  const size_t segs = p.segs, in_words = p.in_words;
  const size_t image_words = static_cast<size_t>(g.in_h) * g.in_w * in_words;
  const size_t seg_pitch = static_cast<size_t>(g.dilation_h) * g.in_w * in_words;  // in-place segments
  const uint8_t* col_inside = p.col_inside.data();
  uint32_t* next_row = im2col;
  const uint32_t** ptr = pointers;
  for (size_t i = 0, span; i < mb; i += span, skip_span(p, &at, span)) {
    span = row_span(p, at, mb - i);
    const bool rows_in = p.in_place && p.row_inside[at.oy];
    const uint32_t* row_base = rows_in ? plane_input + at.n * image_words +
                                             static_cast<size_t>(at.oy * g.stride_h - g.pad_top) * g.in_w * in_words +
                                             grp * p.tap_words
                                       : nullptr;
    for (int ox = at.ox, end = at.ox + static_cast<int>(span); ox < end; ++ox, ptr += segs) {
      if (rows_in && col_inside[ox]) {
        const uint32_t* base = row_base + static_cast<size_t>(ox * g.stride_w - g.pad_left) * in_words;
        for (size_t s = 0; s < segs; ++s) ptr[s] = base + s * seg_pitch;
        continue;
      }
      bconv_im2col(p, plane_input, at.n, at.oy, ox, 1, grp, fill, next_row);
      for (size_t s = 0; s < segs; ++s) ptr[s] = next_row + s * p.seg_words;
      next_row += p.row_words;
    }
  }
}

BConvCursor bconv_correction_rows(const BConvPlan& p, BConvCursor at, size_t mb, const int32_t** out) {
  const size_t out_c = static_cast<size_t>(p.g.out_c);
  const int32_t* col_class = p.col_class.data();
  for (size_t i = 0, span; i < mb; i += span, skip_span(p, &at, span)) {
    span = row_span(p, at, mb - i);
    const size_t r = static_cast<size_t>(p.row_class[at.oy]);
    const int32_t* row_table = p.correction.data() + r * p.col_classes * out_c;
    for (int ox = at.ox, end = at.ox + static_cast<int>(span); ox < end; ++ox, ++out) {
      const size_t c = static_cast<size_t>(col_class[ox]);
      *out = (r | c) == 0 ? nullptr : row_table + c * out_c;
    }
  }
  return at;
}

}  // namespace onebit::kernels
