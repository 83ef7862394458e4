// AVX-512 binary GEMM, 6 rows x 32 output channels (4 zmm of 8 x 64-bit lanes per row).
// Per 64-bit chunk j of K: the 4 weight vectors hold chunk j of 32 output channels; each A row's chunk is
// broadcast to all lanes, XORed with them, VPOPCNTQ'd and added to that row's 4 accumulators (24 zmm). No
// horizontal reduction: lane = output channel. Flags: AVX-512 F/BW/VL/DQ + VPOPCNTDQ (cmake/Isa.cmake).
// A rows come as segments through pointers (bgemm.h), so 3x3 windows are read in place from the image.
// Bit-serial twin (k-bit convolutions): the same loop once per term, the 24 accumulators shifted between
// terms (Horner), so the planes of a k-bit product are combined in registers and stored once.
// Reads: exactly seg_words words of each A segment; the whole packed weight tile (padded to 32 columns).
#include "util/immintrin.h"

#include <cassert>

#include "bgemm/bgemm.h"
#include "util/bits.h"

using onebit::kernels::load_pair;
using onebit::kernels::bgemm_next_row;
using onebit::kernels::load_single;

namespace {

// Both ABIs: the plain kernel is the one-term case of the bit-serial one (bgemm.h).
template <bool kSerial>
void gemm_6x32(size_t mr, size_t nc, size_t segs, size_t seg_words, const uint32_t* const* a,
                      const uint64_t* w_base, int32_t* c, size_t c_stride, const onebit_bgemm_terms& terms) {
  assert(mr >= 1 && mr <= 6 && nc >= 1 && segs >= 1 && seg_words >= 1 && terms.count >= 1 && terms.count <= 8);
  const size_t r1 = mr > 1 ? segs : 0, r2 = r1 + (mr > 2 ? segs : 0), r3 = r2 + (mr > 3 ? segs : 0);
  const size_t r4 = r3 + (mr > 4 ? segs : 0), r5 = r4 + (mr > 5 ? segs : 0);  // row r's pointers at a + rr
  int32_t* c0 = c;
  int32_t* c1 = bgemm_next_row(c0, c_stride, mr > 1);
  int32_t* c2 = bgemm_next_row(c1, c_stride, mr > 2);
  int32_t* c3 = bgemm_next_row(c2, c_stride, mr > 3);
  int32_t* c4 = bgemm_next_row(c3, c_stride, mr > 4);
  int32_t* c5 = bgemm_next_row(c4, c_stride, mr > 5);
  const size_t pairs = seg_words / 2, chunks = (seg_words + 1) / 2;
  const size_t tile_chunks = 32 * segs * chunks;
  for (size_t n0 = 0; n0 < nc; n0 += 32) {
    // Plain locals (not arrays captured by a lambda) so that the 24 accumulators stay in registers.
    __m512i acc00 = _mm512_setzero_si512(), acc01 = _mm512_setzero_si512(), acc02 = _mm512_setzero_si512(), acc03 = _mm512_setzero_si512();
    __m512i acc10 = _mm512_setzero_si512(), acc11 = _mm512_setzero_si512(), acc12 = _mm512_setzero_si512(), acc13 = _mm512_setzero_si512();
    __m512i acc20 = _mm512_setzero_si512(), acc21 = _mm512_setzero_si512(), acc22 = _mm512_setzero_si512(), acc23 = _mm512_setzero_si512();
    __m512i acc30 = _mm512_setzero_si512(), acc31 = _mm512_setzero_si512(), acc32 = _mm512_setzero_si512(), acc33 = _mm512_setzero_si512();
    __m512i acc40 = _mm512_setzero_si512(), acc41 = _mm512_setzero_si512(), acc42 = _mm512_setzero_si512(), acc43 = _mm512_setzero_si512();
    __m512i acc50 = _mm512_setzero_si512(), acc51 = _mm512_setzero_si512(), acc52 = _mm512_setzero_si512(), acc53 = _mm512_setzero_si512();
#define ONEBIT_ROW(r)                                                                           \
  {                                                                                             \
    const __m512i v = _mm512_set1_epi64(static_cast<long long>(av##r));                         \
    acc##r##0 = _mm512_add_epi64(acc##r##0, _mm512_popcnt_epi64(_mm512_xor_si512(v, w0)));      \
    acc##r##1 = _mm512_add_epi64(acc##r##1, _mm512_popcnt_epi64(_mm512_xor_si512(v, w1)));      \
    acc##r##2 = _mm512_add_epi64(acc##r##2, _mm512_popcnt_epi64(_mm512_xor_si512(v, w2)));      \
    acc##r##3 = _mm512_add_epi64(acc##r##3, _mm512_popcnt_epi64(_mm512_xor_si512(v, w3)));      \
  }
#define ONEBIT_STEP()                                                                            \
  {                                                                                             \
    const __m512i w0 = _mm512_loadu_si512(w), w1 = _mm512_loadu_si512(w + 8);                   \
    const __m512i w2 = _mm512_loadu_si512(w + 16), w3 = _mm512_loadu_si512(w + 24);             \
    w += 32;                                                                                     \
    ONEBIT_ROW(0) ONEBIT_ROW(1) ONEBIT_ROW(2) ONEBIT_ROW(3) ONEBIT_ROW(4) ONEBIT_ROW(5)          \
  }
#define ONEBIT_SHIFT(r, n)                                                                  \
  acc##r##0 = _mm512_slli_epi64(acc##r##0, n), acc##r##1 = _mm512_slli_epi64(acc##r##1, n), \
  acc##r##2 = _mm512_slli_epi64(acc##r##2, n), acc##r##3 = _mm512_slli_epi64(acc##r##3, n);
    for (size_t t = 0; t < (kSerial ? terms.count : 1); ++t) {
      // Horner: the terms so far weigh 2^n more than this one.
      if (const unsigned n = kSerial ? terms.shift[t] : 0; n != 0) {
        ONEBIT_SHIFT(0, n) ONEBIT_SHIFT(1, n) ONEBIT_SHIFT(2, n)
        ONEBIT_SHIFT(3, n) ONEBIT_SHIFT(4, n) ONEBIT_SHIFT(5, n)
      }
      const uint32_t* const* p = a + (kSerial ? terms.a_offset[t] : 0);
      const uint32_t *const *p0 = p, *const *p1 = p + r1, *const *p2 = p + r2, *const *p3 = p + r3, *const *p4 = p + r4,
                            *const *p5 = p + r5;
      const uint64_t* w = w_base + n0 / 32 * tile_chunks + (kSerial ? terms.w_offset[t] : 0);
      // One loop body for full and odd last chunks (a second copy of the body makes GCC spill accumulators).
      for (size_t sg = 0; sg < segs; ++sg) {
        const uint32_t *a0 = p0[sg], *a1 = p1[sg], *a2 = p2[sg], *a3 = p3[sg], *a4 = p4[sg], *a5 = p5[sg];
        for (size_t j = 0; j < chunks; ++j) {
          const size_t k = 2 * j;
          const bool pair = j < pairs;
          const uint64_t av0 = pair ? load_pair(a0 + k) : load_single(a0 + k);
          const uint64_t av1 = pair ? load_pair(a1 + k) : load_single(a1 + k);
          const uint64_t av2 = pair ? load_pair(a2 + k) : load_single(a2 + k);
          const uint64_t av3 = pair ? load_pair(a3 + k) : load_single(a3 + k);
          const uint64_t av4 = pair ? load_pair(a4 + k) : load_single(a4 + k);
          const uint64_t av5 = pair ? load_pair(a5 + k) : load_single(a5 + k);
          ONEBIT_STEP()
        }
      }
    }
#undef ONEBIT_SHIFT
#undef ONEBIT_STEP
#undef ONEBIT_ROW
    // Store: the low halves of two accumulators (channels n0 + 16h .. + 15, each count < 2^31) merged into
    // one vector of 16 int32 by one permute, stored masked to the columns that exist (16 stores per tile
    // instead of 24 narrowing stores, which cost several uops each). Rows >= mr alias row mr - 1 (same
    // values); the real row mr - 1 is among them, so the order of the stores does not matter.
    const size_t left = nc - n0;
    const __mmask16 m01 = left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1);
    const __mmask16 m23 = left >= 32 ? __mmask16(0xFFFF) : left <= 16 ? __mmask16(0) : __mmask16((1u << (left - 16)) - 1);
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
#define ONEBIT_STORE(r)                                                                               \
  _mm512_mask_storeu_epi32(c##r + n0, m01, _mm512_permutex2var_epi32(acc##r##0, even, acc##r##1));      \
  _mm512_mask_storeu_epi32(c##r + n0 + 16, m23, _mm512_permutex2var_epi32(acc##r##2, even, acc##r##3));
    ONEBIT_STORE(5) ONEBIT_STORE(4) ONEBIT_STORE(3) ONEBIT_STORE(2) ONEBIT_STORE(1) ONEBIT_STORE(0)
#undef ONEBIT_STORE
  }
}

}  // namespace

ONEBIT_BGEMM_UKERNEL_AND_SERIAL(6x32__avx512vpopcnt, gemm_6x32)
