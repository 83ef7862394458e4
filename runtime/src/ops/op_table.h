// The operator table: everything the runtime knows about an operator type, in one row per
// fb::OperatorOptions value (op_table.cc, in schema order):
//
//   { type, name, validate, make [, max_outputs, optional_inputs] }
//     type      the schema's union tag, e.g. OperatorOptions::BinaryConv2DOptions;
//     name      what diagnostics and profiles print ("BinaryConv2D"): the tag without "Options";
//     validate  the operator's semantic check (input count, dtypes, constant weights, shapes, option values,
//               output shape), called by validate_operator() through a ValidateContext (validate.h);
//     make      a new, unprepared implementation (ops/op.h), called by make_op() for the interpreter.
//     max_outputs      outputs the operator may have (default 1; BinaryConv2D's FloatAndBitPacked has 2);
//                      the validate function checks the exact count for the options;
//     optional_inputs  bit k set: input k may be the index -1, "absent" (default none). The graph checks
//                      reject -1 anywhere else, so validate functions only see -1 where they allow it.
//
// validate and make are defined next to each other in the operator's ops/*.cc file and declared below.
// Adding an operator: the schema's union member, its ops/*.cc file (class, validate_<op>, make_<op>), the
// two declarations below, one row in op_table.cc's ONEBIT_OP_ROWS and its accessor in onebit/op_resolver.h. op_type_name(), validate_operator() and make_op()
// all read the table; op_table_test checks that it has exactly one complete row per schema value. Conv2D,
// FullyConnected and BinaryConv2D also have a wide row (op_table.cc) that the full table holds instead.
#pragma once

#include <cstddef>
#include <memory>

#include "../graph.h"

namespace onebit::rt {

class Op;
class ValidateContext;

struct OpKind {
  fb::OperatorOptions type;
  const char* name;
  Status (*validate)(const ValidateContext& c);
  std::unique_ptr<Op> (*make)();
  int max_outputs = 1;
  unsigned optional_inputs = 0;
  /// A narrower row of the same type that this one includes (Conv2D and FullyConnected with 1-bit weights
  /// include their float-weight forms, BinaryConv2D with k-bit operands its binary one): OpResolver::add of
  /// the narrower one then keeps this one.
  const OpKind* includes = nullptr;
#if ONEBIT_MCU
  /// The FlatBuffers verification of the operator's options table (schema/mcu_registered_options.cmake: on
  /// Cortex-M the verifier checks the tables of registered operators through this, so only theirs are linked).
  bool (*verify_options)(flatbuffers::Verifier& verifier, const void* table) = nullptr;
#endif
};

/// The row of `type` in the full table (OpResolver::all(), which links every operator), or null for NONE and
/// values outside the schema (untrusted files may hold any byte). The runtime itself looks operators up in
/// the model's resolver (LoadOptions::ops) instead.
const OpKind* find_op_kind(fb::OperatorOptions type);
/// The type's name ("Conv2D"), or "" outside the schema, without linking any operator's code.
const char* op_kind_name(fb::OperatorOptions type);
/// The accessor registering it in an OpResolver ("conv2d" for onebit::ops::conv2d()), or "".
const char* op_accessor_name(fb::OperatorOptions type);

/// All rows of the full table (OpResolver::all()'s: Conv2D and FullyConnected in their 1-bit-weight forms,
/// BinaryConv2D in its k-bit one),
/// in schema order: `for (const OpKind& k : all_op_kinds())`.
struct OpKindList {
  const OpKind* const* first;
  size_t size;
  struct Iterator {
    const OpKind* const* at;
    const OpKind& operator*() const { return **at; }
    Iterator& operator++() {
      ++at;
      return *this;
    }
    bool operator!=(const Iterator& other) const { return at != other.at; }
  };
  Iterator begin() const { return {first}; }
  Iterator end() const { return {first + size}; }
};
OpKindList all_op_kinds();

// Each operator's validate and make functions, by ops/ file.

// conv2d_fully_connected.cc: float (and float16, int8) weights; with _binary_weights, also 1-bit weights
Status validate_conv2d(const ValidateContext& c);
std::unique_ptr<Op> make_conv2d();
Status validate_conv2d_binary_weights(const ValidateContext& c);
std::unique_ptr<Op> make_conv2d_binary_weights();
Status validate_fully_connected(const ValidateContext& c);
std::unique_ptr<Op> make_fully_connected();
Status validate_fully_connected_binary_weights(const ValidateContext& c);
std::unique_ptr<Op> make_fully_connected_binary_weights();
// pool2d.cc
Status validate_max_pool2d(const ValidateContext& c);
std::unique_ptr<Op> make_max_pool2d();
Status validate_avg_pool2d(const ValidateContext& c);
std::unique_ptr<Op> make_avg_pool2d();
Status validate_global_avg_pool(const ValidateContext& c);
std::unique_ptr<Op> make_global_avg_pool();
// elementwise.cc
Status validate_add(const ValidateContext& c);
std::unique_ptr<Op> make_add();
Status validate_mul(const ValidateContext& c);
std::unique_ptr<Op> make_mul();
Status validate_channel_affine(const ValidateContext& c);
std::unique_ptr<Op> make_channel_affine();
Status validate_relu(const ValidateContext& c);
std::unique_ptr<Op> make_relu();
Status validate_prelu(const ValidateContext& c);
std::unique_ptr<Op> make_prelu();
Status validate_clamp(const ValidateContext& c);
std::unique_ptr<Op> make_clamp();
Status validate_sigmoid(const ValidateContext& c);
std::unique_ptr<Op> make_sigmoid();
// shape_ops.cc
Status validate_reshape(const ValidateContext& c);
std::unique_ptr<Op> make_reshape();
Status validate_concat(const ValidateContext& c);
std::unique_ptr<Op> make_concat();
Status validate_pad(const ValidateContext& c);
std::unique_ptr<Op> make_pad();
// softmax.cc
Status validate_softmax(const ValidateContext& c);
std::unique_ptr<Op> make_softmax();
// quantize.cc
Status validate_quantize(const ValidateContext& c);
std::unique_ptr<Op> make_quantize();
Status validate_dequantize(const ValidateContext& c);
std::unique_ptr<Op> make_dequantize();
Status validate_quantize_levels(const ValidateContext& c);
std::unique_ptr<Op> make_quantize_levels();
// binary_conv2d.cc: binary activations x 1-bit weights; with _levels, k-bit ones too
Status validate_binary_conv2d(const ValidateContext& c);
std::unique_ptr<Op> make_binary_conv2d();
Status validate_binary_conv2d_levels(const ValidateContext& c);
std::unique_ptr<Op> make_binary_conv2d_levels();
Status validate_binary_fully_connected(const ValidateContext& c);
std::unique_ptr<Op> make_binary_fully_connected();
// binary_max_pool.cc
Status validate_binary_max_pool2d(const ValidateContext& c);
std::unique_ptr<Op> make_binary_max_pool2d();

}  // namespace onebit::rt
