// Instructions per (32-bit word x output) of the scalar binary GEMM ukernels (kernels/bgemm) on the board,
// under qemu (instructions, not cycles): the packed-tile 4x4 scalar ukernel (desktop layout) and the
// row-weight ukernel (bgemm-rows-scalar.h, weights read where they lie) at several register tiles, over a
// 12 x 32 output block and the shipped models' K (3x3 windows of 32, 64, 128 channels read in place as 3
// segments, an im2col row of 32 channels) and K = 64 words in one segment. Figures: the tile table in
// kernels/bgemm/bgemm-4x1-rows-scalar.cc (the 4x4 line also in mcu/README.md "Popcount").
#include <cstdint>
#include <cstdio>

#include "bgemm/bgemm-rows-scalar.h"  // internal (kernels/ is on this bench's include path)
#include "onebit/mcu/board.h"

ONEBIT_BGEMM_UKERNEL(onebit_bgemm_ukernel_4x4__scalar);  // as kernels/bgemm/bgemm-ukernels.h declares it

namespace {

constexpr size_t kM = 12, kN = 32, kMaxWords = 64, kCalls = 4;
uint32_t a_rows[kM][kMaxWords], w_rows[kN][kMaxWords];
uint64_t packed[kN * kMaxWords / 2 + 4 * kN];
int32_t out[kM][kN];

struct Shape {
  size_t segs, seg_words;
};

template <size_t MR, size_t NR>
__attribute__((noinline)) void rows_tile(size_t mr, size_t nc, size_t segs, size_t seg_words,
                                         const uint32_t* const* a, const uint32_t* w, size_t w_stride, int32_t* c,
                                         size_t c_stride) {
  onebit::kernels::rows::bgemm<MR, NR>(mr, nc, segs, seg_words, a, w, w_stride, c, c_stride);
}

// Segment pointers of all rows: row i, segment s at a_rows[i] + s * seg_words.
const uint32_t* pointers[kM * 3];

void set_pointers(const Shape& shape) {
  for (size_t i = 0; i < kM; ++i)
    for (size_t s = 0; s < shape.segs; ++s) pointers[i * shape.segs + s] = a_rows[i] + s * shape.seg_words;
}

void report(const char* name, const Shape& shape, uint64_t instructions) {
  const size_t words = shape.segs * shape.seg_words;
  const unsigned hundredths = unsigned(instructions * 100 / (kCalls * words * kM * kN));
  std::printf("bgemm_bench: %-14s K = %2u words (%u x %2u): %u.%02u instructions per word x output (c[11][11] = %ld)\n",
              name, unsigned(words), unsigned(shape.segs), unsigned(shape.seg_words), hundredths / 100,
              hundredths % 100, long(out[kM - 1][kN - 1]));
}

void bench_packed(const Shape& shape) {
  set_pointers(shape);
  onebit::kernels::bgemm_pack_weights(4, kN, shape.segs, shape.seg_words, &w_rows[0][0], kMaxWords, packed);
  const uint64_t t0 = board_instructions();
  for (size_t r = 0; r < kCalls; ++r)
    for (size_t m0 = 0; m0 < kM; m0 += 4)
      onebit_bgemm_ukernel_4x4__scalar(4, kN, shape.segs, shape.seg_words, pointers + m0 * shape.segs, packed,
                                       &out[m0][0], sizeof(out[0]));
  report("4x4__scalar", shape, board_instructions() - t0);
}

template <size_t MR, size_t NR>
void bench_rows(const Shape& shape) {
  set_pointers(shape);
  const uint64_t t0 = board_instructions();
  for (size_t r = 0; r < kCalls; ++r)
    for (size_t m0 = 0; m0 < kM; m0 += MR)
      rows_tile<MR, NR>(MR, kN, shape.segs, shape.seg_words, pointers + m0 * shape.segs, &w_rows[0][0], kMaxWords,
                        &out[m0][0], sizeof(out[0]));
  char name[16];
  std::snprintf(name, sizeof(name), "rows %ux%u", unsigned(MR), unsigned(NR));
  report(name, shape, board_instructions() - t0);
}

}  // namespace

int main() {
  uint32_t state = 7;
  auto next = [&] { return state = state * 1664525u + 1013904223u; };
  for (auto& row : a_rows)
    for (uint32_t& x : row) x = next();
  for (auto& row : w_rows)
    for (uint32_t& x : row) x = next();
  for (const Shape& shape : {Shape{1, 64}, Shape{3, 3}, Shape{3, 6}, Shape{3, 12}, Shape{1, 9}}) {
    bench_packed(shape);
    bench_rows<1, 2>(shape);
    bench_rows<1, 3>(shape);
    bench_rows<1, 4>(shape);
    bench_rows<2, 1>(shape);
    bench_rows<2, 2>(shape);
    bench_rows<2, 3>(shape);
    bench_rows<3, 2>(shape);
    bench_rows<4, 1>(shape);
  }
  return 0;
}
