// Which operators a program can run (TensorFlow Lite Micro's MicroMutableOpResolver is the anchor). A model
// is validated and run against one: an operator type it does not hold is rejected at load with a message
// naming the accessor to add. Each accessor in onebit::ops references its operator's code alone, so a
// firmware that registers only its model's operators links only them (flash follows the model); the
// desktop library uses OpResolver::all() unless LoadOptions::ops says otherwise. The Cortex-M build
// (ONEBIT_MCU) has no default: pass one.
//
//   onebit::OpResolver ops;
//   ops.add(onebit::ops::conv2d()).add(onebit::ops::binary_conv2d()).add(onebit::ops::quantize());
//   onebit::LoadOptions options;
//   options.ops = &ops;  // must outlive the Model and its interpreters
#pragma once

#include <cstddef>

#include "onebit/export.h"

namespace onebit {

namespace rt {
struct OpKind;  // an operator's validation and implementation (runtime/src/ops/op_table.h)
}

class ONEBIT_API OpResolver {
 public:
  /// Every operator onebit has (links them all).
  static const OpResolver& all();
  /// Registers an operator (again: no effect). Returns *this, for chaining.
  OpResolver& add(const rt::OpKind& kind);
  /// The operator of schema type `type` (fb::OperatorOptions), or null if it was not added.
  const rt::OpKind* find(int type) const;
  /// Operators registered.
  size_t size() const;

  static constexpr int kMaxTypes = 64;  // > every fb::OperatorOptions value (checked in op_table.cc)

 private:
  const rt::OpKind* kinds_[kMaxTypes] = {};
};

/// One accessor per operator type (the schema's OperatorOptions without "Options"), and three wider forms:
/// conv2d() and fully_connected() run float (float16, int8) weights; conv2d_binary_weights() and
/// fully_connected_binary_weights() also 1-bit weights with a scale per output channel (BWN / BinaryConnect),
/// linking their float x 1-bit kernels; binary_conv2d() runs binary activations x 1-bit weights,
/// binary_conv2d_levels() also k-bit activations or 2-bit weights (W1A2...), linking the k-bit code. A model
/// needing a wide form registered against the narrow one is refused at load, naming the wide one; adding
/// either form after the wide one keeps the wide one.
namespace ops {
ONEBIT_API const rt::OpKind& conv2d();
ONEBIT_API const rt::OpKind& conv2d_binary_weights();
ONEBIT_API const rt::OpKind& fully_connected();
ONEBIT_API const rt::OpKind& fully_connected_binary_weights();
ONEBIT_API const rt::OpKind& max_pool2d();
ONEBIT_API const rt::OpKind& avg_pool2d();
ONEBIT_API const rt::OpKind& global_avg_pool();
ONEBIT_API const rt::OpKind& add();
ONEBIT_API const rt::OpKind& mul();
ONEBIT_API const rt::OpKind& channel_affine();
ONEBIT_API const rt::OpKind& relu();
ONEBIT_API const rt::OpKind& prelu();
ONEBIT_API const rt::OpKind& clamp();
ONEBIT_API const rt::OpKind& reshape();
ONEBIT_API const rt::OpKind& concat();
ONEBIT_API const rt::OpKind& softmax();
ONEBIT_API const rt::OpKind& pad();
ONEBIT_API const rt::OpKind& quantize();
ONEBIT_API const rt::OpKind& dequantize();
ONEBIT_API const rt::OpKind& binary_conv2d();
ONEBIT_API const rt::OpKind& binary_conv2d_levels();
ONEBIT_API const rt::OpKind& binary_fully_connected();
ONEBIT_API const rt::OpKind& binary_max_pool2d();
ONEBIT_API const rt::OpKind& quantize_levels();
ONEBIT_API const rt::OpKind& sigmoid();
}  // namespace ops

}  // namespace onebit
