// Binary GEMM family: C[m][n] = popcount(A[m] XOR W[n]) over k packed words (the caller turns popcounts
// into dots, dot = taps - 2 * popcount, see bit_contract.h).
//
// Micro-kernel ABI (XNNPACK style):
//   void ukernel(size_t mr, size_t nc, size_t kw, const uint32_t* a, size_t a_stride,
//                const uint64_t* w, int32_t* c, size_t c_stride);
//   mr        rows of A / C to compute, 1 <= mr <= MR. Rows >= mr alias row mr - 1 (never read past it).
//   nc        columns of C (output channels), >= 1; the kernel walks them NR at a time.
//   kw        row length of A in 32-bit packed words, >= 1.
//   a         first row of A; row i starts at (const char*) a + i * a_stride (bytes, 4-byte aligned).
//             Exactly kw words are read from each row: no over-read of A.
//   w         weights packed by bgemm_pack_weights() for this kernel's NR: for each tile of NR columns,
//             k64 = ceil(kw / 2) groups of NR 64-bit chunks, chunk (t, j, n) = words 2j, 2j+1 of column
//             t*NR + n in memory order (the high half is 0 for an odd kw, columns >= nc are 0). Kernels may
//             read the whole packed buffer (all NR columns of the last tile, all k64 chunks).
//   c         output, row i at (char*) c + i * c_stride (bytes), columns contiguous int32. Only mr x nc
//             values are written.
#pragma once

#include <cstddef>
#include <cstdint>

#include "onebit/kernels/isa.h"

typedef void (*onebit_bgemm_ukernel_fn)(size_t mr, size_t nc, size_t kw, const uint32_t* a, size_t a_stride,
                                        const uint64_t* w, int32_t* c, size_t c_stride);

void onebit_bgemm_ukernel_4x4__scalar(size_t, size_t, size_t, const uint32_t*, size_t, const uint64_t*,
                                      int32_t*, size_t);
void onebit_bgemm_ukernel_3x8__avx2(size_t, size_t, size_t, const uint32_t*, size_t, const uint64_t*,
                                     int32_t*, size_t);
void onebit_bgemm_ukernel_6x32__avx512vpopcnt(size_t, size_t, size_t, const uint32_t*, size_t,
                                              const uint64_t*, int32_t*, size_t);

namespace onebit::kernels {

struct BgemmConfig {
  Isa isa = Isa::kScalar;
  size_t mr = 0, nr = 0;
  onebit_bgemm_ukernel_fn ukernel = nullptr;
};

/// Best bgemm ukernel allowed by `isa` and supported by this CPU (scalar at worst).
BgemmConfig bgemm_select(Isa isa);

/// 64-bit chunks that bgemm_pack_weights writes for n columns of kw words.
inline size_t bgemm_packed_chunks(size_t nr, size_t n, size_t kw) {
  return (n + nr - 1) / nr * nr * ((kw + 1) / 2);
}

/// Packs n weight rows of kw words (row i at w + i * w_stride words) into the tile layout above.
void bgemm_pack_weights(size_t nr, size_t n, size_t kw, const uint32_t* w, size_t w_stride, uint64_t* packed);

}  // namespace onebit::kernels
