// The operator table (see op_table.h): one row per fb::OperatorOptions value, in schema order. Each row is
// its own object behind its own accessor (onebit::ops::*, op_resolver.h), so that a program linking only
// some accessors links only those operators (-ffunction-sections / --gc-sections); OpResolver::all() and
// the tests' all_op_kinds() reference every row. Names live in a separate table (op_type_name needs no
// operator code). The static_asserts keep the order and the count in step with the schema.
#include "ops/op_table.h"

#include <iterator>

#include "onebit/op_resolver.h"
#include "ops/op.h"

namespace onebit {
namespace rt {
namespace {

using T = fb::OperatorOptions;

// X(accessor, type, name, validate, make, max_outputs, optional_inputs), in schema order.
#define ONEBIT_OP_ROWS(X)                                                                                      \
  X(conv2d, Conv2DOptions, "Conv2D", validate_conv2d, make_conv2d, 1, 0u)                                       \
  X(fully_connected, FullyConnectedOptions, "FullyConnected", validate_fully_connected, make_fully_connected, 1, \
    0u)                                                                                                         \
  X(max_pool2d, MaxPool2DOptions, "MaxPool2D", validate_max_pool2d, make_max_pool2d, 1, 0u)                     \
  X(avg_pool2d, AvgPool2DOptions, "AvgPool2D", validate_avg_pool2d, make_avg_pool2d, 1, 0u)                     \
  X(global_avg_pool, GlobalAvgPoolOptions, "GlobalAvgPool", validate_global_avg_pool, make_global_avg_pool, 1,  \
    0u)                                                                                                         \
  X(add, AddOptions, "Add", validate_add, make_add, 1, 0u)                                                      \
  X(mul, MulOptions, "Mul", validate_mul, make_mul, 1, 0u)                                                      \
  X(channel_affine, ChannelAffineOptions, "ChannelAffine", validate_channel_affine, make_channel_affine, 1, 0u) \
  X(relu, ReluOptions, "Relu", validate_relu, make_relu, 1, 0u)                                                 \
  X(prelu, PReluOptions, "PRelu", validate_prelu, make_prelu, 1, 0u)                                            \
  X(clamp, ClampOptions, "Clamp", validate_clamp, make_clamp, 1, 0u)                                            \
  X(reshape, ReshapeOptions, "Reshape", validate_reshape, make_reshape, 1, 0u)                                  \
  X(concat, ConcatOptions, "Concat", validate_concat, make_concat, 1, 0u)                                       \
  X(softmax, SoftmaxOptions, "Softmax", validate_softmax, make_softmax, 1, 0u)                                  \
  X(pad, PadOptions, "Pad", validate_pad, make_pad, 1, 0u)                                                      \
  X(quantize, QuantizeOptions, "Quantize", validate_quantize, make_quantize, 1, 0u)                             \
  X(dequantize, DequantizeOptions, "Dequantize", validate_dequantize, make_dequantize, 1, 0u)                   \
  X(binary_conv2d, BinaryConv2DOptions, "BinaryConv2D", validate_binary_conv2d, make_binary_conv2d, 2,          \
    1u << 4 | 1u << 5)                                                                                          \
  X(binary_fully_connected, BinaryFullyConnectedOptions, "BinaryFullyConnected", validate_binary_fully_connected, \
    make_binary_fully_connected, 1, 0u)                                                                         \
  X(binary_max_pool2d, BinaryMaxPool2DOptions, "BinaryMaxPool2D", validate_binary_max_pool2d,                  \
    make_binary_max_pool2d, 1, 0u)                                                                              \
  X(quantize_levels, QuantizeLevelsOptions, "QuantizeLevels", validate_quantize_levels, make_quantize_levels, 1, \
    0u)                                                                                                         \
  X(sigmoid, SigmoidOptions, "Sigmoid", validate_sigmoid, make_sigmoid, 1, 0u)

#if ONEBIT_MCU
/// OpKind::verify_options of `type`: flatc's switch over the union with a constant type, one case after folding.
template <T type>
bool verify_options(flatbuffers::Verifier& verifier, const void* table) {
  return fb::VerifyOperatorOptionsTable(verifier, table, type);
}
#define ONEBIT_VERIFY_OPTIONS(type) , &verify_options<T::type>
#else
#define ONEBIT_VERIFY_OPTIONS(type)
#endif

#define ONEBIT_ROW(accessor, type, name, validate, make, outputs, optional) \
  constexpr OpKind kRow_##accessor = {T::type, name, validate, make, outputs, optional, \
                                      nullptr ONEBIT_VERIFY_OPTIONS(type)};
ONEBIT_OP_ROWS(ONEBIT_ROW)
#undef ONEBIT_ROW

#define ONEBIT_TYPE(accessor, type, ...) T::type,
constexpr T kTypes[] = {ONEBIT_OP_ROWS(ONEBIT_TYPE)};
#undef ONEBIT_TYPE
#define ONEBIT_NAME(accessor, type, name, ...) name,
constexpr const char* kNames[] = {ONEBIT_OP_ROWS(ONEBIT_NAME)};
#undef ONEBIT_NAME
#define ONEBIT_ACCESSOR_NAME(accessor, ...) #accessor,
constexpr const char* kAccessorNames[] = {ONEBIT_OP_ROWS(ONEBIT_ACCESSOR_NAME)};
#undef ONEBIT_ACCESSOR_NAME

constexpr bool rows_in_schema_order() {
  for (size_t i = 0; i < std::size(kTypes); ++i)
    if (size_t(kTypes[i]) != i + 1) return false;
  return true;
}
static_assert(rows_in_schema_order(), "ONEBIT_OP_ROWS: row i must be OperatorOptions value i + 1");
static_assert(std::size(kTypes) == size_t(T::MAX), "ONEBIT_OP_ROWS: one row per OperatorOptions value");
static_assert(size_t(T::MAX) < size_t(OpResolver::kMaxTypes), "OpResolver::kMaxTypes: too small for the schema");

// Conv2D and FullyConnected with 1-bit weights (BWN) too, BinaryConv2D with k-bit operands too: rows of
// their own (ops::conv2d_binary_weights(), ops::fully_connected_binary_weights(), ops::binary_conv2d_levels()),
// so that a firmware whose model has float weights / binary operands only (the rows above) does not link the
// float x 1-bit or the k-bit kernels. The full table holds these.
constexpr OpKind kRow_conv2d_binary_weights = {T::Conv2DOptions, "Conv2D", validate_conv2d_binary_weights,
                                               make_conv2d_binary_weights, 1, 0u, &kRow_conv2d
                                               ONEBIT_VERIFY_OPTIONS(Conv2DOptions)};
constexpr OpKind kRow_fully_connected_binary_weights = {T::FullyConnectedOptions, "FullyConnected",
                                                        validate_fully_connected_binary_weights,
                                                        make_fully_connected_binary_weights, 1, 0u,
                                                        &kRow_fully_connected
                                                        ONEBIT_VERIFY_OPTIONS(FullyConnectedOptions)};
constexpr OpKind kRow_binary_conv2d_levels = {T::BinaryConv2DOptions, "BinaryConv2D", validate_binary_conv2d_levels,
                                              make_binary_conv2d_levels, 2, 1u << 4 | 1u << 5,
                                              &kRow_binary_conv2d ONEBIT_VERIFY_OPTIONS(BinaryConv2DOptions)};
constexpr const OpKind* kWideRows[] = {&kRow_conv2d_binary_weights, &kRow_fully_connected_binary_weights,
                                       &kRow_binary_conv2d_levels};
constexpr const OpKind* widest(const OpKind* row) {
  for (const OpKind* wide : kWideRows)
    if (wide->includes == row) return wide;
  return row;
}

#define ONEBIT_ROW_POINTER(accessor, ...) widest(&kRow_##accessor),
constexpr const OpKind* kAllRows[] = {ONEBIT_OP_ROWS(ONEBIT_ROW_POINTER)};
#undef ONEBIT_ROW_POINTER

}  // namespace

const OpKind* find_op_kind(fb::OperatorOptions type) { return OpResolver::all().find(int(type)); }

const char* op_kind_name(fb::OperatorOptions type) {
  const size_t v = size_t(type);
  return v >= 1 && v <= std::size(kNames) ? kNames[v - 1] : "";
}

const char* op_accessor_name(fb::OperatorOptions type) {
  const size_t v = size_t(type);
  return v >= 1 && v <= std::size(kAccessorNames) ? kAccessorNames[v - 1] : "";
}

OpKindList all_op_kinds() { return {kAllRows, std::size(kAllRows)}; }

}  // namespace rt

const OpResolver& OpResolver::all() {
  static const OpResolver everything = [] {
    OpResolver r;
    for (const rt::OpKind* k : rt::kAllRows) r.add(*k);
    return r;
  }();
  return everything;
}

OpResolver& OpResolver::add(const rt::OpKind& kind) {
  const rt::OpKind* held = kinds_[size_t(kind.type)];
  if (held != nullptr && held->includes == &kind) return *this;  // already there in a wider form
  kinds_[size_t(kind.type)] = &kind;
  return *this;
}

const rt::OpKind* OpResolver::find(int type) const {
  return type >= 1 && type < kMaxTypes ? kinds_[size_t(type)] : nullptr;
}

size_t OpResolver::size() const {
  size_t n = 0;
  for (const rt::OpKind* k : kinds_) n += k != nullptr;
  return n;
}

namespace ops {
#define ONEBIT_ACCESSOR(accessor, ...) \
  const rt::OpKind& accessor() { return rt::kRow_##accessor; }
ONEBIT_OP_ROWS(ONEBIT_ACCESSOR)
#undef ONEBIT_ACCESSOR
const rt::OpKind& conv2d_binary_weights() { return rt::kRow_conv2d_binary_weights; }
const rt::OpKind& fully_connected_binary_weights() { return rt::kRow_fully_connected_binary_weights; }
const rt::OpKind& binary_conv2d_levels() { return rt::kRow_binary_conv2d_levels; }
}  // namespace ops

}  // namespace onebit
