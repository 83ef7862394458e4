// Semantic validation of a verified model (the FlatBuffers Verifier has already checked that every offset
// and vector lies inside the buffer). Graph level here: version, tensors, buffers, graph inputs/outputs,
// index ranges, single producer per tensor and definition before use (which also rules out cycles), graph
// inputs and outputs listed once, and every tensor's declared size within LoadOptions::max_tensor_bytes.
// Operator-specific checks are each operator's validate function in ops/*.cc, reached through ops/op_table.h
// (validate_ops.cc holds the checks several operators share and the lookup).
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "model_access.h"
#include "onebit/model.h"
#include "onebit/pool.h"
#include "validate.h"
#include "ops/op_table.h"

namespace onebit {
namespace {

using rt::TensorFacts;

Text tensor_label(const fb::Model& m, size_t i) {
  return "tensor " + num(i) + " '" + rt::tensor_name(m, i) + "'";
}

/// The k-bit fields (bit_contract.h "k-bit tensors"): on a BitPacked tensor bits 1..4 and a kind that allows
/// them (Binary: 1, Ternary: 2, Unipolar / Bipolar: 1..4), zero_level < 2^bits and 0 unless Unipolar,
/// level_scale finite and nonzero; on Float32 / Int32 tensors all four must keep their defaults.
template <typename Label>
Status check_levels(const fb::Tensor& t, const Label& label, rt::TensorLevels* out) {
  const rt::TensorLevels l = rt::tensor_levels(t);
  const int kind = int(t.levels());
  if (t.dtype() != fb::DType::BitPacked) {
    if (l.bits != 1 || kind != 0 || l.zero_level != 0 || !(l.scale == 1.0f))
      return Status::Error(label() + ": " + rt::dtype_name(t.dtype()) + " tensor has bits " + num(l.bits) +
                           ", levels " + num(kind) + ", zero_level " + num(l.zero_level) +
                           ", level_scale " + num(l.scale) +
                           ", expected the defaults (bits 1, Binary, 0, 1): these fields describe BitPacked tensors only");
    *out = rt::TensorLevels();
    return Status::Ok();
  }
  if (l.bits < 1 || l.bits > 4)
    return Status::Error(label() + ": bits = " + num(l.bits) + ", expected 1..4 (bit-planes of a BitPacked tensor)");
  core::LevelKind parsed;
  if (!core::from_schema(t.levels(), &parsed))
    return Status::Error(label() + ": levels = " + num(kind) +
                         ", expected Binary (0), Unipolar (1), Bipolar (2) or Ternary (3)");
  if (l.kind == LevelKind::kBinary && l.bits != 1)
    return Status::Error(label() + ": levels Binary with bits = " + num(l.bits) + ", expected bits 1");
  if (l.kind == LevelKind::kTernary && l.bits != 2)
    return Status::Error(label() + ": levels Ternary with bits = " + num(l.bits) + ", expected bits 2");
  if (l.zero_level >= (1 << l.bits))
    return Status::Error(label() + ": zero_level = " + num(l.zero_level) + ", expected 0.." +
                         num((1 << l.bits) - 1) + " (a level index of " + num(l.bits) + " bits)");
  if (l.zero_level != 0 && l.kind != LevelKind::kUnipolar)
    return Status::Error(label() + ": zero_level = " + num(l.zero_level) + " with levels " +
                         rt::level_kind_name(l.kind) + ", expected 0 (zero_level is for Unipolar levels only)");
  if (!std::isfinite(l.scale) || l.scale == 0.0f)
    return Status::Error(label() + ": level_scale = " + num(l.scale) + ", expected a finite nonzero value");
  *out = l;
  return Status::Ok();
}

/// A BitPacked constant's rows (along the last dimension, C values) end in ceil(C / 32) * 32 - C padding bits,
/// which the format makes 0 (schema/onebit.fbs): kernels that read weights where they lie (the Cortex-M
/// build) count them, so a file with any set is malformed on every build.
template <typename Label>
Status check_padding_bits(const rt::TensorFacts& facts, const Label& label) {
  const size_t c = size_t(facts.shape.back()), used = c % 32;
  if (used == 0) return Status::Ok();
  const uint32_t padding = ~((uint32_t(1) << used) - 1);
  const size_t words = (c + 31) / 32;
  const size_t rows = size_t(facts.levels.bits) * (rt::element_count(facts.shape) / c);
  for (size_t r = 0; r < rows; ++r) {
    uint32_t last;
    std::memcpy(&last, facts.data + (r * words + words - 1) * 4, 4);
    if ((last & padding) != 0)
      return Status::Error(label() + ": row " + num(r) + " has channel-padding bits set (bits " + num(used) +
                           "..31 of its last word must be 0: BitPacked rows are padded with 0-bits)");
  }
  return Status::Ok();
}

Status check_tensor(const fb::Model& m, size_t i, const LoadOptions& options, TensorFacts* facts) {
  const fb::Tensor* t = m.tensors()->Get(flatbuffers::uoffset_t(i));
  // Messages name the tensor; the name is formatted only when one is written (no stack held meanwhile).
  const auto label = [&m, i] { return tensor_label(m, i); };
  if (t->shape() == nullptr) return Status::Error(label() + ": shape is missing");
  const size_t rank = t->shape()->size();
  if (rank < 1 || rank > size_t(rt::kMaxRank))
    return Status::Error(label() + ": rank " + num(rank) + ", expected 1.." + num(rt::kMaxRank));
  uint64_t count = 1;
  for (size_t d = 0; d < rank; ++d) {
    const int dim = t->shape()->Get(flatbuffers::uoffset_t(d));
    if (dim < 1 || dim > rt::kMaxDim)
      return Status::Error(label() + ": shape[" + num(d) + "] = " + num(dim) + ", expected 1.." +
                           num(rt::kMaxDim));
    count *= uint64_t(dim);  // each factor <= 2^20 and we stop once above 2^28: no overflow
    if (count > rt::kMaxElements)
      return Status::Error(label() + ": more than " + num(rt::kMaxElements) + " elements");
  }
  facts->shape = rt::tensor_shape(*t);
  const int dtype = int(t->dtype());
  if (dtype < int(fb::DType::MIN) || dtype > int(fb::DType::MAX))
    return Status::Error(label() + ": dtype " + num(dtype) +
                         " is not Float32, BitPacked, Int32, Float16 or Int8");
  facts->dtype = t->dtype();
  const bool constant_only = facts->dtype == fb::DType::Float16 || facts->dtype == fb::DType::Int8;
  ONEBIT_RETURN_IF_ERROR(check_levels(*t, label, &facts->levels));
  const uint64_t bytes = rt::tensor_bytes(facts->dtype, facts->shape, facts->levels.bits);
  if (bytes > options.max_tensor_bytes)
    return Status::Error(label() + ": shape " + rt::shape_string(facts->shape) + " of " + rt::dtype_name(facts->dtype) +
                         " needs " + num(bytes) + " bytes, more than the limit of " +
                         num(options.max_tensor_bytes) + " (LoadOptions::max_tensor_bytes)");
  const int buffer = t->buffer();
  if (buffer == -1 && constant_only)
    return Status::Error(label() + ": dtype " + rt::dtype_name(facts->dtype) +
                         " is for constants (weights) only, but the tensor has no buffer");
  if (buffer == -1) return Status::Ok();
  const size_t buffers = m.buffers() ? m.buffers()->size() : 0;
  if (buffer < 0 || size_t(buffer) >= buffers)
    return Status::Error(label() + ": buffer " + num(buffer) + " out of range (model has " +
                         num(buffers) + " buffers; -1 means an activation)");
  const fb::Buffer* b = m.buffers()->Get(flatbuffers::uoffset_t(buffer));
  const size_t have = b->data() ? b->data()->size() : 0;
  const size_t need = rt::tensor_bytes(facts->dtype, facts->shape, facts->levels.bits);
  if (have != need)
    return Status::Error(label() + ": buffer " + num(buffer) + " holds " + num(have) +
                         " bytes, expected " + num(need) + " for shape " + rt::shape_string(facts->shape) +
                         " of " + rt::dtype_name(facts->dtype) +
                         (facts->levels.bits > 1 ? " with " + num(facts->levels.bits) + " bit-planes" : ""));
  if (reinterpret_cast<uintptr_t>(b->data()->data()) % 4 != 0)
    return Status::Error(label() + ": buffer " + num(buffer) + " data is not 4-byte aligned");
  facts->constant = true;
  facts->data = b->data()->data();
  if (facts->dtype == fb::DType::BitPacked) return check_padding_bits(*facts, label);
  return Status::Ok();
}

/// listed: per tensor, the graph output that lists it (-1: none yet), to reject an output listed twice.
Status check_graph_io(const fb::Model& m, const Vec<TensorFacts>& facts, bool inputs,
                      Vec<int>* producer, Vec<int>* listed) {
  const auto* list = inputs ? m.inputs() : m.outputs();
  const char* what = inputs ? "graph input" : "graph output";
  if (list == nullptr || list->size() == 0) return Status::Error(Text("model has no ") + what + "s");
  for (size_t k = 0; k < list->size(); ++k) {
    const int t = list->Get(flatbuffers::uoffset_t(k));
    const auto label = [what, k] { return Text(what) + " " + num(k); };
    if (t < 0 || size_t(t) >= facts.size())
      return Status::Error(label() + ": tensor index " + num(t) + " out of range (model has " +
                           num(facts.size()) + " tensors)");
    if (facts[size_t(t)].constant)
      return Status::Error(label() + ": " + tensor_label(m, size_t(t)) + " is a constant, expected an activation");
    if (inputs) {
      if (facts[size_t(t)].dtype != fb::DType::Float32)
        return Status::Error(label() + ": " + tensor_label(m, size_t(t)) + " has dtype " +
                             rt::dtype_name(facts[size_t(t)].dtype) + ", expected Float32");
      if ((*producer)[size_t(t)] != -1)
        return Status::Error(label() + ": " + tensor_label(m, size_t(t)) + " is listed twice");
      (*producer)[size_t(t)] = -2;
    } else {
      if (facts[size_t(t)].dtype == fb::DType::Int32)
        return Status::Error(label() + ": " + tensor_label(m, size_t(t)) + " has dtype Int32, expected Float32 or BitPacked");
      if ((*producer)[size_t(t)] == -1)
        return Status::Error(label() + ": " + tensor_label(m, size_t(t)) + " is never produced by an operator");
      if ((*listed)[size_t(t)] >= 0)
        return Status::Error(label() + ": " + tensor_label(m, size_t(t)) + " is listed twice (also graph output " +
                             num((*listed)[size_t(t)]) + ")");
      (*listed)[size_t(t)] = int(k);
    }
  }
  return Status::Ok();
}

Status check_operator_graph(const fb::Model& m, const OpResolver& resolver, const Vec<TensorFacts>& facts,
                            size_t i, Vec<int>* producer) {
  const fb::Operator* op = m.operators()->Get(flatbuffers::uoffset_t(i));
  const auto label = [&m, i] { return rt::describe_op(m, i); };
  if (*rt::op_type_name(op->options_type()) == '\0')
    return Status::Error(label() + ": options type " + num(int(op->options_type())) +
                         " is not a known operator");
  if (op->options() == nullptr) return Status::Error(label() + ": options table is missing");
  const rt::OpKind* kind = resolver.find(int(op->options_type()));
  if (kind == nullptr)
    return Status::Error(label() + ": not among the operators this program registered (LoadOptions::ops: add "
                         "onebit::ops::" + rt::op_accessor_name(op->options_type()) + "())");
  const size_t n_in = op->inputs() ? op->inputs()->size() : 0;
  for (size_t k = 0; k < n_in; ++k) {
    const int t = op->inputs()->Get(flatbuffers::uoffset_t(k));
    if (t == -1 && k < 32 && (kind->optional_inputs >> k & 1u) != 0) continue;  // absent optional input
    if (t < 0 || size_t(t) >= facts.size())
      return Status::Error(label() + ": input " + num(k) + ": tensor index " + num(t) +
                           " out of range (model has " + num(facts.size()) + " tensors)");
    if (!facts[size_t(t)].constant && (*producer)[size_t(t)] == -1)
      return Status::Error(label() + ": input " + num(k) + " (" + tensor_label(m, size_t(t)) +
                           ") is used before any operator produces it (operators must be in execution order)");
  }
  const size_t n_out = op->outputs() ? op->outputs()->size() : 0;
  if (n_out < 1 || n_out > size_t(kind->max_outputs))
    return Status::Error(label() + ": has " + num(n_out) + " outputs, expected " +
                         (kind->max_outputs == 1 ? Text("1") : "1.." + num(kind->max_outputs)));
  for (size_t j = 0; j < n_out; ++j) {
    const int t = op->outputs()->Get(flatbuffers::uoffset_t(j));
    const Text out = ": output " + num(j);
    if (t < 0 || size_t(t) >= facts.size())
      return Status::Error(label() + out + ": tensor index " + num(t) + " out of range (model has " +
                           num(facts.size()) + " tensors)");
    if (facts[size_t(t)].constant)
      return Status::Error(label() + out + " (" + tensor_label(m, size_t(t)) + ") is a constant tensor");
    const int prev = (*producer)[size_t(t)];
    if (prev == -2) return Status::Error(label() + out + " (" + tensor_label(m, size_t(t)) + ") is a graph input");
    if (prev >= 0)
      return Status::Error(label() + out + " (" + tensor_label(m, size_t(t)) + ") is already produced by " +
                           rt::describe_op(m, size_t(prev)));
    for (size_t k = 0; k < j; ++k)
      if (op->outputs()->Get(flatbuffers::uoffset_t(k)) == t)
        return Status::Error(label() + out + " (" + tensor_label(m, size_t(t)) + ") is also output " + num(k));
  }
  ONEBIT_RETURN_IF_ERROR(kind->validate(rt::ValidateContext(m, facts, i)));
  for (size_t j = 0; j < n_out; ++j) (*producer)[size_t(op->outputs()->Get(flatbuffers::uoffset_t(j)))] = int(i);
  return Status::Ok();
}

}  // namespace

Status validate_model(const fb::Model& m, const LoadOptions& options) {
  if (m.version() != kFormatVersion)
    return Status::Error("unsupported format version " + num(m.version()) + " (this runtime reads version " +
                         num(kFormatVersion) + ")");
  const size_t n = m.tensors() ? m.tensors()->size() : 0;
  Vec<rt::TensorFacts> facts(n);
  for (size_t i = 0; i < n; ++i) ONEBIT_RETURN_IF_ERROR(check_tensor(m, i, options, &facts[i]));
  // producer[t]: -1 not yet defined, -2 graph input, else the producing operator's index.
  Vec<int> producer(n, -1);
  Vec<int> listed(n, -1);
  ONEBIT_RETURN_IF_ERROR(check_graph_io(m, facts, true, &producer, &listed));
  const OpResolver* resolver = rt::load_resolver(options);
  if (resolver == nullptr)
    return Status::Error("no operator resolver: the Cortex-M build needs LoadOptions::ops (onebit/op_resolver.h)");
  const size_t ops = m.operators() ? m.operators()->size() : 0;
  for (size_t i = 0; i < ops; ++i) ONEBIT_RETURN_IF_ERROR(check_operator_graph(m, *resolver, facts, i, &producer));
  return check_graph_io(m, facts, false, &producer, &listed);
}

}  // namespace onebit
