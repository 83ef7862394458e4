// core's enums <-> the format's (schema/onebit.fbs). The values are equal by design; the static_asserts
// make a schema change that breaks that a compile error instead of a silent misreading. Include only where
// the generated schema header is available (runtime, builder, tests).
#pragma once

#include "onebit/core/levels.h"
#include "onebit/schema/onebit_generated.h"

namespace onebit::core {

static_assert(int(LevelKind::kBinary) == int(fb::LevelKind::Binary) &&
                  int(LevelKind::kUnipolar) == int(fb::LevelKind::Unipolar) &&
                  int(LevelKind::kBipolar) == int(fb::LevelKind::Bipolar) &&
                  int(LevelKind::kTernary) == int(fb::LevelKind::Ternary) &&
                  int(fb::LevelKind::MAX) == int(LevelKind::kTernary),
              "core::LevelKind and the schema's LevelKind must list the same kinds with the same values");
static_assert(int(PadMode::kZero) == int(fb::BinaryPadMode::Zero) && int(PadMode::kOne) == int(fb::BinaryPadMode::One) &&
                  int(PadMode::kMinusOne) == int(fb::BinaryPadMode::MinusOne) &&
                  int(fb::BinaryPadMode::MAX) == int(PadMode::kMinusOne),
              "core::PadMode and the schema's BinaryPadMode must list the same modes with the same values");

constexpr fb::LevelKind to_schema(LevelKind k) { return fb::LevelKind(int(k)); }
constexpr fb::BinaryPadMode to_schema(PadMode m) { return fb::BinaryPadMode(int(m)); }

/// False for a value outside the enum (a file the verifier passed may still hold any byte there).
constexpr bool from_schema(fb::LevelKind k, LevelKind* out) {
  if (int(k) < int(fb::LevelKind::MIN) || int(k) > int(fb::LevelKind::MAX)) return false;
  *out = LevelKind(int(k));
  return true;
}
constexpr bool from_schema(fb::BinaryPadMode m, PadMode* out) {
  if (int(m) < int(fb::BinaryPadMode::MIN) || int(m) > int(fb::BinaryPadMode::MAX)) return false;
  *out = PadMode(int(m));
  return true;
}

}  // namespace onebit::core
