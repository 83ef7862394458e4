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
//  - load_in_place uses the caller's bytes where they are (a const array in flash on a microcontroller, or
//    one compiled into a program): 16-byte aligned, kept unchanged for the Model's lifetime, and followed by
//    64 readable bytes (SIMD kernels and XNNPACK may read up to that far past a constant tensor; the arrays
//    `onebit-embed` writes carry them).
// The Cortex-M build (ONEBIT_MCU) has no files: load_in_place and load_buffer only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "onebit/export.h"
#include "onebit/pool.h"
#include "onebit/op_resolver.h"
#include "onebit/status.h"

namespace onebit {
namespace rt { struct ModelAccess; }

inline constexpr uint32_t kFormatVersion = 1;

/// What the model file says about itself (its Metadata table; empty fields when the file has none).
struct ModelInfo {
  uint32_t format_version = 0;
  String producer;                  // e.g. "onebit-convert"
  String source;                    // e.g. the ONNX file it was converted from
  Vec<int> input_shape;             // as the producer recorded it (NHWC)
  /// Input normalization the model expects the caller to apply, x' = (x - mean[c]) / std[c]: one value, or
  /// one per input channel; empty when none was recorded.
  Vec<float> input_mean, input_std;
  Vec<String> labels;               // class names, one per output class, or empty
};

/// One operator as the file declares it, in execution order (the order of Interpreter::profile()).
struct OperatorInfo {
  String name;                      // source node name
  String type;                      // e.g. "BinaryConv2D", "LogSoftmax"
  Vec<int> output_shape;            // NHWC or [N, C]
  int64_t binary_params = 0;        // elements of bitpacked constant inputs (1 bit each, or k for k-bit)
  int64_t float_params = 0;         // elements of float / int32 constant inputs
  uint64_t param_bytes = 0;         // bytes those constants take in the file
  bool binary = false;              // computes on bitpacked data (BinaryConv2D, BinaryFullyConnected, ...)
};

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
  /// The operators the model may use (op_resolver.h); it must outlive the Model and its interpreters. Null:
  /// OpResolver::all() (every operator), except in the Cortex-M build, which needs one (flash follows it).
  const OpResolver* ops = nullptr;
  /// The Cortex-M build only (the desktop ignores them: it uses the heap): the region the Model and its
  /// records (validation facts, ModelInfo, OperatorInfo; load_buffer's copy of the bytes) are placed in,
  /// nothing else being allocated. It must outlive the Model and hold no other Model; Model::memory_bytes()
  /// says how much a model took. A region too small for them stops the program (onebit_pool_fatal in onebit/pool.h).
  void* memory = nullptr;
  size_t memory_bytes = 0;
};

class ONEBIT_API Model {
 public:
  ONEBIT_POOL_NEW_DELETE  // Cortex-M: the Model lives in LoadOptions::memory (onebit/pool.h); nothing on the desktop
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
  /// Validates `size` bytes at `data` and uses them in place (see above: aligned to 16 bytes, unchanged and
  /// alive while the Model lives, 64 readable bytes after them). A misaligned `data` is an error. Never throws.
  static Status load_in_place(const void* data, size_t size, std::unique_ptr<Model>* model);
  static Status load_in_place(const void* data, size_t size, const LoadOptions& options,
                              std::unique_ptr<Model>* model);

  /// Cortex-M: the bytes of LoadOptions::memory this Model took (at most; for sizing that region). 0 on the
  /// desktop.
  size_t memory_bytes() const;
  /// The file's bytes (valid for the Model's lifetime) and their count.
  const uint8_t* data() const;
  size_t size_bytes() const;
  const ModelInfo& info() const;
  /// Every operator in execution order, with its parameter counts (empty in the Cortex-M build: a
  /// description for tools, kept out of a firmware's flash and records).
  const Vec<OperatorInfo>& operators() const;

 private:
  Model();
  friend struct rt::ModelAccess;  // the runtime's own access to the validated FlatBuffer
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace onebit
