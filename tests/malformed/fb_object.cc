#include "fb_object.h"

#include <stdexcept>

namespace onebit::malformed {
namespace {

using Fbb = flatbuffers::FlatBufferBuilder;
using T = fb::OperatorOptions;

template <typename V>
auto to_vector(const V* v) {
  std::vector<std::remove_cv_t<std::remove_reference_t<decltype(v->Get(0))>>> out;
  if (v != nullptr) out.assign(v->begin(), v->end());
  return out;
}

template <typename O>
void read_conv(const O& o, OptionsT* r) {
  r->kernel_h = o.kernel_h(), r->kernel_w = o.kernel_w(), r->stride_h = o.stride_h(), r->stride_w = o.stride_w();
  r->dilation_h = o.dilation_h(), r->dilation_w = o.dilation_w(), r->groups = o.groups();
  r->pad_top = o.pad_top(), r->pad_left = o.pad_left(), r->pad_bottom = o.pad_bottom(), r->pad_right = o.pad_right();
}
template <typename O>
void read_pool(const O& o, OptionsT* r) {
  r->kernel_h = o.kernel_h(), r->kernel_w = o.kernel_w(), r->stride_h = o.stride_h(), r->stride_w = o.stride_w();
  r->pad_top = o.pad_top(), r->pad_left = o.pad_left(), r->pad_bottom = o.pad_bottom(), r->pad_right = o.pad_right();
}

template <typename O>
void read_clamp(const O& o, OptionsT* r) {
  r->clamp_min = o.clamp_min(), r->clamp_max = o.clamp_max();
}

OptionsT read_options(const fb::Operator& op) {
  OptionsT r;
  switch (op.options_type()) {
    case T::Conv2DOptions: {
      const auto& o = *op.options_as_Conv2DOptions();
      read_conv(o, &r);
      read_clamp(o, &r);
      break;
    }
    case T::FullyConnectedOptions: read_clamp(*op.options_as_FullyConnectedOptions(), &r); break;
    case T::MaxPool2DOptions:
    case T::AvgPool2DOptions: {
      const auto& o = *static_cast<const fb::Pool2DOptions*>(op.options());
      read_pool(o, &r);
      r.count_include_pad = o.count_include_pad();
      break;
    }
    case T::AddOptions: read_clamp(*op.options_as_AddOptions(), &r); break;
    case T::ClampOptions: {
      const auto& o = *op.options_as_ClampOptions();
      r.min = o.min(), r.max = o.max();
      break;
    }
    case T::ConcatOptions: r.axis = op.options_as_ConcatOptions()->axis(); break;
    case T::SoftmaxOptions: r.log = op.options_as_SoftmaxOptions()->log(); break;
    case T::PadOptions: {
      const auto& o = *op.options_as_PadOptions();
      r.pads = to_vector(o.pads());
      r.value = o.value();
      break;
    }
    case T::QuantizeOptions: {
      const auto& o = *op.options_as_QuantizeOptions();
      if (o.flip()) r.flip.assign(o.flip()->begin(), o.flip()->end());
      r.constant = to_vector(o.constant());
      break;
    }
    case T::BinaryConv2DOptions: {
      const auto& o = *op.options_as_BinaryConv2DOptions();
      read_conv(o, &r);
      r.pad_mode = int(o.pad_mode()), r.output = int(o.output());
      read_clamp(o, &r);
      if (o.quantize_flip()) r.flip.assign(o.quantize_flip()->begin(), o.quantize_flip()->end());
      r.constant = to_vector(o.quantize_constant());
      break;
    }
    case T::BinaryFullyConnectedOptions: {
      const auto& o = *op.options_as_BinaryFullyConnectedOptions();
      r.output = int(o.output());
      read_clamp(o, &r);
      break;
    }
    case T::BinaryMaxPool2DOptions: read_pool(*op.options_as_BinaryMaxPool2DOptions(), &r); break;
    default: break;  // the option-less tables
  }
  return r;
}

flatbuffers::Offset<void> write_options(Fbb& f, int type, const OptionsT& o) {
  switch (T(type)) {
    case T::Conv2DOptions:
      return fb::CreateConv2DOptions(f, o.kernel_h, o.kernel_w, o.stride_h, o.stride_w, o.dilation_h, o.dilation_w,
                                     o.pad_top, o.pad_left, o.pad_bottom, o.pad_right, o.groups, o.clamp_min,
                                     o.clamp_max).Union();
    case T::FullyConnectedOptions: return fb::CreateFullyConnectedOptions(f, o.clamp_min, o.clamp_max).Union();
    case T::MaxPool2DOptions:
    case T::AvgPool2DOptions:
      return fb::CreatePool2DOptions(f, o.kernel_h, o.kernel_w, o.stride_h, o.stride_w, o.pad_top, o.pad_left,
                                     o.pad_bottom, o.pad_right, o.count_include_pad).Union();
    case T::GlobalAvgPoolOptions: return fb::CreateGlobalAvgPoolOptions(f).Union();
    case T::AddOptions: return fb::CreateAddOptions(f, o.clamp_min, o.clamp_max).Union();
    case T::MulOptions: return fb::CreateMulOptions(f).Union();
    case T::ChannelAffineOptions: return fb::CreateChannelAffineOptions(f).Union();
    case T::ReluOptions: return fb::CreateReluOptions(f).Union();
    case T::PReluOptions: return fb::CreatePReluOptions(f).Union();
    case T::ClampOptions: return fb::CreateClampOptions(f, o.min, o.max).Union();
    case T::ReshapeOptions: return fb::CreateReshapeOptions(f).Union();
    case T::ConcatOptions: return fb::CreateConcatOptions(f, o.axis).Union();
    case T::SoftmaxOptions: return fb::CreateSoftmaxOptions(f, o.log).Union();
    case T::PadOptions: return fb::CreatePadOptions(f, f.CreateVector(o.pads), o.value).Union();
    case T::QuantizeOptions:
      return fb::CreateQuantizeOptions(f, o.flip.empty() ? 0 : f.CreateVector(o.flip),
                                       o.constant.empty() ? 0 : f.CreateVector(o.constant)).Union();
    case T::DequantizeOptions: return fb::CreateDequantizeOptions(f).Union();
    case T::QuantizeLevelsOptions: return fb::CreateQuantizeLevelsOptions(f).Union();
    case T::BinaryConv2DOptions:
      return fb::CreateBinaryConv2DOptions(f, o.kernel_h, o.kernel_w, o.stride_h, o.stride_w, o.dilation_h,
                                           o.dilation_w, o.pad_top, o.pad_left, o.pad_bottom, o.pad_right, o.groups,
                                           fb::BinaryPadMode(o.pad_mode), fb::OutputKind(o.output), o.clamp_min,
                                           o.clamp_max, o.flip.empty() ? 0 : f.CreateVector(o.flip),
                                           o.constant.empty() ? 0 : f.CreateVector(o.constant)).Union();
    case T::BinaryFullyConnectedOptions:
      return fb::CreateBinaryFullyConnectedOptions(f, fb::OutputKind(o.output), o.clamp_min, o.clamp_max).Union();
    case T::BinaryMaxPool2DOptions:
      return fb::CreateBinaryMaxPool2DOptions(f, o.kernel_h, o.kernel_w, o.stride_h, o.stride_w, o.pad_top,
                                              o.pad_left, o.pad_bottom, o.pad_right).Union();
    default: return fb::CreateReluOptions(f).Union();  // some table, for an unknown type value
  }
}

}  // namespace

int ModelT::tensor(const std::string& name) const {
  for (size_t i = 0; i < tensors.size(); ++i)
    if (tensors[i].name == name) return int(i);
  throw std::out_of_range("no tensor '" + name + "'");
}

int ModelT::op_index(const std::string& name) const {
  for (size_t i = 0; i < operators.size(); ++i)
    if (operators[i].name == name) return int(i);
  throw std::out_of_range("no operator '" + name + "'");
}

BufferT& ModelT::buffer_of(const std::string& name) {
  const int b = tensors[size_t(tensor(name))].buffer;
  if (b < 0) throw std::out_of_range("tensor '" + name + "' is not a constant");
  return buffers[size_t(b)];
}

ModelT decode(const std::vector<uint8_t>& bytes) {
  flatbuffers::Verifier verifier(bytes.data(), bytes.size());
  if (!fb::VerifyModelBuffer(verifier)) throw std::runtime_error("decode: not a verified model");
  const fb::Model& m = *fb::GetModel(bytes.data());
  ModelT r;
  r.version = m.version();
  if (m.tensors())
    for (const fb::Tensor* t : *m.tensors()) {
      TensorT x;
      x.name = t->name() ? t->name()->str() : "";
      x.has_shape = t->shape() != nullptr;
      x.shape = to_vector(t->shape());
      x.dtype = int(t->dtype());
      x.buffer = t->buffer();
      x.bits = t->bits();
      x.levels = int(t->levels());
      x.zero_level = t->zero_level();
      x.level_scale = t->level_scale();
      r.tensors.push_back(std::move(x));
    }
  if (m.buffers())
    for (const fb::Buffer* b : *m.buffers()) r.buffers.push_back({b->data() != nullptr, to_vector(b->data())});
  if (m.operators())
    for (const fb::Operator* op : *m.operators()) {
      OperatorT x;
      x.name = op->name() ? op->name()->str() : "";
      x.type = int(op->options_type());
      x.has_options = op->options() != nullptr;
      if (x.has_options) x.options = read_options(*op);
      x.inputs = to_vector(op->inputs());
      x.outputs = to_vector(op->outputs());
      r.operators.push_back(std::move(x));
    }
  r.inputs = to_vector(m.inputs());
  r.outputs = to_vector(m.outputs());
  if (const fb::Metadata* md = m.metadata()) {
    r.has_metadata = true;
    r.metadata.producer = md->producer() ? md->producer()->str() : "";
    r.metadata.source = md->source() ? md->source()->str() : "";
    r.metadata.input_shape = to_vector(md->input_shape());
    r.metadata.input_mean = to_vector(md->input_mean());
    r.metadata.input_std = to_vector(md->input_std());
    if (md->labels())
      for (const auto* s : *md->labels()) r.metadata.labels.push_back(s->str());
  }
  return r;
}

std::vector<uint8_t> encode(const ModelT& m) {
  Fbb f;
  std::vector<flatbuffers::Offset<fb::Buffer>> bs;
  for (const BufferT& b : m.buffers) {
    if (!b.has_data) {
      bs.push_back(fb::CreateBuffer(f));
      continue;
    }
    f.ForceVectorAlignment(b.data.size(), 1, 16);
    bs.push_back(fb::CreateBuffer(f, f.CreateVector(b.data)));
  }
  std::vector<flatbuffers::Offset<fb::Tensor>> ts;
  for (const TensorT& t : m.tensors)
    ts.push_back(fb::CreateTensor(f, f.CreateString(t.name), t.has_shape ? f.CreateVector(t.shape) : 0,
                                  fb::DType(t.dtype), t.buffer, uint8_t(t.bits), fb::LevelKind(t.levels),
                                  uint8_t(t.zero_level), t.level_scale));
  std::vector<flatbuffers::Offset<fb::Operator>> os;
  for (const OperatorT& op : m.operators) {
    const auto options =
        op.has_options ? write_options(f, op.options_table >= 0 ? op.options_table : op.type, op.options)
                       : flatbuffers::Offset<void>();
    os.push_back(fb::CreateOperator(f, fb::OperatorOptions(op.type), options, f.CreateVector(op.inputs),
                                    f.CreateVector(op.outputs), f.CreateString(op.name)));
  }
  flatbuffers::Offset<fb::Metadata> md = 0;
  if (m.has_metadata) {
    std::vector<flatbuffers::Offset<flatbuffers::String>> labels;
    for (const std::string& s : m.metadata.labels) labels.push_back(f.CreateString(s));
    md = fb::CreateMetadata(f, f.CreateString(m.metadata.producer), f.CreateString(m.metadata.source),
                            f.CreateVector(m.metadata.input_shape), f.CreateVector(m.metadata.input_mean),
                            f.CreateVector(m.metadata.input_std), f.CreateVector(labels));
  }
  const auto root = fb::CreateModel(f, m.version, f.CreateVector(ts), f.CreateVector(bs), f.CreateVector(os),
                                    f.CreateVector(m.inputs), f.CreateVector(m.outputs), md);
  fb::FinishModelBuffer(f, root);
  return std::vector<uint8_t>(f.GetBufferPointer(), f.GetBufferPointer() + f.GetSize());
}

}  // namespace onebit::malformed
