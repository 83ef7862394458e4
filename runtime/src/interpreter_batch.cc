// rebatched_bytes (interpreter_batch.h): the model's FlatBuffer copied and its activations' first
// dimensions rewritten in the copy. A shape vector is written where it lies in the copy (the same offset as
// in the loaded model's bytes), always to the value `batch` rather than scaled, so a vector two tensors share
// is rewritten once, harmlessly, the second time.
#include "interpreter_batch.h"

#include <cstring>

#include "graph.h"
#include "model_access.h"
#include "onebit/text.h"

namespace onebit::rt {

int model_batch(const Model& model) {
  const fb::Model& m = model_flatbuffer(model);
  if (m.inputs()->size() == 0) return 0;
  const fb::Tensor* t = m.tensors()->Get(flatbuffers::uoffset_t(m.inputs()->Get(0)));
  return t->shape() != nullptr && t->shape()->size() > 0 ? t->shape()->Get(0) : 0;
}

Status rebatched_bytes(const Model& model, int batch, Vec<uint8_t>* bytes) {
  const int from = model_batch(model);
  if (from <= 0) return Status::Error(Text("the model's first input has no batch dimension"));
  if (batch < 1 || batch > kMaxDim) return Status::Error("batch = " + num(batch) + ", expected 1.." + num(kMaxDim));
  const fb::Model& m = model_flatbuffer(model);
  const uint8_t* base = model.data();
  bytes->assign(base, base + model.size_bytes());
  for (flatbuffers::uoffset_t i = 0; i < m.tensors()->size(); ++i) {
    const fb::Tensor* t = m.tensors()->Get(i);
    if (t->buffer() >= 0) continue;  // a constant: shared by every image
    const flatbuffers::Vector<int32_t>* shape = t->shape();
    if (shape == nullptr || shape->size() == 0 || shape->Get(0) != from)
      return Status::Error("cannot run the model with batch " + num(batch) + ": tensor " + num(i) + " '" +
                           tensor_name(m, i) + "' of shape " + shape_string(tensor_shape(*t)) +
                           " does not have the model's batch " + num(from) + " as its first dimension");
    const size_t at = size_t(reinterpret_cast<const uint8_t*>(shape->Data()) - base);
    flatbuffers::WriteScalar<int32_t>(bytes->data() + at, batch);
  }
  return Status::Ok();
}

}  // namespace onebit::rt
