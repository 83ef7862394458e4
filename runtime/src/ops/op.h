// The operator interface of the interpreter. One implementation per operator (or small family) in
// runtime/src/ops/, each only wiring a kernel, an XNNPACK operator or a plain loop to tensors; next to it,
// the operator's validate function. The operator table (op_table.h) lists both, with the type's name.
//
// Lifecycle, all driven by Interpreter::create() except run():
//   prepare()  once, before the arena exists: read options, pack weights, create XNNPACK operators,
//              prepare binary kernels, report scratch_bytes();
//   bind()     once, after the arena is laid out: remember tensor addresses (XNNPACK setup);
//   run()      every invoke(): no allocation, no locks.
#pragma once

#include <pthreadpool.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "../graph.h"
#include "onebit/kernels/isa.h"
#include "onebit/pool.h"

namespace onebit::rt {

struct TensorDesc {
  int index = -1;
  Vec<int> shape;
  fb::DType dtype = fb::DType::Float32;
  TensorLevels levels;                // BitPacked: bit-planes and what their levels mean
  const uint8_t* constant = nullptr;  // model data for constants (16-byte aligned), else null
  size_t bytes = 0;
};

struct OpContext {
  const fb::Operator* op = nullptr;
  const fb::Model* model = nullptr;  // for label()
  size_t index = 0;                  // the operator's, in the model
  Vec<const TensorDesc*> inputs;  // null where an optional input is absent (index -1)
  const TensorDesc* output = nullptr;     // outputs[0]
  Vec<const TensorDesc*> outputs;
  /// Set before bind(): the arena address of every output ([0] is also bind()'s `output`).
  Vec<void*> output_addresses;
  kernels::Isa isa = kernels::Isa::kScalar;
  bool portable_float = false;  // InterpreterOptions::portable_float_kernels: no XNNPACK for float layers
  pthreadpool_t pool = nullptr;
  int threads = 1;

  /// "operator 3 'name' (Type)", formatted when a message needs it (no text kept per operator).
  Text label() const { return describe_op(*model, index); }
  Status fail(const Text& what) const { return Status::Error(label() + ": " + what); }
  template <typename T>
  const T* constant(size_t k) const { return reinterpret_cast<const T*>(inputs[k]->constant); }
};

class Op {
 public:
  ONEBIT_POOL_NEW_DELETE  // Cortex-M: operator objects live in the interpreter's arena (onebit/pool.h)
  virtual ~Op() = default;
  virtual Status prepare(const OpContext& ctx) = 0;
  virtual size_t scratch_bytes() const { return 0; }
  /// inputs: one address per operator input (constants: model data; activations: arena; null if absent).
  virtual Status bind(const OpContext& ctx, const Vec<const void*>& inputs, void* output,
                      void* scratch) = 0;
  virtual Status run(pthreadpool_t pool) = 0;
  /// Fusion with the operator after it (Interpreter::create, not on Cortex-M): `reader`, not yet prepared,
  /// is the only operator reading this one's output, reads it once as its input 0, and that output is no
  /// graph output. Returning true (after prepare(); scratch_bytes() may grow) takes the reader's work over:
  /// this operator's run() writes the reader's output, which bind() then gets as `output`, and its own
  /// output takes no memory; the reader becomes a FusedAway. Conv2D on the stem ukernels takes a MaxPool2D.
  virtual bool fuse_reader(const OpContext& reader) {
    (void)reader;
    return false;
  }

  int64_t binary_macs = 0;
  int64_t float_macs = 0;
  /// Bytes the operator will allocate outside the arena at bind() (XNNPACK's indirection buffers), an upper
  /// bound set by prepare(); counted against InterpreterOptions::max_arena_bytes before bind() runs.
  uint64_t workspace_bytes = 0;
  /// How the operator runs where the model leaves a choice (a static string; OpProfile::route): for an
  /// int8-marked float layer "int8" or e.g. "fp32 (int8 slower on avx512)" (ops/int8_route.cc); else "".
  const char* route = "";
};

/// An operator of one input and one output that needs nothing at bind() but their addresses: x_ (In) and
/// y_ (Out) for run().
template <class In, class Out>
class UnaryOp : public Op {
 public:
  Status bind(const OpContext&, const Vec<const void*>& inputs, void* output, void*) override {
    x_ = static_cast<const In*>(inputs[0]);
    y_ = static_cast<Out*>(output);
    return Status::Ok();
  }

 protected:
  const In* x_ = nullptr;
  Out* y_ = nullptr;
};

/// An operator whose work the one before it took over (Op::fuse_reader): nothing to prepare, bind or run.
class FusedAway final : public Op {
 public:
  FusedAway() { route = "fused into the operator before"; }
  Status prepare(const OpContext&) override { return Status::Ok(); }
  Status bind(const OpContext&, const Vec<const void*>&, void*, void*) override { return Status::Ok(); }
  Status run(pthreadpool_t) override { return Status::Ok(); }
};

/// Upper bound of XNNPACK's indirection buffer (one pointer per kernel tap per output position, as its
/// convolution / depthwise / pooling setups allocate), with a margin for tile rounding.
inline uint64_t xnn_indirection_bytes(int batch, int out_h, int out_w, int kernel_h, int kernel_w) {
  return sizeof(void*) * uint64_t(kernel_h) * uint64_t(kernel_w) *
         (uint64_t(batch) * uint64_t(out_h + 1) * uint64_t(out_w + 1) + 16) +
         64 * sizeof(void*);
}


}  // namespace onebit::rt
