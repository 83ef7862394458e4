// Binary GEMM family: C[m][n] = popcount(A[m] XOR W[n]) over k packed words (the caller turns popcounts
// into dots, dot = taps - 2 * popcount, see bit_contract.h).
//
// Indirect micro-kernel ABI (XNNPACK igemm style, one pointer per contiguous segment of a row):
//   void ukernel(size_t mr, size_t nc, size_t segs, size_t seg_words, const uint32_t* const* a,
//                const uint64_t* w, int32_t* c, size_t c_stride);
//   mr        rows of A / C to compute, 1 <= mr <= MR. Rows >= mr alias row mr - 1 (never read past it).
//   nc        columns of C (output channels), >= 1; the kernel walks them NR at a time.
//   segs      segments per row of A, >= 1; a row is segs * seg_words words (K of the GEMM).
//   seg_words words per segment, >= 1.
//   a         mr * segs pointers: segment s of row i starts at a[i * segs + s] (4-byte aligned). A row can
//             thus be an im2col row (segments consecutive) or read in place from an NHWC image (a 3x3 window
//             is 3 segments of 3 * channel words, one per kernel row). Exactly seg_words words are read from
//             each segment: no over-read of A.
//   w         weights packed by bgemm_pack_weights() for this kernel's NR and the same segs / seg_words: for
//             each tile of NR columns, for each segment, ceil(seg_words / 2) groups of NR 64-bit chunks,
//             chunk (t, s, j, n) = words 2j, 2j+1 of segment s of column t*NR + n in memory order (the high
//             half is 0 for an odd seg_words, columns >= nc are 0). Kernels may read the whole packed buffer.
//   c         output, row i at (char*) c + i * c_stride (bytes), columns contiguous int32. Only mr x nc
//             values are written.
//
// Row-weight micro-kernel ABI (weights read where they lie, unpacked: the Cortex-M path, issue 19):
//   void ukernel(size_t mr, size_t nc, size_t segs, size_t seg_words, const uint32_t* const* a,
//                const uint32_t* w, size_t w_stride, int32_t* c, size_t c_stride);
//   mr, nc, segs, seg_words, a, c, c_stride as above.
//   w         nc weight rows: column n is the row of segs * seg_words words at w + n * w_stride (words; its
//             segment s at offset s * seg_words), 4-byte aligned: exactly a convolution's weight layout
//             [out_c][kernel_h][kernel_w][words per tap]. Only those words are read.
#pragma once

#include <cstddef>
#include <cstdint>

#include "onebit/kernels/isa.h"

typedef void (*onebit_bgemm_ukernel_fn)(size_t mr, size_t nc, size_t segs, size_t seg_words,
                                        const uint32_t* const* a, const uint64_t* w, int32_t* c, size_t c_stride);

#define ONEBIT_BGEMM_UKERNEL(name)                                                                        \
  void name(size_t mr, size_t nc, size_t segs, size_t seg_words, const uint32_t* const* a, const uint64_t* w, \
            int32_t* c, size_t c_stride)
typedef void (*onebit_bgemm_rows_ukernel_fn)(size_t mr, size_t nc, size_t segs, size_t seg_words,
                                             const uint32_t* const* a, const uint32_t* w, size_t w_stride,
                                             int32_t* c, size_t c_stride);

#define ONEBIT_BGEMM_ROWS_UKERNEL(name)                                                                 \
  void name(size_t mr, size_t nc, size_t segs, size_t seg_words, const uint32_t* const* a, const uint32_t* w, \
            size_t w_stride, int32_t* c, size_t c_stride)

// Bit-serial micro-kernel ABI (k-bit convolutions, bconv-levels.cc): the packed ABI over several (A, W)
// plane pairs, one "term" each, combined in the kernel's registers by Horner's rule:
//   void ukernel(..., int32_t* c, size_t c_stride, const onebit_bgemm_terms* terms);
//   acc = 0; for each term t in order: acc = (acc << shift[t]) + popcount(A_t[m] XOR W_t[n]) over K;  C = acc
// so C = sum_t 2^{e_t} popcount_t with e_t = shift[t + 1] + ... + shift[count - 1]. Term t reads its rows
// through the pointers at a + a_offset[t] (mr * segs of them, as above) and its packed weights at
// w + w_offset[t] (64-bit chunks; the same packing, nc columns). Every C value must fit in int32.
struct onebit_bgemm_terms {
  size_t count;
  size_t a_offset[8], w_offset[8];
  uint32_t shift[8];
};
typedef void (*onebit_bgemm_serial_ukernel_fn)(size_t mr, size_t nc, size_t segs, size_t seg_words,
                                               const uint32_t* const* a, const uint64_t* w, int32_t* c,
                                               size_t c_stride, const onebit_bgemm_terms* terms);
#define ONEBIT_BGEMM_SERIAL_UKERNEL(name)                                                                 \
  void name(size_t mr, size_t nc, size_t segs, size_t seg_words, const uint32_t* const* a, const uint64_t* w, \
            int32_t* c, size_t c_stride, const onebit_bgemm_terms* terms)
// A packed ukernel and its bit-serial twin from one body<kSerial>(mr, nc, segs, seg_words, a, w, c, c_stride,
// terms) (the plain kernel is the one-term case, instantiated apart so that it stays the plain loop). A tile
// whose compiler spills in the plain instantiation may define both itself instead: bgemm-4x8-neon.cc runs the
// serial body with one term (GCC 12 spilled the plain aarch64 loop; figures in that file).
#define ONEBIT_BGEMM_UKERNEL_AND_SERIAL(tile, body)                 \
  ONEBIT_BGEMM_UKERNEL(onebit_bgemm_ukernel_##tile) {               \
    const onebit_bgemm_terms one = {1, {0}, {0}, {0}};              \
    body<false>(mr, nc, segs, seg_words, a, w, c, c_stride, one);   \
  }                                                                 \
  ONEBIT_BGEMM_SERIAL_UKERNEL(onebit_bgemm_serial_ukernel_##tile) { \
    body<true>(mr, nc, segs, seg_words, a, w, c, c_stride, *terms); \
  }
// The ukernels themselves are declared by their one list, bgemm-ukernels.h.

namespace onebit::kernels {

/// One ukernel of either ABI: packed weights (ukernel) or weight rows where they lie (rows_ukernel); the
/// other pointer is null.
struct BgemmConfig {
  Isa isa = Isa::kScalar;
  size_t mr = 0, nr = 0;
  onebit_bgemm_ukernel_fn ukernel = nullptr;
  const char* name = "";  // tile and ISA, e.g. "3x8__avx2" (onebit_bgemm_ukernel_<name>)
  onebit_bgemm_rows_ukernel_fn rows_ukernel = nullptr;
  // The bit-serial twin of ukernel (same tile and packing), where the list has one; else null.
  onebit_bgemm_serial_ukernel_fn serial_ukernel = nullptr;
};

/// The GEMM a caller is about to run: m rows of A, n columns of C, k_words packed words per row.
struct BgemmShape {
  size_t m = 0, n = 0, k_words = 0;
};

/// Best bgemm ukernel for `shape` allowed by `isa` and supported by this CPU (scalar at worst), with its
/// bit-serial twin when it has one.
BgemmConfig bgemm_select(Isa isa, const BgemmShape& shape);

/// Best row-weight ukernel (weights read where they lie) allowed by `isa` and supported by this CPU.
BgemmConfig bgemm_rows_select(Isa isa, const BgemmShape& shape);

/// Every ukernel compiled into this binary (bgemm-ukernels.h), best ISA first; the CPU may lack some
/// (check isa_supported). Sets *count. The row-weight ukernels: bgemm_rows_ukernels.
const BgemmConfig* bgemm_ukernels(size_t* count);
const BgemmConfig* bgemm_rows_ukernels(size_t* count);
/// The bit-serial ukernels (serial_ukernel set, ukernel null), best ISA first.
const BgemmConfig* bgemm_serial_ukernels(size_t* count);

/// Output row r + 1 of a ukernel: the next row when it exists (`valid`, i.e. r + 1 < mr), else row r again,
/// which is how rows >= mr alias row mr - 1.
inline int32_t* bgemm_next_row(int32_t* row, size_t c_stride, bool valid) {
  return valid ? reinterpret_cast<int32_t*>(reinterpret_cast<char*>(row) + c_stride) : row;
}

/// 64-bit chunks that bgemm_pack_weights writes for n columns of segs * seg_words words.
inline size_t bgemm_packed_chunks(size_t nr, size_t n, size_t segs, size_t seg_words) {
  return (n + nr - 1) / nr * nr * segs * ((seg_words + 1) / 2);
}

/// Packs n weight rows of segs * seg_words words (row i at w + i * w_stride words) into the tile layout above.
void bgemm_pack_weights(size_t nr, size_t n, size_t segs, size_t seg_words, const uint32_t* w, size_t w_stride,
                        uint64_t* packed);

}  // namespace onebit::kernels
