#include "graph.h"

#include "onebit/kernels/bit_contract.h"
#include "onebit/pool.h"
#include "ops/op_table.h"

namespace onebit::rt {

Vec<int> tensor_shape(const fb::Tensor& tensor) {
  Vec<int> shape;
  if (tensor.shape() != nullptr) copy_vector(*tensor.shape(), &shape);
  return shape;
}

size_t element_count(const Vec<int>& shape) {
  size_t n = 1;
  for (int d : shape) n *= size_t(d);
  return n;
}

size_t tensor_bytes(fb::DType dtype, const Vec<int>& shape, int bits) {
  if (shape.empty()) return 0;
  if (dtype == fb::DType::Float16) return element_count(shape) * 2;
  if (dtype == fb::DType::Int8) return element_count(shape);
  if (dtype != fb::DType::BitPacked) return element_count(shape) * 4;
  const size_t last = size_t(shape.back());
  return size_t(bits) * (element_count(shape) / last * packed_words(last) * sizeof(PackedWord));
}

TensorLevels tensor_levels(const fb::Tensor& tensor) {
  LevelKind kind = LevelKind::kBinary;  // an out-of-range kind is rejected by validation (validate.cc)
  core::from_schema(tensor.levels(), &kind);
  return {kind, int(tensor.bits()), int(tensor.zero_level()), tensor.level_scale()};
}

int max_abs_level(const TensorLevels& l) { return core::max_abs_level(l.kind, l.bits, l.zero_level); }

Text levels_string(const TensorLevels& l) {
  if (l.kind == LevelKind::kBinary || l.kind == LevelKind::kTernary) return level_kind_name(l.kind);
  Text s = Text(level_kind_name(l.kind)) + " " + num(l.bits) + "-bit";
  if (l.kind == LevelKind::kUnipolar && l.zero_level != 0) s += " (zero_level " + num(l.zero_level) + ")";
  return s;
}

const char* op_type_name(fb::OperatorOptions type) { return op_kind_name(type); }

const char* op_type_name(const fb::Operator& op) {
  if (const fb::SoftmaxOptions* o = op.options_as_SoftmaxOptions(); o != nullptr && o->log()) return "LogSoftmax";
  return op_type_name(op.options_type());
}

const char* dtype_name(fb::DType dtype) {
  switch (dtype) {
    case fb::DType::Float32: return "Float32";
    case fb::DType::BitPacked: return "BitPacked";
    case fb::DType::Int32: return "Int32";
    case fb::DType::Float16: return "Float16";
    case fb::DType::Int8: return "Int8";
  }
  return "unknown";
}

Text shape_string(const Vec<int>& shape) {
  Text s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + num(shape[i]);
  return s + "]";
}

Text describe_op(const fb::Model& model, size_t op_index) {
  Text s = "operator " + num(op_index);
  const auto* ops = model.operators();
  if (ops == nullptr || op_index >= ops->size()) return s;
  const fb::Operator* op = ops->Get(flatbuffers::uoffset_t(op_index));
  s += " '" + Text(op->name() ? op->name()->c_str() : "") + "'";
  const char* type = op_type_name(*op);
  s += Text(" (") + (*type ? type : ("unknown type " + num(int(op->options_type()))).c_str()) + ")";
  return s;
}

const char* tensor_name(const fb::Model& model, size_t tensor_index) {
  const auto* tensors = model.tensors();
  if (tensors == nullptr || tensor_index >= tensors->size()) return "";
  const fb::Tensor* t = tensors->Get(flatbuffers::uoffset_t(tensor_index));
  return t->name() ? t->name()->c_str() : "";
}


}  // namespace onebit::rt
