// What an Interpreter holds (Interpreter::Impl), shared by interpreter.cc (the public methods, invoke) and
// interpreter_build.cc (create()'s phases, which fill it in).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "onebit/interpreter.h"
#include "onebit/pool.h"
#include "ops/op.h"

namespace onebit {
namespace rt {

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

/// What create() was asked for, beyond the Impl's own fields.
struct BuildRequest {
  uint64_t budget = 0;              // InterpreterOptions::max_arena_bytes
  uint8_t* caller_arena = nullptr;  // InterpreterOptions::arena, or null: allocate one
  size_t caller_arena_size = 0;
  bool plan_only = false;           // stop once the arena is planned (Interpreter::required_arena_bytes)
  bool in_place = true;             // InterpreterOptions::write_in_place
  bool keep_inputs = true;          // InterpreterOptions::keep_inputs
#if ONEBIT_MCU
  Pool* records = nullptr;          // the caller's arena, records from its start: activations go at its end
#endif
};

/// "1234 bytes", with " (N MiB)" from 1 MiB on.
Text bytes_string(uint64_t bytes);

}  // namespace rt

// Hidden: the class is exported (ONEBIT_API), its implementation is not.
struct __attribute__((visibility("hidden"))) Interpreter::Impl {
  ONEBIT_POOL_NEW_DELETE  // Cortex-M: in the interpreter's arena (onebit/pool.h)
  const Model* model = nullptr;
  kernels::Isa isa = kernels::Isa::kScalar;
  int threads = 1;
  bool profiling = false;
  bool portable_float = false;  // InterpreterOptions::portable_float_kernels
  size_t profile_samples = 0;  // InterpreterOptions::profile_samples
  size_t profile_wrap = 0;  // profiled invokes since the samples filled up (ring position)
  pthreadpool_t pool = nullptr;

  Vec<rt::TensorDesc> tensors;
  Vec<rt::OpContext> contexts;
  Vec<std::unique_ptr<rt::Op>> ops;
  Vec<size_t> offset;  // per tensor, then per operator's scratch: arena offset, or SIZE_MAX
  uint8_t* arena = nullptr;    // the arena's first byte: owned_arena, or inside the caller's buffer
  std::unique_ptr<uint8_t, rt::FreeDeleter> owned_arena;  // null with a caller-owned arena
  size_t arena_bytes = 0;
  size_t arena_lower_bound = 0;

  Vec<TensorInfo> input_info, output_info;
  Vec<float*> inputs;
  Vec<const float*> outputs;
  struct Unpack {
    const uint32_t* bits;
    Vec<float> values;
    size_t pixels, channels;
    rt::TensorLevels levels;
  };
  Vec<Unpack> unpacks;
  Vec<OpProfile> profile;

  ~Impl() {
    ops.clear();  // XNNPACK operators before the pool
    if (pool != nullptr) pthreadpool_destroy(pool);
  }

  /// Where tensor (or scratch buffer) t lives in the arena; null for one that has no bytes there.
  uint8_t* address(int t) { return offset[size_t(t)] == SIZE_MAX ? nullptr : arena + offset[size_t(t)]; }
  /// Before the phases: options checked, ISA chosen, XNNPACK initialized, the thread pool created
  /// (interpreter.cc).
  Status start(const Model& model, const InterpreterOptions& options);
  /// create()'s phases in order (interpreter_build.cc).
  Status build(const rt::BuildRequest& request);
  /// invoke()'s last step: the float copies of bitpacked graph outputs.
  void unpack_outputs();

 private:
  class Phases;  // interpreter_build.cc
};

}  // namespace onebit
