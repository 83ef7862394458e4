// A loaded, verified and validated model. Loading maps the file (or copies a caller's buffer) and runs the
// FlatBuffers Verifier and then the semantic checks of runtime/src/validate.cc; a Model that exists is safe
// to read. Immutable after loading, so several interpreters may share one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "onebit/status.h"

namespace onebit {
namespace fb { struct Model; }

inline constexpr uint32_t kFormatVersion = 1;

class Model {
 public:
  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  /// Maps `path` read-only and validates it. Errors name the file.
  static Status load_file(const std::string& path, std::unique_ptr<Model>* model);
  /// Copies `size` bytes and validates them.
  static Status load_buffer(const void* data, size_t size, std::unique_ptr<Model>* model);

  const fb::Model& fb() const { return *root_; }
  const uint8_t* data() const { return data_; }
  size_t size_bytes() const { return size_; }

 private:
  Model() = default;
  static Status finish_load(std::unique_ptr<Model> model, const std::string& origin, std::unique_ptr<Model>* out);

  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  void* mapping_ = nullptr;        // mmap'ed file, or null
  std::vector<uint8_t> owned_;     // copied buffer (aligned storage managed in model.cc)
  const fb::Model* root_ = nullptr;
};

/// Semantic validation of a verified FlatBuffer (exposed for tests): indices in range, shapes consistent,
/// buffer sizes equal to what shapes imply, operator input dtypes, no use before definition.
Status validate_model(const fb::Model& model);

}  // namespace onebit
