// The vocabulary of k-bit values shared by kernels, runtime, builder and converter: what the integer level of
// a packed element means, and what the padded taps of a binary convolution hold. Defined once here; the
// format's enums (schema/onebit.fbs LevelKind, BinaryPadMode) are mapped by core/schema_enums.h.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace onebit::core {

/// What the integer level L of a k-bit element means, for level index q in [0, 2^bits) (q = sum over
/// planes i of 2^i * bit_i; kernels/include/onebit/kernels/bit_contract.h "k-bit tensors"):
///  kBinary   bits 1: L = 1 - 2 * bit (bit 1 means -1)
///  kUnipolar bits 1..4: L = q - zero_level (DoReFa / PACT / LSQ / QuantizeLinear activations)
///  kBipolar  bits 1..4: L = 2q - (2^bits - 1), the odd levels (DoReFa k-bit weights: {-3, -1, 1, 3})
///  kTernary  bits 2: planes (L < 0, L <= 0), L in {-1, 0, +1} (a Sign whose input can be 0)
enum class LevelKind : uint8_t { kBinary = 0, kUnipolar = 1, kBipolar = 2, kTernary = 3 };

/// The schema's names, for messages: "Binary", "Unipolar", "Bipolar", "Ternary".
constexpr const char* level_kind_name(LevelKind k) {
  switch (k) {
    case LevelKind::kBinary: return "Binary";
    case LevelKind::kUnipolar: return "Unipolar";
    case LevelKind::kBipolar: return "Bipolar";
    case LevelKind::kTernary: return "Ternary";
  }
  return "unknown";
}

/// level_kind_name() in lower case ("unipolar"): the converter's attribute spelling.
inline std::string level_kind_key(LevelKind k) {
  std::string s = level_kind_name(k);
  for (char& c : s) c = char(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return s;
}

/// Parses a level_kind_name() or level_kind_key(); false (and *out untouched) for anything else.
inline bool parse_level_kind(std::string_view s, LevelKind* out) {
  for (LevelKind k : {LevelKind::kBinary, LevelKind::kUnipolar, LevelKind::kBipolar, LevelKind::kTernary}) {
    if (s == level_kind_name(k) || s == level_kind_key(k)) {
      *out = k;
      return true;
    }
  }
  return false;
}

/// Whether `bits` planes of `kind` levels exist (bit_contract.h "k-bit tensors"): Binary 1 bit, Ternary 2,
/// Unipolar and Bipolar 1..4.
constexpr bool levels_allowed(LevelKind kind, int bits) {
  switch (kind) {
    case LevelKind::kBinary: return bits == 1;
    case LevelKind::kTernary: return bits == 2;
    case LevelKind::kUnipolar:
    case LevelKind::kBipolar: return bits >= 1 && bits <= 4;
  }
  return false;
}

/// The largest |L| of a k-bit tensor of this kind (Unipolar: max(zero_level, 2^bits - 1 - zero_level)).
constexpr int max_abs_level(LevelKind kind, int bits, int zero_level) {
  switch (kind) {
    case LevelKind::kUnipolar: {
      const int top = (1 << bits) - 1 - zero_level;
      return top > zero_level ? top : zero_level;
    }
    case LevelKind::kBipolar: return (1 << bits) - 1;
    case LevelKind::kBinary:
    case LevelKind::kTernary: return 1;
  }
  return 1;
}

/// The integer level of level index q (plane bits) for a tensor of `kind`, `bits`, `zero_level`.
constexpr int32_t level_value(LevelKind kind, int bits, int zero_level, uint32_t q) {
  return kind == LevelKind::kBinary     ? 1 - 2 * int32_t(q & 1u)
         : kind == LevelKind::kUnipolar ? int32_t(q) - zero_level
         : kind == LevelKind::kBipolar  ? 2 * int32_t(q) - ((1 << bits) - 1)
                                        : (q == 0u ? 1 : q == 3u ? -1 : 0);
}

/// What the padded taps of a binary convolution's ±1 input hold.
///  kZero:     0, as PyTorch pads binarized activations. A 0-bit would mean +1, so the kernel subtracts, for
///             each output position whose window leaves the image, the sum of the weights on padded taps
///             (exact, per output channel).
///  kOne:      +1 (a 0-bit): free.
///  kMinusOne: -1.
enum class PadMode : uint8_t { kZero = 0, kOne = 1, kMinusOne = 2 };

/// "zero", "one", "minus_one" (the converter's spelling; the schema's is Zero / One / MinusOne).
constexpr const char* pad_mode_name(PadMode m) {
  switch (m) {
    case PadMode::kZero: return "zero";
    case PadMode::kOne: return "one";
    case PadMode::kMinusOne: return "minus_one";
  }
  return "unknown";
}

/// Parses a pad_mode_name(); false (and *out untouched) for anything else.
constexpr bool parse_pad_mode(std::string_view s, PadMode* out) {
  for (PadMode m : {PadMode::kZero, PadMode::kOne, PadMode::kMinusOne}) {
    if (s == pad_mode_name(m)) {
      *out = m;
      return true;
    }
  }
  return false;
}

}  // namespace onebit::core
