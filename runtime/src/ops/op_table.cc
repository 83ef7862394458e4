// The operator table (see op_table.h): one row per fb::OperatorOptions value, in schema order, so that
// find_op_kind is an index. The static_asserts keep the order and the count in step with the schema.
#include "ops/op_table.h"

#include <iterator>

#include "ops/op.h"

namespace onebit::rt {
namespace {

using T = fb::OperatorOptions;

constexpr OpKind kOpKinds[] = {
    {T::Conv2DOptions, "Conv2D", validate_conv2d, make_conv2d},
    {T::FullyConnectedOptions, "FullyConnected", validate_fully_connected, make_fully_connected},
    {T::MaxPool2DOptions, "MaxPool2D", validate_max_pool2d, make_max_pool2d},
    {T::AvgPool2DOptions, "AvgPool2D", validate_avg_pool2d, make_avg_pool2d},
    {T::GlobalAvgPoolOptions, "GlobalAvgPool", validate_global_avg_pool, make_global_avg_pool},
    {T::AddOptions, "Add", validate_add, make_add},
    {T::MulOptions, "Mul", validate_mul, make_mul},
    {T::ChannelAffineOptions, "ChannelAffine", validate_channel_affine, make_channel_affine},
    {T::ReluOptions, "Relu", validate_relu, make_relu},
    {T::PReluOptions, "PRelu", validate_prelu, make_prelu},
    {T::ClampOptions, "Clamp", validate_clamp, make_clamp},
    {T::ReshapeOptions, "Reshape", validate_reshape, make_reshape},
    {T::ConcatOptions, "Concat", validate_concat, make_concat},
    {T::SoftmaxOptions, "Softmax", validate_softmax, make_softmax},
    {T::PadOptions, "Pad", validate_pad, make_pad},
    {T::QuantizeOptions, "Quantize", validate_quantize, make_quantize},
    {T::DequantizeOptions, "Dequantize", validate_dequantize, make_dequantize},
    {T::BinaryConv2DOptions, "BinaryConv2D", validate_binary_conv2d, make_binary_conv2d, 2, 1u << 4 | 1u << 5},
    {T::BinaryFullyConnectedOptions, "BinaryFullyConnected", validate_binary_fully_connected,
     make_binary_fully_connected},
    {T::BinaryMaxPool2DOptions, "BinaryMaxPool2D", validate_binary_max_pool2d, make_binary_max_pool2d},
    {T::QuantizeLevelsOptions, "QuantizeLevels", validate_quantize_levels, make_quantize_levels},
};

constexpr bool rows_in_schema_order() {
  for (size_t i = 0; i < std::size(kOpKinds); ++i)
    if (size_t(kOpKinds[i].type) != i + 1) return false;
  return true;
}
static_assert(rows_in_schema_order(), "kOpKinds: row i must be OperatorOptions value i + 1");
static_assert(std::size(kOpKinds) == size_t(T::MAX), "kOpKinds: one row per OperatorOptions value");

}  // namespace

const OpKind* find_op_kind(fb::OperatorOptions type) {
  const size_t v = size_t(type);
  if (v < 1 || v > std::size(kOpKinds)) return nullptr;
  return &kOpKinds[v - 1];
}

OpKindList all_op_kinds() { return {kOpKinds, std::size(kOpKinds)}; }

std::unique_ptr<Op> make_op(fb::OperatorOptions type) {
  const OpKind* kind = find_op_kind(type);
  return kind != nullptr ? kind->make() : nullptr;
}

}  // namespace onebit::rt
