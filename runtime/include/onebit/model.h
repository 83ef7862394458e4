// A loaded, verified and validated model. Loading reads or maps the file (or copies a caller's buffer) and
// runs the FlatBuffers Verifier and then the semantic checks of runtime/src/validate.cc; a Model that exists
// is safe to read. Immutable after loading, so several interpreters may share one.
//
// Where the bytes live:
//  - load_file reads a file smaller than LoadOptions::map_threshold_bytes (16 MiB by default: every model
//    we know of) into memory the Model owns; the file may then change or disappear. A larger file is mapped
//    read-only (MAP_PRIVATE) and used in place for the Model's lifetime: the caller must not truncate or
//    rewrite that file while the Model exists. Truncating a mapped file makes later reads of the vanished
//    pages raise SIGBUS, which no validation can prevent (replacing the file by rename, as
//    write_file_atomically does, is safe: the mapping keeps the old inode).
//  - load_buffer copies the caller's bytes into memory the Model owns; the caller's buffer may be freed
//    or reused as soon as it returns.
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

/// Limits of what a model file may declare, checked while loading (before anything of that size is
/// allocated). The defaults accept every real model by a wide margin.
struct LoadOptions {
  /// Largest tensor, in bytes (4 per Float32 / Int32 element; BitPacked: packed words per row). Default
  /// 1 GiB, the default InterpreterOptions::max_arena_bytes, since a larger tensor could never run with
  /// it; the format also caps a tensor at 2^28 elements and 2^20 per dimension. Constant tensors are
  /// additionally bounded by the file's size (their bytes are in it).
  uint64_t max_tensor_bytes = uint64_t(1) << 30;
  /// FlatBuffers Verifier limits: tables verified (every tensor, operator, options table and buffer is one;
  /// Bi-Real-Net-18 needs 293, the shipped model 185), and nesting depth (both need 3). A file over a limit is
  /// rejected with a message naming the limit.
  uint32_t max_tables = 1u << 20;
  uint32_t max_depth = 16;
  /// load_file: files of fewer bytes are read into memory, larger ones mapped (see above). 0 maps always.
  size_t map_threshold_bytes = size_t(16) << 20;
};

class Model {
 public:
  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  /// Reads (or, for large files, maps: see above) `path` and validates it. Errors name the file. Never
  /// throws: an allocation failure is an error Status.
  static Status load_file(const std::string& path, std::unique_ptr<Model>* model);
  static Status load_file(const std::string& path, const LoadOptions& options, std::unique_ptr<Model>* model);
  /// Copies `size` bytes and validates them. Never throws.
  static Status load_buffer(const void* data, size_t size, std::unique_ptr<Model>* model);
  static Status load_buffer(const void* data, size_t size, const LoadOptions& options, std::unique_ptr<Model>* model);

  const fb::Model& fb() const { return *root_; }
  const uint8_t* data() const { return data_; }
  size_t size_bytes() const { return size_; }

 private:
  Model() = default;
  static Status finish_load(std::unique_ptr<Model> model, const std::string& origin, const LoadOptions& options,
                            std::unique_ptr<Model>* out);
  static Status read_file(int fd, size_t size, const std::string& path, Model* model);
  uint8_t* own(size_t size);  // aligned storage of `size` bytes + slack in owned_

  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  void* mapping_ = nullptr;        // mmap'ed file, or null
  std::vector<uint8_t> owned_;     // copied buffer (aligned storage managed in model.cc)
  const fb::Model* root_ = nullptr;
};

/// Semantic validation of a verified FlatBuffer (exposed for tests): indices in range, shapes consistent,
/// buffer sizes equal to what shapes imply, tensor sizes within options.max_tensor_bytes, operator input
/// dtypes, no use before definition, no graph input or output listed twice.
Status validate_model(const fb::Model& model, const LoadOptions& options = LoadOptions());

}  // namespace onebit
