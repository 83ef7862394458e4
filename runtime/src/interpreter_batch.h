// A model's bytes with another batch size: what an interpreter for N images per invoke runs (the C API's
// onebit_interpreter_options.batch). The copy is loaded and validated like any file, so every operator's
// shapes are checked again at the new batch.
#pragma once

#include <cstdint>

#include "onebit/model.h"
#include "onebit/pool.h"
#include "onebit/status.h"

namespace onebit::rt {

/// The batch of a model: the first dimension of its first graph input (0 when it has no input or the input
/// is a scalar).
int model_batch(const Model& model);

/// `model`'s bytes with the first dimension of every activation (every tensor without constant data) set
/// to `batch`. Each of those must have the model's batch (model_batch) as its first dimension, or it is an
/// error naming the tensor: a model whose activations mix images (a Reshape folding the batch into another
/// dimension, a Concat along it) cannot be re-batched; run it image by image instead. Constants keep their
/// shapes: the weights are shared by all the images of a batch.
Status rebatched_bytes(const Model& model, int batch, Vec<uint8_t>* bytes);

}  // namespace onebit::rt
