// Instructions per (32-bit word x output) of the scalar binary GEMM ukernel (kernels/bgemm, 4x4 tile) on
// the board, under qemu (instructions, not cycles): a 4 x 4 tile over K = 2,048 bits, 64 calls.
// Figures: mcu/README.md "Popcount".
#include <cstdint>
#include <cstdio>

#include "../../kernels/bgemm/bgemm.h"  // internal ukernel API (reached by path, as the tests do)
#include "onebit/mcu/board.h"

ONEBIT_BGEMM_UKERNEL(onebit_bgemm_ukernel_4x4__scalar);  // as kernels/bgemm/bgemm-ukernels.h declares it

namespace {

constexpr size_t kWords = 64, kCalls = 64;
uint32_t rows[4][kWords];
uint64_t packed[4 * kWords / 2];
int32_t out[4][4];

}  // namespace

int main() {
  uint32_t state = 7;
  auto next = [&] { return state = state * 1664525u + 1013904223u; };
  for (auto& row : rows)
    for (uint32_t& x : row) x = next();
  for (uint64_t& x : packed) x = uint64_t{next()} << 32 | next();
  const uint32_t* a[4] = {rows[0], rows[1], rows[2], rows[3]};
  const uint64_t t0 = board_instructions();
  for (size_t i = 0; i < kCalls; ++i) onebit_bgemm_ukernel_4x4__scalar(4, 4, 1, kWords, a, packed, &out[0][0], sizeof(out[0]));
  const uint64_t t1 = board_instructions();
  const unsigned hundredths = unsigned((t1 - t0) * 100 / (kCalls * kWords * 16));
  std::printf("bgemm_bench: 4x4__scalar, K = %u words: %u.%02u instructions per word x output (c[0][0] = %ld)\n",
              unsigned(kWords), hundredths / 100, hundredths % 100, long(out[0][0]));
  return 0;
}
