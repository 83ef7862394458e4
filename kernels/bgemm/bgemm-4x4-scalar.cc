// Scalar reference binary GEMM, 4x4 register tile, 64 bits at a time with a portable popcount.
#include <cassert>

#include "bgemm/bgemm.h"
#include "util/bits.h"

using onebit::kernels::load_pair;
using onebit::kernels::load_single;
using onebit::kernels::popcount64;

namespace {

// Both ABIs: the plain kernel is the one-term case of the bit-serial one (bgemm.h).
template <bool kSerial>
void gemm_4x4(size_t mr, size_t nc, size_t segs, size_t seg_words, const uint32_t* const* a, const uint64_t* w_base,
              int32_t* c, size_t c_stride, const onebit_bgemm_terms& terms) {
  assert(mr >= 1 && mr <= 4 && nc >= 1 && segs >= 1 && seg_words >= 1 && terms.count >= 1 && terms.count <= 8);
  int32_t* crow[4];
  for (size_t i = 0; i < 4; ++i)
    crow[i] = reinterpret_cast<int32_t*>(reinterpret_cast<char*>(c) + (i < mr ? i : mr - 1) * c_stride);
  const size_t pairs = seg_words / 2, tile_chunks = 4 * segs * ((seg_words + 1) / 2);
  for (size_t n0 = 0; n0 < nc; n0 += 4) {
    uint32_t acc[4][4] = {};
    const uint64_t* w = nullptr;
    auto step = [&](uint64_t v0, uint64_t v1, uint64_t v2, uint64_t v3) {
      for (size_t n = 0; n < 4; ++n) {
        const uint64_t wn = w[n];
        acc[0][n] += popcount64(v0 ^ wn);
        acc[1][n] += popcount64(v1 ^ wn);
        acc[2][n] += popcount64(v2 ^ wn);
        acc[3][n] += popcount64(v3 ^ wn);
      }
      w += 4;
    };
    for (size_t t = 0; t < (kSerial ? terms.count : 1); ++t) {
      for (auto& row : acc)
        for (uint32_t& v : row) v <<= terms.shift[t];  // Horner: earlier terms weigh 2^shift more
      const uint32_t* const* rows[4];
      for (size_t i = 0; i < 4; ++i) rows[i] = a + terms.a_offset[t] + (i < mr ? i : mr - 1) * segs;
      w = w_base + n0 / 4 * tile_chunks + terms.w_offset[t];
      for (size_t s = 0; s < segs; ++s) {
        const uint32_t *a0 = rows[0][s], *a1 = rows[1][s], *a2 = rows[2][s], *a3 = rows[3][s];
        for (size_t j = 0; j < pairs; ++j) {
          step(load_pair(a0 + 2 * j), load_pair(a1 + 2 * j), load_pair(a2 + 2 * j), load_pair(a3 + 2 * j));
        }
        if (seg_words % 2 != 0) {
          const size_t j = seg_words - 1;
          step(load_single(a0 + j), load_single(a1 + j), load_single(a2 + j), load_single(a3 + j));
        }
      }
    }
    const size_t nn = nc - n0 < 4 ? nc - n0 : 4;
    // Rows >= mr alias row mr - 1: write them in descending order so the real row is written last.
    for (size_t i = 4; i-- > 0;) {
      for (size_t n = 0; n < nn; ++n) crow[i][n0 + n] = static_cast<int32_t>(acc[i][n]);
    }
  }
}

}  // namespace

ONEBIT_BGEMM_UKERNEL_AND_SERIAL(4x4__scalar, gemm_4x4)
