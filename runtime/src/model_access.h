// The runtime's own view of a loaded Model: the validated FlatBuffer behind the public class (which exposes
// no generated type), and the semantic validation entry point (also used by the ModelBuilder and tests).
#pragma once

#include "graph.h"
#include "onebit/model.h"

namespace onebit {

/// Semantic validation of a verified FlatBuffer: indices in range, shapes consistent, buffer sizes equal to
/// what shapes imply, tensor sizes within options.max_tensor_bytes, operator input dtypes, no use before
/// definition, no graph input or output listed twice.
Status validate_model(const fb::Model& model, const LoadOptions& options = LoadOptions());

namespace rt {

struct ModelAccess {
  static const fb::Model& flatbuffer(const Model& model);
  /// The operators the model was validated against (LoadOptions::ops, or OpResolver::all()).
  static const OpResolver& ops(const Model& model);
  /// Cortex-M: what the load took of LoadOptions::memory (Model::memory_bytes).
  static void set_memory_bytes(Model& model, size_t bytes);
};

/// LoadOptions::ops, or OpResolver::all() where null is allowed (not in the Cortex-M build: null there).
const OpResolver* load_resolver(const LoadOptions& options);

/// The validated FlatBuffer of a loaded model (valid for the Model's lifetime).
inline const fb::Model& model_flatbuffer(const Model& model) { return ModelAccess::flatbuffer(model); }

}  // namespace rt
}  // namespace onebit
