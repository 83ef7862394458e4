// Binary GEMM selection (best ISA first) and weight packing into the micro-kernels' tile layout.
#include <cstring>

#include "bgemm/bgemm-ukernels.h"

namespace onebit::kernels {
namespace {

// Every compiled ukernel, best ISA first (bgemm-ukernels.h).
#define ONEBIT_BGEMM_ENTRY(tile, isa, mr, nr) {Isa::isa, mr, nr, onebit_bgemm_ukernel_##tile, #tile},
const BgemmConfig kUkernels[] = {ONEBIT_COMPILED_UKERNELS(ONEBIT_BGEMM_UKERNELS, ONEBIT_BGEMM_ENTRY)};
#undef ONEBIT_BGEMM_ENTRY
#define ONEBIT_BGEMM_ROWS_ENTRY(tile, isa, mr, nr) {Isa::isa, mr, nr, nullptr, #tile, onebit_bgemm_ukernel_##tile},
const BgemmConfig kRowsUkernels[] = {ONEBIT_COMPILED_UKERNELS(ONEBIT_BGEMM_ROWS_UKERNELS, ONEBIT_BGEMM_ROWS_ENTRY)};
#undef ONEBIT_BGEMM_ROWS_ENTRY
#define ONEBIT_BGEMM_SERIAL_ENTRY(tile, isa, mr, nr) \
  {Isa::isa, mr, nr, nullptr, #tile, nullptr, onebit_bgemm_serial_ukernel_##tile},
const BgemmConfig kSerialUkernels[] = {
    ONEBIT_COMPILED_UKERNELS(ONEBIT_BGEMM_SERIAL_UKERNELS, ONEBIT_BGEMM_SERIAL_ENTRY)};
#undef ONEBIT_BGEMM_SERIAL_ENTRY

// Selection order, best ISA first: the first choice whose ISA is allowed, compiled in AND detected
// (isa_supported) and that fits the shape wins. Figures behind each shape rule: the header comment of the
// chosen kernel's file.
struct Choice {
  onebit_bgemm_ukernel_fn ukernel;
  bool (*fits)(const BgemmShape& shape);  // null: any shape
};

#if defined(ONEBIT_HAVE_AVX2)
// 32-column tiles unless padding N to 32 costs over a quarter more columns than padding it to 8
// (N = 24: 32 vs 24 columns): 1x32 beat 3x8 by ~10-20% on the ResNet layers, so narrower N goes to 3x8.
bool wide_n(const BgemmShape& s) { return (s.n + 31) / 32 * 32 * 4 <= (s.n + 7) / 8 * 8 * 5; }
#endif
const Choice kChoices[] = {
#if defined(ONEBIT_HAVE_AVX512VPOPCNT)
    {onebit_bgemm_ukernel_6x32__avx512vpopcnt, nullptr},
#endif
#if defined(ONEBIT_HAVE_AVX2)
    {onebit_bgemm_ukernel_1x32__avx2, wide_n},
    {onebit_bgemm_ukernel_3x8__avx2, nullptr},
#endif
#if defined(ONEBIT_HAVE_NEON) && defined(__aarch64__)
    {onebit_bgemm_ukernel_4x8__neon, nullptr},
#elif defined(ONEBIT_HAVE_NEON)
    {onebit_bgemm_ukernel_4x4__neon, nullptr},
#endif
    {onebit_bgemm_ukernel_4x4__scalar, nullptr},
};

// The listed entry of fn, with its bit-serial twin (the serial entry of the same tile name), if any.
BgemmConfig entry(onebit_bgemm_ukernel_fn fn) {
  BgemmConfig found = kUkernels[sizeof(kUkernels) / sizeof(kUkernels[0]) - 1];  // every choice is listed
  for (const BgemmConfig& c : kUkernels) {
    if (c.ukernel == fn) found = c;
  }
  for (const BgemmConfig& s : kSerialUkernels) {
    if (std::strcmp(s.name, found.name) == 0) found.serial_ukernel = s.serial_ukernel;
  }
  return found;
}

}  // namespace

const BgemmConfig* bgemm_ukernels(size_t* count) { return ukernel_table(kUkernels, count); }
const BgemmConfig* bgemm_rows_ukernels(size_t* count) { return ukernel_table(kRowsUkernels, count); }
const BgemmConfig* bgemm_serial_ukernels(size_t* count) { return ukernel_table(kSerialUkernels, count); }

// One row-weight ukernel so far, for every shape.
BgemmConfig bgemm_rows_select(Isa isa, const BgemmShape& /*shape*/) { return select_ukernel(kRowsUkernels, isa); }

BgemmConfig bgemm_select(Isa isa, const BgemmShape& shape) {
  for (const Choice& choice : kChoices) {
    const BgemmConfig c = entry(choice.ukernel);
    if (choice.fits != nullptr && !choice.fits(shape)) continue;
    if (isa_allows(isa, c.isa) && isa_supported(c.isa)) return c;
  }
  return entry(onebit_bgemm_ukernel_4x4__scalar);
}

void bgemm_pack_weights(size_t nr, size_t n, size_t segs, size_t seg_words, const uint32_t* w, size_t w_stride,
                        uint64_t* packed) {
  const size_t k64 = (seg_words + 1) / 2;
  for (size_t n0 = 0; n0 < n; n0 += nr) {
    for (size_t s = 0; s < segs; ++s) {
      for (size_t j = 0; j < k64; ++j) {
        for (size_t i = 0; i < nr; ++i, ++packed) {
          *packed = 0;
          if (n0 + i >= n) continue;
          const uint32_t* seg = w + (n0 + i) * w_stride + s * seg_words;
          const size_t words = 2 * j + 1 < seg_words ? 2 : 1;
          std::memcpy(packed, seg + 2 * j, words * sizeof(uint32_t));
        }
      }
    }
  }
}

}  // namespace onebit::kernels
