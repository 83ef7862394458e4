// Int8 stem family: its table (stem-int8-ukernels.h), selection (VNNI checked with cpuinfo), the padded
// input's geometry and quantization, and the weight packing.
#include <algorithm>
#include <cstring>

#if !ONEBIT_MCU
#include <cpuinfo.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#endif

#include "stem/stem-int8-ukernels.h"

namespace onebit::kernels {
namespace {

#define ONEBIT_STEM_INT8_ENTRY(tile, isa, vnni, block, tap_bytes) \
  {Isa::isa, vnni, onebit_stem_int8_ukernel_##tile, onebit_stem_int8_quantize_##tile, #tile, block, tap_bytes},
const StemInt8Ukernel kUkernels[] = {ONEBIT_COMPILED_UKERNELS(ONEBIT_STEM_INT8_UKERNELS, ONEBIT_STEM_INT8_ENTRY)};
#undef ONEBIT_STEM_INT8_ENTRY

/// AVX-VNNI (VEX vpdpbusd on ymm): CPUID leaf 7 subleaf 1, EAX bit 4 (this cpuinfo predates it); the OS's
/// ymm state is what AVX2's isa_supported already checked.
#if !ONEBIT_MCU
bool cpu_has_avx_vnni() {
#if defined(__x86_64__) || defined(__i386__)
  unsigned a = 0, b = 0, c = 0, d = 0;
  return __get_cpuid_count(7, 1, &a, &b, &c, &d) != 0 && ((a >> 4) & 1u) != 0;
#else
  return false;
#endif
}
#endif

bool cpu_has_vnni(Isa isa) {
#if ONEBIT_MCU
  (void)isa;
  return false;
#else
  if (isa == Isa::kAvx2) return isa_supported(Isa::kAvx2) && cpu_has_avx_vnni();
  return isa_supported(Isa::kAvx512Vpopcnt) && cpuinfo_has_x86_avx512vnni();  // isa_supported initialized cpuinfo
#endif
}

/// n elements of value v, each tap_bytes wide, at out.
void fill(uint8_t* out, int v, size_t n, int tap_bytes) {
  if (tap_bytes == 1) {
    std::memset(out, v, n);
    return;
  }
  const uint16_t e = uint16_t(v);
  for (size_t i = 0; i < n; ++i) std::memcpy(out + 2 * i, &e, 2);
}

}  // namespace

bool stem_int8_runs(const StemInt8Ukernel& u) { return isa_supported(u.isa) && (!u.vnni || cpu_has_vnni(u.isa)); }

const StemInt8Ukernel& stem_int8_select() {
  for (const StemInt8Ukernel& u : kUkernels)
    if (stem_int8_runs(u)) return u;
  return kUkernels[sizeof kUkernels / sizeof kUkernels[0] - 1];
}

const StemInt8Ukernel* stem_int8_ukernels(size_t* count) { return ukernel_table(kUkernels, count); }

void stem_int8_init(StemInt8* p) {
  const FloatConv2D& g = p->g;
  p->padded_h = std::max(g.in_h + g.pad_top, (g.out_h - 1) * g.stride_h + g.kernel_h);
  p->padded_w = std::max(g.in_w + g.pad_left, (g.out_w - 1) * g.stride_w + g.kernel_w);
}

size_t stem_int8_input_bytes(const StemInt8Ukernel& u, const StemInt8& p) {
  return size_t(p.g.batch) * size_t(p.padded_h) * size_t(p.padded_w) * size_t(p.g.in_c) * size_t(u.tap_bytes) + 3;
}

void stem_int8_quantize(const StemInt8Ukernel& u, const StemInt8& p, const float* x, uint8_t* xq, int row_begin,
                        int row_end) {
  const FloatConv2D& g = p.g;
  const size_t c = size_t(g.in_c), row = size_t(p.padded_w) * c, e = size_t(u.tap_bytes);
  const int offset = p.input_zero_point + 128;
  const float inv_scale = 1.0f / p.input_scale;
  for (int r = row_begin; r < row_end; ++r) {
    uint8_t* out = xq + size_t(r) * row * e;
    const int n = r / p.padded_h, iy = r % p.padded_h - g.pad_top;
    if (iy < 0 || iy >= g.in_h) {
      fill(out, offset, row, u.tap_bytes);
    } else {
      const size_t left = size_t(g.pad_left) * c, inner = size_t(g.in_w) * c;
      fill(out, offset, left, u.tap_bytes);
      u.quantize(x + (size_t(n) * size_t(g.in_h) + size_t(iy)) * inner, inner, inv_scale, offset, out + left * e);
      fill(out + (left + inner) * e, offset, row - left - inner, u.tap_bytes);
    }
  }
  if (row_end == g.batch * p.padded_h) std::memset(xq + size_t(row_end) * row * e, offset, 3);  // the slack
}

size_t stem_int8_packed_bytes(const StemInt8Ukernel& u, const StemInt8& p) {
  const size_t blocks = (size_t(p.g.out_c) + size_t(u.block) - 1) / size_t(u.block);
  return blocks * stem_int8::block_bytes(p.g, u.block, u.tap_bytes);
}

void stem_int8_pack(const StemInt8Ukernel& u, const StemInt8& p, const int8_t* w_ohwi, const int32_t* qbias,
                    const float* weight_scale, uint8_t* packed) {
  const FloatConv2D& g = p.g;
  const size_t block = size_t(u.block), groups = size_t(stem_int8::groups(g, u.tap_bytes));
  const size_t run = size_t(g.kernel_w * g.in_c), taps = size_t(g.kernel_h) * run, e = size_t(u.tap_bytes);
  const size_t per = 4 / e;  // taps per 4-byte group
  std::memset(packed, 0, stem_int8_packed_bytes(u, p));
  for (size_t o = 0; o < size_t(g.out_c); ++o) {
    uint8_t* b = packed + (o / block) * stem_int8::block_bytes(g, u.block, u.tap_bytes);
    const size_t lane = o % block;
    int64_t sum = 0;
    for (size_t t = 0; t < taps; ++t) {
      const int8_t w = w_ohwi[o * taps + t];
      sum += w;
      const size_t ky = t / run, j = t % run;
      uint8_t* at = b + 8 * block + ((ky * groups + j / per) * block + lane) * 4 + (j % per) * e;
      const int16_t w16 = w;  // int16 ukernels: the machine's byte order, as their input
      if (e == 1) *at = uint8_t(w);
      else std::memcpy(at, &w16, 2);
    }
    // bias' = qbias - (zero point + 128) * sum w, saturated to +-2^30: the sum of products adds at most
    // 7 * 7 * 4 * 255 * 128 < 2^23 to it, so no accumulator overflows int32 (stem_int8.h: the one departure
    // from the contract, for biases no calibrated layer has).
    const int64_t bias = int64_t(qbias != nullptr ? qbias[o] : 0) - int64_t(p.input_zero_point + 128) * sum;
    const int32_t b32 = int32_t(std::clamp<int64_t>(bias, -(int64_t(1) << 30), int64_t(1) << 30));
    const float mult = p.input_scale * weight_scale[o] / p.output_scale;
    std::memcpy(b + lane * 4, &b32, 4);
    std::memcpy(b + 4 * block + lane * 4, &mult, 4);
  }
}

void stem_int8_conv(const StemInt8Ukernel& u, const StemInt8& p, const uint8_t* xq, const uint8_t* packed, void* y,
                    int row_begin, int row_end) {
  if (row_begin < row_end) u.fn(&p, xq, packed, y, row_begin, row_end);
}

}  // namespace onebit::kernels
