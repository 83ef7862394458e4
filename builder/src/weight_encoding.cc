// How weights are stored: the Weights descriptor, float16 rounding, int8 quantization and bit packing
// (weight_encoding.h lists the layouts).
#include "weight_encoding.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

#include "onebit/kernels/bit_contract.h"

namespace onebit {

// Weights is an aggregate: {storage, values, q, scale, activations}.
Weights Weights::float32(std::vector<float> w) { return {Storage::kFloat32, std::move(w), {}, {}, {}}; }
Weights Weights::float16(std::vector<float> w) { return {Storage::kFloat16, std::move(w), {}, {}, {}}; }
Weights Weights::int8(std::vector<int8_t> q, std::vector<float> scale, const Int8Params& activations) {
  return {Storage::kInt8, {}, std::move(q), std::move(scale), activations};
}
Weights Weights::binary(std::vector<float> signs, std::vector<float> alpha) {
  return {Storage::kBinary, std::move(signs), {}, std::move(alpha), {}};
}

uint16_t float_to_half(float v) {
  uint32_t x;
  std::memcpy(&x, &v, sizeof x);
  const uint16_t sign = uint16_t((x >> 16) & 0x8000u);
  const uint32_t a = x & 0x7fffffffu;
  if (a > 0x7f800000u) return uint16_t(sign | 0x7e00u);             // NaN
  if (a >= 0x477ff000u) return uint16_t(sign | 0x7c00u);            // >= 65520 rounds to infinity
  if (a < 0x38800000u) {                                            // below 2^-14: a subnormal half
    float m;
    std::memcpy(&m, &a, sizeof m);
    return uint16_t(sign | uint16_t(std::nearbyint(std::ldexp(m, 24))));  // exact scaling, then nearest even
  }
  uint32_t h = ((a >> 23) - 112) << 10 | ((a >> 13) & 0x3ffu);     // rebias 127 -> 15, keep 10 mantissa bits
  const uint32_t rest = a & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;         // nearest even; a carry bumps the exponent
  return uint16_t(sign | h);
}

void quantize_per_channel(const std::vector<float>& w, int out_c, std::vector<int8_t>* q, std::vector<float>* scale) {
  const size_t row = out_c > 0 ? w.size() / size_t(out_c) : 0;
  q->assign(w.size(), 0);
  scale->assign(size_t(out_c), 0.0f);
  for (size_t o = 0; o < size_t(out_c); ++o) {
    float m = 0;
    for (size_t i = 0; i < row; ++i) m = std::max(m, std::fabs(w[o * row + i]));
    const float s = m > 0 ? m / 127.0f : 1.17549435e-38f;
    (*scale)[o] = s;
    for (size_t i = 0; i < row; ++i)
      (*q)[o * row + i] = int8_t(std::clamp(std::nearbyint(w[o * row + i] / s), -127.0f, 127.0f));
  }
}

namespace weight_encoding {
namespace {

/// rows x cols floats (row-major, already in OHW-major / I-minor order) -> packed rows of packed_words(cols).
std::vector<uint32_t> pack_rows(const std::vector<float>& v, size_t rows, size_t cols) {
  const size_t words = packed_words(cols);
  std::vector<uint32_t> r(rows * words, 0);
  for (size_t row = 0; row < rows; ++row)
    for (size_t c = 0; c < cols; ++c)
      r[row * words + c / kBitsPerWord] |= binarize_bit(v[row * cols + c]) << (c % kBitsPerWord);
  return r;
}

/// The Bipolar 2-bit level index of the level nearest w in {-3, -1, 1, 3} (ties toward +inf; NaN -> q 0).
uint32_t bipolar2_index(float w) {
  const float t = std::floor((w + 3.0f) * 0.5f + 0.5f);
  return !(t > 0.0f) ? 0u : t >= 3.0f ? 3u : uint32_t(t);
}

/// Level indices q (one per element, rows x cols row-major) -> `bits` planes of packed rows, planes-major.
std::vector<uint32_t> pack_planes(const std::vector<uint32_t>& q, size_t rows, size_t cols, int bits) {
  const size_t words = packed_words(cols), plane = rows * words;
  std::vector<uint32_t> r(size_t(bits) * plane, 0);
  for (int i = 0; i < bits; ++i)
    for (size_t row = 0; row < rows; ++row)
      for (size_t c = 0; c < cols; ++c)
        r[size_t(i) * plane + row * words + c / kBitsPerWord] |= ((q[row * cols + c] >> i) & 1u) << (c % kBitsPerWord);
  return r;
}

/// IEEE binary16, little-endian (the format's byte order).
std::vector<uint8_t> half_bytes(const std::vector<float>& v) {
  std::vector<uint8_t> bytes(v.size() * 2);
  for (size_t i = 0; i < v.size(); ++i) {
    const uint16_t h = float_to_half(v[i]);
    bytes[2 * i] = uint8_t(h & 0xff);
    bytes[2 * i + 1] = uint8_t(h >> 8);
  }
  return bytes;
}

}  // namespace

std::vector<uint8_t> float_bytes(const std::vector<float>& v) {
  std::vector<uint8_t> bytes(v.size() * sizeof(float));
  if (!v.empty()) std::memcpy(bytes.data(), v.data(), bytes.size());
  return bytes;
}

std::vector<uint8_t> word_bytes(const std::vector<uint32_t>& v) {
  std::vector<uint8_t> bytes(v.size() * sizeof(uint32_t));
  if (!v.empty()) std::memcpy(bytes.data(), v.data(), bytes.size());
  return bytes;
}

StoredWeights store(const Weights& w, int o_n, int i_n, int kh, int kw) {
  switch (w.storage) {
    case Weights::Storage::kFloat32:
      return {fb::DType::Float32, float_bytes(oihw_to_ohwi(w.values, o_n, i_n, kh, kw))};
    case Weights::Storage::kFloat16:
      return {fb::DType::Float16, half_bytes(oihw_to_ohwi(w.values, o_n, i_n, kh, kw))};
    case Weights::Storage::kInt8: {
      const std::vector<int8_t> q = oihw_to_ohwi(w.q, o_n, i_n, kh, kw);
      return {fb::DType::Int8, std::vector<uint8_t>(q.begin(), q.end())};
    }
    case Weights::Storage::kBinary:
      break;
  }
  const std::vector<float> ohwi = oihw_to_ohwi(w.values, o_n, i_n, kh, kw);
  return {fb::DType::BitPacked, word_bytes(pack_rows(ohwi, size_t(o_n) * kh * kw, size_t(i_n)))};
}

PackedWeights pack_binary(const std::vector<float>& v, size_t rows, size_t cols, int weight_bits) {
  if (weight_bits == 1) return {pack_rows(v, rows, cols), {}};
  std::vector<uint32_t> q(v.size());
  for (size_t i = 0; i < v.size(); ++i) q[i] = bipolar2_index(v[i]);
  rt::TensorLevels levels;
  levels.kind = LevelKind::kBipolar;
  levels.bits = 2;
  return {pack_planes(q, rows, cols, 2), levels};
}

}  // namespace weight_encoding
}  // namespace onebit
