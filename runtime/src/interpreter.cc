// Interpreter: the public methods and invoke(). create()'s phases (describe tensors, prepare operators,
// alias reshapes, plan, place the arena, bind, expose inputs and outputs) are interpreter_build.cc.
//
// Memory budget (InterpreterOptions::max_arena_bytes): each phase checks the sizes it brings before the
// allocation they guard (interpreter_build.cc). create() catches std::bad_alloc / std::length_error (a
// vector or an XNNPACK-side failure) and returns them as errors.
#include <chrono>
#include <cstdlib>
#include <new>
#include <stdexcept>

#if !ONEBIT_MCU
#include <xnnpack.h>
#endif

#include "interpreter_impl.h"
#include "onebit/kernels/pack.h"
#include "onebit/pool.h"

namespace onebit {
namespace {

#if ONEBIT_MCU
// Cortex-M has the scalar kernels alone and no environment: "" or "scalar", nothing else.
Status choose_isa(const char* requested, kernels::Isa* isa) {
  *isa = kernels::Isa::kScalar;
  const char* scalar = "scalar";  // compared by hand: strcmp would link 732 bytes of newlib
  size_t i = 0;
  while (requested[i] != '\0' && requested[i] == scalar[i]) ++i;
  if (requested[0] == '\0' || (requested[i] == '\0' && scalar[i] == '\0')) return Status::Ok();
  return Status::Error(Text("ISA '") + requested +
                       "' is not available: the Cortex-M build has the scalar kernels only");
}
#else
Status choose_isa(const char* requested, kernels::Isa* isa) {
  Text name = requested;
  const char* env = std::getenv("ONEBIT_ISA");
  if (name.empty() && env != nullptr) name = env;
  if (name.empty()) {
    *isa = kernels::best_isa();
    return Status::Ok();
  }
  if (!kernels::parse_isa(name, isa))
    return Status::Error("unknown ISA '" + name + "' (expected " + core::isa_name_list() + ")");
  if (!kernels::isa_supported(*isa))
    return Status::Error(Text("ISA '") + name + "' is not available: " +
                         (kernels::isa_compiled(*isa) ? "this CPU does not support it" : "not compiled into this build"));
  return Status::Ok();
}
#endif

/// Runs `body` (a Status-returning create step) with allocation failures and other exceptions as errors.
template <typename F>
Status catching(const InterpreterOptions& options, F&& body) {
#if !__cpp_exceptions
  (void)options;
  return body();  // no exceptions in this build
#else
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return Status::Error("out of memory while preparing the model (max_arena_bytes = " +
                         rt::bytes_string(options.max_arena_bytes) + ")");
  } catch (const std::length_error& e) {
    return Status::Error(Text("a size is too large while preparing the model: ") + e.what());
  } catch (const std::exception& e) {
    return Status::Error(Text("unexpected error while preparing the model: ") + e.what());
  }
#endif
}

rt::BuildRequest build_request(const InterpreterOptions& options) {
  rt::BuildRequest r;
  r.budget = uint64_t(options.max_arena_bytes);
  r.caller_arena = static_cast<uint8_t*>(options.arena);
  r.caller_arena_size = options.arena_size;
  r.in_place = options.write_in_place;
  r.keep_inputs = options.keep_inputs;
  return r;
}

}  // namespace

Status Interpreter::Impl::start(const Model& m, const InterpreterOptions& options) {
  if (options.threads < 1 || options.threads > 1024)
    return Status::Error("threads = " + num(options.threads) + ", expected 1..1024");
  if (options.arena == nullptr && options.arena_size != 0)
    return Status::Error("arena_size = " + num(options.arena_size) +
                         " but arena is null: give both (a caller-owned arena) or neither");
  ONEBIT_RETURN_IF_ERROR(choose_isa(options.isa.c_str(), &isa));
#if ONEBIT_MCU
  if (options.threads != 1)
    return Status::Error("threads = " + num(options.threads) + ": the Cortex-M build runs on one thread");
  if (options.profiling)  // no clock the runtime could read there: the board's counter is the firmware's
    return Status::Error("profiling: not in the Cortex-M build (time invoke() with the board's counter)");
  portable_float = true;  // no XNNPACK here
#else
  const xnn_status xs = xnn_initialize(nullptr);
  if (xs != xnn_status_success)
    return Status::Error("xnn_initialize failed (XNNPACK status " + num(int(xs)) + ")");
  portable_float = options.portable_float_kernels;
#endif
  model = &m;
  threads = options.threads;
  profiling = options.profiling;
  profile_samples = options.profile_samples;
  if (options.threads > 1) {
    pool = pthreadpool_create(size_t(options.threads));
    if (pool == nullptr) return Status::Error("cannot create a pool of " + num(options.threads) + " threads");
  }
  return Status::Ok();
}

Interpreter::Interpreter() : impl_(new Impl()) {}
Interpreter::~Interpreter() = default;

Status Interpreter::create(const Model& model, const InterpreterOptions& options, std::unique_ptr<Interpreter>* out) {
  return catching(options, [&] { return create_unchecked(model, options, out); });
}

#if ONEBIT_MCU
// Cortex-M: the Interpreter and every record create() makes come from the caller's arena, from its start
// (onebit/pool.h); place_arena puts the activations after them.
#define ONEBIT_ARENA_RECORDS(options, request)                                                              \
  if ((options).arena == nullptr || (options).arena_size == 0)                                             \
    return Status::Error("no arena given: the Cortex-M build has no heap; pass InterpreterOptions::arena " \
                         "(required_arena_bytes says how large)");                                         \
  Pool records((options).arena, (options).arena_size);                                                     \
  PoolScope records_scope(records);                                                                        \
  (request).records = &records
#else
#define ONEBIT_ARENA_RECORDS(options, request) (void)(request)
#endif

Status Interpreter::create_unchecked(const Model& model, const InterpreterOptions& options,
                                     std::unique_ptr<Interpreter>* out) {
  rt::BuildRequest request = build_request(options);
  ONEBIT_ARENA_RECORDS(options, request);
  std::unique_ptr<Interpreter> interp(new Interpreter());
  ONEBIT_RETURN_IF_ERROR(interp->impl_->start(model, options));
  ONEBIT_RETURN_IF_ERROR(interp->impl_->build(request));
  *out = std::move(interp);
  return Status::Ok();
}

Status Interpreter::required_arena_bytes(const Model& model, const InterpreterOptions& options, size_t* bytes) {
  return catching(options, [&] {
    rt::BuildRequest request = build_request(options);
    ONEBIT_ARENA_RECORDS(options, request);
    request.plan_only = true;
    std::unique_ptr<Interpreter> interp(new Interpreter());
    ONEBIT_RETURN_IF_ERROR(interp->impl_->start(model, options));
    ONEBIT_RETURN_IF_ERROR(interp->impl_->build(request));
    *bytes = interp->impl_->arena_bytes;
#if ONEBIT_MCU
    *bytes += records.used_aligned(InterpreterOptions::kArenaAlignment);  // the records come first (place_arena)
#endif
    return Status::Ok();
  });
}

size_t Interpreter::input_count() const { return impl_->inputs.size(); }
size_t Interpreter::output_count() const { return impl_->outputs.size(); }
const TensorInfo& Interpreter::input_info(size_t i) const { return impl_->input_info.at(i); }
const TensorInfo& Interpreter::output_info(size_t i) const { return impl_->output_info.at(i); }
float* Interpreter::input(size_t i) { return impl_->inputs.at(i); }
const float* Interpreter::output(size_t i) const { return impl_->outputs.at(i); }

#if ONEBIT_MCU
Status Interpreter::invoke() {  // no profiling there (start refuses it)
  Impl& impl = *impl_;
  for (size_t i = 0; i < impl.ops.size(); ++i) {
    const Status s = impl.ops[i]->run(impl.pool);
    if (!s.ok()) return impl.contexts[i].fail(s.message());
  }
  impl.unpack_outputs();
  return Status::Ok();
}
#else
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
      Vec<double>& v = impl.profile[i].samples_ms;
      if (v.size() < v.capacity()) {
        v.push_back(ms);
      } else {
        v[impl.profile_wrap % v.size()] = ms;
      }
    }
  }
  if (full) ++impl.profile_wrap;
  impl.unpack_outputs();
  return Status::Ok();
}
#endif

void Interpreter::Impl::unpack_outputs() {
  for (Unpack& u : unpacks) {
    if (u.levels.binary()) {
      kernels::unpack_bits(u.pixels, u.channels, u.bits, u.values.data());
    } else {
      kernels::dequantize_levels(u.pixels, u.channels, u.bits, u.levels.kind, u.levels.bits, u.levels.zero_level,
                                 u.levels.scale, u.values.data());
    }
  }
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
const Vec<OpProfile>& Interpreter::profile() const { return impl_->profile; }
void Interpreter::clear_profile() {
  for (OpProfile& p : impl_->profile) {
    p.samples_ms.clear();
    p.last_ms = 0;
  }
  impl_->profile_wrap = 0;
}

}  // namespace onebit
