#include "ops/op.h"

namespace onebit::rt {

std::unique_ptr<Op> make_op(fb::OperatorOptions type) {
  using T = fb::OperatorOptions;
  switch (type) {
    case T::Conv2DOptions: return make_conv2d();
    case T::FullyConnectedOptions: return make_fully_connected();
    case T::MaxPool2DOptions: return make_pool2d(true);
    case T::AvgPool2DOptions: return make_pool2d(false);
    case T::GlobalAvgPoolOptions: return make_global_avg_pool();
    case T::AddOptions: return make_add();
    case T::MulOptions: return make_channel_affine(false);
    case T::ChannelAffineOptions: return make_channel_affine(true);
    case T::ReluOptions: return make_clamp(true);
    case T::PReluOptions: return make_prelu();
    case T::ClampOptions: return make_clamp(false);
    case T::ReshapeOptions: return make_reshape();
    case T::ConcatOptions: return make_concat();
    case T::SoftmaxOptions: return make_softmax();
    case T::PadOptions: return make_pad();
    case T::QuantizeOptions: return make_quantize();
    case T::DequantizeOptions: return make_dequantize();
    case T::BinaryConv2DOptions: return make_binary_conv2d(false);
    case T::BinaryFullyConnectedOptions: return make_binary_conv2d(true);
    case T::BinaryMaxPool2DOptions: return make_binary_max_pool();
    default: return nullptr;
  }
}

}  // namespace onebit::rt
