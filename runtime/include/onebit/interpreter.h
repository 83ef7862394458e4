// Runs a Model. Lifecycle: create() plans (execution order, tensor lifetimes, one arena laid out by a greedy
// liveness-based planner) and prepares every operator once (kernel choice for this CPU, weight packing,
// XNNPACK operator creation); invoke() then runs with no allocation and no locks. The arena is the
// interpreter's own, or a buffer the caller gives (InterpreterOptions::arena).
// An Interpreter is not shared between threads; two interpreters on one Model are fine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "onebit/export.h"
#include "onebit/pool.h"
#include "onebit/model.h"
#include "onebit/status.h"

namespace onebit {

struct InterpreterOptions {
  /// Threads of the one pthreadpool shared by our kernels and XNNPACK; 1 = truly single-threaded (no pool).
  int threads = 1;
  /// "" = best path this CPU supports, else a name onebit_isa_name() lists (onebit.h); the
  /// environment variable ONEBIT_ISA is used when this is empty. Asking for a path the CPU or the build
  /// lacks is an error. (Cortex-M: "" or "scalar"; no environment there.)
  std::string isa;
  /// Record per-operator wall time on every invoke() (not in the Cortex-M build: create() refuses it there;
  /// time invoke() with the board's counter).
  bool profiling = false;
  /// Memory budget of create(): the most it may allocate for what the model's declared shapes imply, i.e.
  /// the arena (activations, graph inputs and outputs, per-operator scratch and im2col blocks), XNNPACK's
  /// indirection buffers of windowed operators (an upper-bound estimate), and the float copies of bitpacked
  /// graph outputs. Weights prepared from the model are not counted: they are bounded by the model's size.
  /// Every size is checked against this before anything of that size is allocated; exceeding it is an
  /// error naming the tensor or operator. Default 1 GiB: real BNNs need far less (Bi-Real-Net-18 at 224x224
  /// has an arena of about 1.6 MB, 4.6 MB on the portable float kernels, which store the stem's output; the
  /// shipped Fashion-MNIST model about 0.3 MB), so 1 GiB leaves room for large inputs and batches, and is
  /// also the largest single tensor a model may declare (2^28 Float32 elements), while a hostile file of a
  /// few hundred bytes cannot make create() take more.
  size_t max_arena_bytes = size_t(1) << 30;
  /// With profiling: samples kept per operator (a ring: beyond it each new sample overwrites the oldest).
  /// 0 = max(16, min(1024, 2^20 / operators)); larger values are capped at max(16, 2^20 / operators).
  size_t profile_samples = 0;

  /// Alignment the interpreter gives its arena (a cache line).
  static constexpr size_t kArenaAlignment = 64;
  /// Caller-owned arena (null = the interpreter allocates its own): create() lays every activation, graph
  /// input and output and every operator's scratch out in these arena_size bytes and allocates no arena.
  /// The arena starts at the buffer's first kArenaAlignment-aligned byte (a misaligned buffer is aligned up,
  /// not rejected), so the buffer needs required_arena_bytes() bytes from there: that many if it is aligned,
  /// up to kArenaAlignment - 1 more if not. A smaller buffer makes create() fail with a message naming the
  /// bytes needed. The buffer must outlive the interpreter and serve no other interpreter while it lives;
  /// create() overwrites it. Still allocated outside it: operator objects and prepared (packed) weights,
  /// XNNPACK's operators and indirection buffers, the float copies of bitpacked graph outputs, and the
  /// interpreter's bookkeeping. max_arena_bytes applies as without it.
  /// Cortex-M build: required, and nothing is allocated outside it: the Interpreter and its records
  /// (operator objects, kernel tables, tensor and operator records) take its first bytes, the activations
  /// the aligned bytes after them; required_arena_bytes() and arena_bytes() count both. A buffer too small
  /// for the activations makes create() fail with the bytes needed; one too small for the records alone
  /// stops the program (onebit_pool_fatal, onebit/pool.h).
  void* arena = nullptr;
  size_t arena_size = 0;
  /// Full-precision layers (Conv2D, FullyConnected, pools, Add, ReLU / Clamp, PReLU) run on onebit's
  /// portable float kernels (kernels/include/onebit/kernels/float.h: plain C++, one fixed order of float
  /// operations) instead of XNNPACK. The Cortex-M build has only these; on the desktop they are the
  /// reference XNNPACK's results are checked against, and an x86 run with them computes bit for bit what a
  /// Cortex-M run computes. Binary kernels are still chosen by `isa`. Int8 float layers (a model converted
  /// with --int8-float-layers) need XNNPACK: create() fails on them with this set.
  bool portable_float_kernels = false;
  /// Operators that compute each output element from the same element of one input (ChannelAffine, Mul,
  /// ReLU / Clamp / PReLU on the portable kernels, a BinaryConv2D's fused residual) write over that input
  /// where they are its last reader, and so does an unpadded AvgPool2D on the portable kernels with one
  /// thread (over its input's first bytes, the rest of that buffer freed after it), so the arena is smaller
  /// and the outputs are the same (the shipped W1A1 model's arena: 259 KiB -> 199 KiB with XNNPACK; on the
  /// Cortex-M4, 104,976 B of activations with keep_inputs off). false: every output gets bytes of its own.
  bool write_in_place = true;
  /// Graph inputs live for the whole invoke (invoke() never writes them, so invoking again on the same input
  /// gives the same outputs). false: an input's bytes are free for other buffers once its last reader has
  /// run, as TensorFlow Lite Micro does; write the input before every invoke(). The arena is smaller where
  /// an input is live at the peak (the shipped W1A1 model on the Cortex-M4: 3,136 B).
  bool keep_inputs = true;
};

struct TensorInfo {
  String name;
  Vec<int> shape;
  bool bitpacked = false;  // stored bitpacked; output(i) gives floats (±1, or level_scale * L for k-bit levels)
};

struct OpProfile {
  String name;             // source node name
  String type;             // e.g. "BinaryConv2D"; "LogSoftmax" for a Softmax with log set
  Vec<int> output_shape;
  double last_ms = 0;      // wall time of the latest invoke()
  /// One per profiled invoke(), for the latest invokes: room for InterpreterOptions::profile_samples is
  /// reserved at create; beyond that each new sample overwrites the oldest (invoke() never allocates).
  Vec<double> samples_ms;
  int64_t binary_macs = 0;
  int64_t float_macs = 0;
  /// How the operator runs where the model leaves a choice: for a float layer converted with
  /// --int8-float-layers "int8", or "fp32 (int8 slower on avx512)" where this CPU's static rule runs it in
  /// fp32 (on its weights dequantized); for a Conv2D on onebit's stem ukernels that computes the MaxPool2D
  /// after it too (without storing its own output) "stem + MaxPool2D", and for that pool "fused into the
  /// operator before" (its time is the Conv2D's); empty for every other operator.
  String route;
};

class ONEBIT_API Interpreter {
 public:
  ONEBIT_POOL_NEW_DELETE  // Cortex-M: the Interpreter lives in its arena (onebit/pool.h); nothing on the desktop
  ~Interpreter();
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  /// Never throws: an allocation failure (or any size beyond options.max_arena_bytes) is an error Status.
  static Status create(const Model& model, const InterpreterOptions& options, std::unique_ptr<Interpreter>* out);
  /// The arena bytes create() with these options would plan (what arena_bytes() of that interpreter
  /// returns, and what a caller-owned, kArenaAlignment-aligned InterpreterOptions::arena must hold): runs
  /// create()'s phases up to the plan, preparing every operator, but allocates no arena. options.arena is
  /// ignored (Cortex-M: required, the records are built in it to be counted). The arena depends on the
  /// ISA and the thread count (scratch), so ask with the options you will create with.
  static Status required_arena_bytes(const Model& model, const InterpreterOptions& options, size_t* bytes);

  size_t input_count() const;
  size_t output_count() const;
  const TensorInfo& input_info(size_t i) const;
  const TensorInfo& output_info(size_t i) const;
  /// Float input buffer (NHWC), valid for the interpreter's lifetime; write before invoke(). invoke() never
  /// writes it (graph inputs live for the whole invoke), so invoking again on the same input gives the same
  /// outputs, bit for bit; with InterpreterOptions::keep_inputs false, write it before every invoke().
  float* input(size_t i);
  /// Float output buffer, valid until the next invoke().
  const float* output(size_t i) const;

  Status invoke();

  size_t arena_bytes() const;
  /// The least any arena plan could take for this model: the largest sum of the buffers live at one step
  /// (activations, graph inputs and outputs, scratch). arena_bytes() / this = the planner's overhead. 0 in
  /// the Cortex-M build (a diagnostic for tools, not computed there).
  size_t arena_lower_bound_bytes() const;
  /// Diagnostics (planner tests, memory reports): where activation tensor `tensor` (an index into the
  /// model's tensors) lives in the arena. False for constants and tensors no operator uses.
  bool tensor_arena_span(int tensor, size_t* offset, size_t* bytes) const;
  const char* isa_name() const;
  int threads() const;
  /// One entry per operator in execution order (also without profiling: then samples_ms stays empty; on
  /// Cortex-M, which refuses InterpreterOptions::profiling, always empty).
  const Vec<OpProfile>& profile() const;
  void clear_profile();

 private:
  Interpreter();
  static Status create_unchecked(const Model& model, const InterpreterOptions& options,
                                 std::unique_ptr<Interpreter>* out);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace onebit
