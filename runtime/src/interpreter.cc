// Interpreter: plan the arena, prepare every operator once, invoke with no allocation.
//
// Steps are operator indices. An activation is live from the step that writes it to the last step that
// reads it; graph inputs and outputs live for the whole invoke (step 0 to one step past the last operator,
// where bitpacked outputs are unpacked for the user: ±1 for Binary tensors, level_scale * L for k-bit
// ones), so invoke() never overwrites an input and a caller may invoke twice on one input. Each operator's
// scratch is a buffer live only at its own step, so scratch shares the arena with activations. Constants
// are read in place from the model.
//
// Memory budget (InterpreterOptions::max_arena_bytes), checked in this order, each before the allocation it
// guards: every activation tensor alone (before any operator is prepared); each operator's scratch and
// XNNPACK indirection estimate (after its prepare(), which allocates only what the model's weights bound);
// then the planned arena plus all indirection buffers plus the unpacked bitpacked outputs (before the
// arena, the unpack buffers and XNNPACK's setup). create() catches std::bad_alloc / std::length_error (a
// vector or an XNNPACK-side failure) and returns them as errors.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

#include <xnnpack.h>

#include "onebit/interpreter.h"
#include "onebit/kernels/pack.h"
#include "model_access.h"
#include "ops/op.h"
#include "planner.h"

namespace onebit {
namespace {

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

Status choose_isa(const std::string& requested, kernels::Isa* isa) {
  std::string name = requested;
  const char* env = std::getenv("ONEBIT_ISA");
  if (name.empty() && env != nullptr) name = env;
  if (name.empty()) {
    *isa = kernels::best_isa();
    return Status::Ok();
  }
  if (!kernels::parse_isa(name, isa))
    return Status::Error("unknown ISA '" + name + "' (expected " + core::isa_name_list() + ")");
  if (!kernels::isa_supported(*isa))
    return Status::Error(std::string("ISA '") + name + "' is not available: " +
                         (kernels::isa_compiled(*isa) ? "this CPU does not support it" : "not compiled into this build"));
  return Status::Ok();
}

}  // namespace

// Hidden: the class is exported (ONEBIT_API), its implementation is not.
struct __attribute__((visibility("hidden"))) Interpreter::Impl {
  const Model* model = nullptr;
  kernels::Isa isa = kernels::Isa::kScalar;
  int threads = 1;
  bool profiling = false;
  size_t profile_samples = 0;  // InterpreterOptions::profile_samples
  size_t profile_wrap = 0;  // profiled invokes since the samples filled up (ring position)
  pthreadpool_t pool = nullptr;

  std::vector<rt::TensorDesc> tensors;
  std::vector<rt::OpContext> contexts;
  std::vector<std::unique_ptr<rt::Op>> ops;
  std::vector<size_t> offset;  // per tensor: arena offset, or SIZE_MAX
  std::unique_ptr<uint8_t, FreeDeleter> arena;
  size_t arena_bytes = 0;
  size_t arena_lower_bound = 0;

  std::vector<TensorInfo> input_info, output_info;
  std::vector<float*> inputs;
  std::vector<const float*> outputs;
  struct Unpack {
    const uint32_t* bits;
    std::vector<float> values;
    size_t pixels, channels;
    rt::TensorLevels levels;
  };
  std::vector<Unpack> unpacks;
  std::vector<OpProfile> profile;

  ~Impl() {
    ops.clear();  // XNNPACK operators before the pool
    if (pool != nullptr) pthreadpool_destroy(pool);
  }

  uint8_t* address(int t) { return arena.get() + offset[size_t(t)]; }
  Status build(uint64_t budget);
};

namespace {

std::string bytes_string(uint64_t bytes) {
  std::string s = std::to_string(bytes) + " bytes";
  if (bytes >= (uint64_t(1) << 20)) s += " (" + std::to_string(bytes >> 20) + " MiB)";
  return s;
}

std::string tensor_label(const fb::Model& m, size_t t) {
  return "tensor " + std::to_string(t) + " '" + rt::tensor_name(m, t) + "'";
}

}  // namespace

Status Interpreter::Impl::build(uint64_t budget) {
  const fb::Model& m = rt::model_flatbuffer(*model);
  const size_t n_tensors = m.tensors()->size();
  const size_t n_ops = m.operators() ? m.operators()->size() : 0;
  const std::string over = ", more than max_arena_bytes = " + bytes_string(budget);

  tensors.resize(n_tensors);
  for (size_t i = 0; i < n_tensors; ++i) {
    const fb::Tensor* t = m.tensors()->Get(flatbuffers::uoffset_t(i));
    rt::TensorDesc& d = tensors[i];
    d.index = int(i);
    d.shape = rt::tensor_shape(*t);
    d.dtype = t->dtype();
    if (d.dtype == fb::DType::BitPacked) d.levels = rt::tensor_levels(*t);
    d.bytes = rt::tensor_bytes(d.dtype, d.shape, d.levels.bits);
    if (t->buffer() >= 0) d.constant = m.buffers()->Get(flatbuffers::uoffset_t(t->buffer()))->data()->data();
  }

  // Which activations exist (graph inputs and operator outputs; a tensor nothing uses gets no memory), and
  // each of them alone within the budget, before any operator is prepared.
  std::vector<bool> used(n_tensors, false);
  for (int t : *m.inputs()) used[size_t(t)] = true;
  for (size_t i = 0; i < n_ops; ++i)
    for (int t : *m.operators()->Get(flatbuffers::uoffset_t(i))->outputs()) used[size_t(t)] = true;
  for (size_t t = 0; t < n_tensors; ++t) {
    if (used[t] && tensors[t].bytes > budget)
      return Status::Error(tensor_label(m, t) + " of shape " + rt::shape_string(tensors[t].shape) + " needs " +
                           bytes_string(tensors[t].bytes) + over);
  }

  // Prepare every operator (weights, XNNPACK operators, kernel choice) and record lifetimes. Graph inputs
  // and outputs live from step 0 to step n_ops.
  std::vector<rt::PlannedBuffer> buffers(n_tensors + n_ops);
  for (size_t t = 0; t < n_tensors; ++t) {
    if (used[t]) buffers[t] = {tensors[t].bytes, 0, 0};
  }
  uint64_t workspace = 0;
  contexts.resize(n_ops);
  for (size_t i = 0; i < n_ops; ++i) {
    const fb::Operator* op = m.operators()->Get(flatbuffers::uoffset_t(i));
    rt::OpContext& ctx = contexts[i];
    ctx.op = op;
    ctx.label = rt::describe_op(m, i);
    for (int t : *op->inputs()) {
      ctx.inputs.push_back(t >= 0 ? &tensors[size_t(t)] : nullptr);
      if (t >= 0 && tensors[size_t(t)].constant == nullptr) buffers[size_t(t)].last = int(i);
    }
    for (int out : *op->outputs()) {
      ctx.outputs.push_back(&tensors[size_t(out)]);
      buffers[size_t(out)] = {tensors[size_t(out)].bytes, int(i), int(i)};
    }
    ctx.output = ctx.outputs[0];
    ctx.isa = isa;
    ctx.pool = pool;
    ctx.threads = threads;
    std::unique_ptr<rt::Op> impl = rt::make_op(op->options_type());
    if (impl == nullptr) return ctx.fail("no implementation");
    ONEBIT_RETURN_IF_ERROR(impl->prepare(ctx));
    if (impl->scratch_bytes() > budget)
      return ctx.fail("scratch (im2col rows, accumulators) for " + std::to_string(threads) + " thread(s) needs " +
                      bytes_string(impl->scratch_bytes()) + over);
    if (impl->workspace_bytes > budget)
      return ctx.fail("XNNPACK indirection buffer for output " + rt::shape_string(ctx.output->shape) +
                      " would need up to " + bytes_string(impl->workspace_bytes) + over);
    workspace += impl->workspace_bytes;  // each term <= budget <= SIZE_MAX: no overflow in 64 bits
    buffers[n_tensors + i] = {impl->scratch_bytes(), int(i), int(i)};
    ops.push_back(std::move(impl));
  }
  for (int t : *m.inputs()) buffers[size_t(t)].last = int(n_ops);
  for (int t : *m.outputs()) buffers[size_t(t)].last = int(n_ops);
  for (size_t t = 0; t < n_tensors; ++t) {
    if (!used[t] || tensors[t].constant != nullptr) buffers[t] = {0, 0, 0};
  }
  // A Reshape's output aliases its input (same bytes, another shape): the pair becomes one buffer live over
  // both lifetimes, and the Reshape does nothing. Not when either end is a graph input or output, so a
  // caller's input and output never share memory.
  std::vector<int> alias_of(n_tensors, -1);
  std::vector<bool> graph_io(n_tensors, false);
  for (int t : *m.inputs()) graph_io[size_t(t)] = true;
  for (int t : *m.outputs()) graph_io[size_t(t)] = true;
  for (size_t i = 0; i < n_ops; ++i) {
    const rt::OpContext& ctx = contexts[i];
    if (ctx.op->options_type() != fb::OperatorOptions::ReshapeOptions) continue;
    const rt::TensorDesc* x = ctx.inputs[0];
    const rt::TensorDesc* y = ctx.output;
    if (x->constant != nullptr || x->bytes != y->bytes || graph_io[size_t(x->index)] || graph_io[size_t(y->index)])
      continue;
    const int root = alias_of[size_t(x->index)] >= 0 ? alias_of[size_t(x->index)] : x->index;
    alias_of[size_t(y->index)] = root;
    buffers[size_t(root)].last = std::max(buffers[size_t(root)].last, buffers[size_t(y->index)].last);
    buffers[size_t(y->index)] = {0, 0, 0};
  }
  uint64_t unpacked = 0, sum = 0;
  for (int t : *m.outputs()) {
    if (tensors[size_t(t)].dtype == fb::DType::BitPacked) unpacked += rt::element_count(tensors[size_t(t)].shape) * 4;
  }
  // The plan's offsets are bounded by the sum of the (aligned) sizes; keep that sum representable in
  // size_t (32-bit targets), whatever the budget.
  for (const rt::PlannedBuffer& b : buffers) sum += b.bytes + rt::kArenaAlignment;
  if (sum > SIZE_MAX / 2)
    return Status::Error("activations and scratch sum to " + bytes_string(sum) +
                         ", more than this platform's address space allows");

  const rt::ArenaPlan plan = rt::plan_arena(buffers);
  arena_bytes = plan.arena_bytes;
  arena_lower_bound = rt::liveness_lower_bound(buffers);
  if (uint64_t(arena_bytes) + workspace + unpacked > budget) {
    // Name where it peaks: the step with the most bytes live, and the largest buffer live there.
    int step = 0;
    const size_t live = rt::liveness_lower_bound(buffers, &step);
    size_t largest = 0;
    for (size_t k = 0; k < buffers.size(); ++k) {
      const rt::PlannedBuffer& b = buffers[k];
      if (b.first <= step && step <= b.last && b.bytes > buffers[largest].bytes) largest = k;
    }
    const std::string where =
        size_t(step) < n_ops ? "at " + contexts[size_t(step)].label : "after the last operator (graph outputs)";
    const std::string what = largest < n_tensors ? tensor_label(m, largest)
                                                 : "the scratch of " + contexts[largest - n_tensors].label;
    return Status::Error("the model needs " + bytes_string(uint64_t(arena_bytes) + workspace + unpacked) + " (arena " +
                         bytes_string(arena_bytes) + ", XNNPACK indirection buffers " + bytes_string(workspace) +
                         ", unpacked bitpacked outputs " + bytes_string(unpacked) + ")" + over + "; " + where +
                         " " + bytes_string(live) + " are live, the largest being " + what + " (" +
                         bytes_string(buffers[largest].bytes) + ")");
  }
  arena.reset(static_cast<uint8_t*>(std::aligned_alloc(64, (arena_bytes + 63) / 64 * 64)));
  if (!arena) return Status::Error("cannot allocate the arena (" + bytes_string(arena_bytes) + ")");
  std::memset(arena.get(), 0, arena_bytes);
  offset.assign(n_tensors, SIZE_MAX);
  for (size_t t = 0; t < n_tensors; ++t) {
    if (used[t] && tensors[t].constant == nullptr) offset[t] = plan.offsets[t];
  }
  for (size_t t = 0; t < n_tensors; ++t) {
    if (alias_of[t] >= 0) offset[t] = offset[size_t(alias_of[t])];
  }

  // Bind tensor addresses (XNNPACK setup).
  for (size_t i = 0; i < n_ops; ++i) {
    std::vector<const void*> in;
    for (const rt::TensorDesc* t : contexts[i].inputs)
      in.push_back(t == nullptr ? nullptr : t->constant != nullptr ? static_cast<const void*>(t->constant) : address(t->index));
    for (const rt::TensorDesc* t : contexts[i].outputs) contexts[i].output_addresses.push_back(address(t->index));
    void* scratch = buffers[n_tensors + i].bytes ? arena.get() + plan.offsets[n_tensors + i] : nullptr;
    ONEBIT_RETURN_IF_ERROR(ops[i]->bind(contexts[i], in, address(contexts[i].output->index), scratch));
  }

  for (int t : *m.inputs()) {
    input_info.push_back({rt::tensor_name(m, size_t(t)), tensors[size_t(t)].shape, false});
    inputs.push_back(reinterpret_cast<float*>(address(t)));
  }
  for (int t : *m.outputs()) {
    const rt::TensorDesc& d = tensors[size_t(t)];
    const bool bitpacked = d.dtype == fb::DType::BitPacked;
    output_info.push_back({rt::tensor_name(m, size_t(t)), d.shape, bitpacked});
    if (!bitpacked) {
      outputs.push_back(reinterpret_cast<const float*>(address(t)));
      continue;
    }
    const size_t channels = size_t(d.shape.back());
    unpacks.push_back({reinterpret_cast<const uint32_t*>(address(t)), std::vector<float>(rt::element_count(d.shape)),
                       rt::element_count(d.shape) / channels, channels, d.levels});
    outputs.push_back(nullptr);  // set below, once unpacks stops growing
  }
  for (size_t k = 0, u = 0; k < outputs.size(); ++k) {
    if (outputs[k] == nullptr) outputs[k] = unpacks[u++].values.data();
  }

  // One entry per operator whether or not profiling is on (name, type, shape, MACs are static facts);
  // only profiled invokes add samples.
  // Samples per operator: at most max(16, 2^20 / operators), so <= 8 MiB in all for any model.
  const size_t most_samples = std::max<size_t>(16, (size_t(1) << 20) / std::max<size_t>(n_ops, 1));
  const size_t samples = profile_samples == 0 ? std::min<size_t>(most_samples, 1024)
                                              : std::min(profile_samples, most_samples);
  for (size_t i = 0; i < n_ops; ++i) {
    const fb::Operator* op = m.operators()->Get(flatbuffers::uoffset_t(i));
    OpProfile p;
    p.name = op->name() ? op->name()->str() : "";
    p.type = rt::op_type_name(*op);
    p.output_shape = contexts[i].output->shape;
    p.binary_macs = ops[i]->binary_macs;
    p.float_macs = ops[i]->float_macs;
    if (profiling) p.samples_ms.reserve(samples);
    profile.push_back(std::move(p));
  }
  return Status::Ok();
}

Interpreter::Interpreter() : impl_(new Impl()) {}
Interpreter::~Interpreter() = default;

Status Interpreter::create(const Model& model, const InterpreterOptions& options, std::unique_ptr<Interpreter>* out) {
  try {
    return create_unchecked(model, options, out);
  } catch (const std::bad_alloc&) {
    return Status::Error("out of memory while preparing the model (max_arena_bytes = " +
                         bytes_string(options.max_arena_bytes) + ")");
  } catch (const std::length_error& e) {
    return Status::Error(std::string("a size is too large while preparing the model: ") + e.what());
  } catch (const std::exception& e) {
    return Status::Error(std::string("unexpected error while preparing the model: ") + e.what());
  }
}

Status Interpreter::create_unchecked(const Model& model, const InterpreterOptions& options,
                                     std::unique_ptr<Interpreter>* out) {
  if (options.threads < 1 || options.threads > 1024)
    return Status::Error("threads = " + std::to_string(options.threads) + ", expected 1..1024");
  std::unique_ptr<Interpreter> interp(new Interpreter());
  Impl& impl = *interp->impl_;
  ONEBIT_RETURN_IF_ERROR(choose_isa(options.isa, &impl.isa));
  const xnn_status xs = xnn_initialize(nullptr);
  if (xs != xnn_status_success)
    return Status::Error("xnn_initialize failed (XNNPACK status " + std::to_string(int(xs)) + ")");
  impl.model = &model;
  impl.threads = options.threads;
  impl.profiling = options.profiling;
  impl.profile_samples = options.profile_samples;
  if (options.threads > 1) {
    impl.pool = pthreadpool_create(size_t(options.threads));
    if (impl.pool == nullptr) return Status::Error("cannot create a pool of " + std::to_string(options.threads) + " threads");
  }
  ONEBIT_RETURN_IF_ERROR(impl.build(uint64_t(options.max_arena_bytes)));
  *out = std::move(interp);
  return Status::Ok();
}

size_t Interpreter::input_count() const { return impl_->inputs.size(); }
size_t Interpreter::output_count() const { return impl_->outputs.size(); }
const TensorInfo& Interpreter::input_info(size_t i) const { return impl_->input_info.at(i); }
const TensorInfo& Interpreter::output_info(size_t i) const { return impl_->output_info.at(i); }
float* Interpreter::input(size_t i) { return impl_->inputs.at(i); }
const float* Interpreter::output(size_t i) const { return impl_->outputs.at(i); }

Status Interpreter::invoke() {
  Impl& impl = *impl_;
  const bool full = impl.profiling && !impl.profile.empty() &&
                    impl.profile[0].samples_ms.size() == impl.profile[0].samples_ms.capacity();
  for (size_t i = 0; i < impl.ops.size(); ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    const Status s = impl.ops[i]->run(impl.pool);
    if (!s.ok()) return impl.contexts[i].fail(s.message());
    if (impl.profiling) {
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      impl.profile[i].last_ms = ms;
      // Reserved at create; once full, the oldest sample is overwritten (ring order), so invoke() never
      // allocates however many profiled invokes run without clear_profile().
      std::vector<double>& v = impl.profile[i].samples_ms;
      if (v.size() < v.capacity()) {
        v.push_back(ms);
      } else {
        v[impl.profile_wrap % v.size()] = ms;
      }
    }
  }
  if (full) ++impl.profile_wrap;
  for (Impl::Unpack& u : impl.unpacks) {
    if (u.levels.binary()) {
      kernels::unpack_bits(u.pixels, u.channels, u.bits, u.values.data());
    } else {
      kernels::dequantize_levels(u.pixels, u.channels, u.bits, u.levels.kind, u.levels.bits, u.levels.zero_level,
                                 u.levels.scale, u.values.data());
    }
  }
  return Status::Ok();
}

size_t Interpreter::arena_bytes() const { return impl_->arena_bytes; }
size_t Interpreter::arena_lower_bound_bytes() const { return impl_->arena_lower_bound; }

bool Interpreter::tensor_arena_span(int tensor, size_t* offset, size_t* bytes) const {
  if (tensor < 0 || size_t(tensor) >= impl_->offset.size() || impl_->offset[size_t(tensor)] == SIZE_MAX) return false;
  *offset = impl_->offset[size_t(tensor)];
  *bytes = impl_->tensors[size_t(tensor)].bytes;
  return true;
}

const char* Interpreter::isa_name() const { return kernels::isa_name(impl_->isa); }
int Interpreter::threads() const { return impl_->threads; }
const std::vector<OpProfile>& Interpreter::profile() const { return impl_->profile; }
void Interpreter::clear_profile() {
  for (OpProfile& p : impl_->profile) {
    p.samples_ms.clear();
    p.last_ms = 0;
  }
  impl_->profile_wrap = 0;
}

}  // namespace onebit
