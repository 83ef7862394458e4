// libFuzzer target: untrusted model bytes -> Model::load_buffer (Verifier + semantic validation) ->
// Interpreter::create -> invoke, on every kernel path (ISA) this CPU has.
//
// Checks, beyond "no crash, no sanitizer report":
//  1. determinism: two invokes on the same input give identical outputs, (a) with the input written again
//     before the second invoke and (b) without (inputs must survive invoke(); issue 9 item 1);
//  2. differential: the outputs of every supported ISA (scalar, avx2, avx512vpopcnt, neon) equal the scalar
//     path's. Bit-exact (NaN equals NaN): binary kernels compute integer popcounts and the same unfused
//     float output transform on every path (-ffp-contract=off, explicit mul then add in the SIMD files),
//     and float operators run through XNNPACK, whose kernel choice does not depend on onebit's ISA, so
//     nothing legitimately differs. If that ever stops being true for a float op, compare that op's
//     outputs with a relative tolerance instead, and say which op.
//
// Bounds so the fuzzer explores instead of running out of memory or time: 64 MB of arena
// (InterpreterOptions::max_arena_bytes when the runtime has it; until then an estimate from the validated
// model, checked here before create()), and a work estimate per invoke (operators x output elements x
// reduction length) checked before invoking.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "model_access.h"
#include "onebit/interpreter.h"
#include "onebit/kernels/isa.h"
#include "onebit/model.h"
#include "onebit/schema/onebit_generated.h"

namespace {

constexpr size_t kArenaBudget = size_t(64) << 20;
constexpr double kWorkBudget = 2e7;  // multiply-adds (or element visits) per invoke

// InterpreterOptions::max_arena_bytes is being added by the runtime owner: set it when it exists.
template <typename T, typename = void>
struct HasArenaBudget : std::false_type {};
template <typename T>
struct HasArenaBudget<T, std::void_t<decltype(std::declval<T&>().max_arena_bytes)>> : std::true_type {};

template <typename T>
void set_arena_budget(T* options) {
  if constexpr (HasArenaBudget<T>::value) options->max_arena_bytes = kArenaBudget;
}

double elements(const onebit::fb::Tensor* t) {
  double n = 1;
  if (t != nullptr && t->shape() != nullptr)
    for (int d : *t->shape()) n *= d > 0 ? double(d) : 1.0;
  return n;
}

// Estimates from a validated model: the sum of every non-constant tensor's float size (an upper bound of
// what the planner keeps live, scratch aside), and the work of one invoke.
void estimate(const onebit::fb::Model& m, double* activation_bytes, double* work) {
  *activation_bytes = 0;
  *work = 0;
  const auto* tensors = m.tensors();
  if (tensors == nullptr) return;
  for (const auto* t : *tensors)
    if (t->buffer() < 0) *activation_bytes += 4 * elements(t);
  if (m.operators() == nullptr) return;
  auto tensor = [&](const flatbuffers::Vector<int32_t>* ids, size_t i) -> const onebit::fb::Tensor* {
    if (ids == nullptr || i >= ids->size()) return nullptr;
    int id = ids->Get(uint32_t(i));
    return id >= 0 && uint32_t(id) < tensors->size() ? tensors->Get(uint32_t(id)) : nullptr;
  };
  for (const auto* op : *m.operators()) {
    const onebit::fb::Tensor* x = tensor(op->inputs(), 0);
    const onebit::fb::Tensor* w = tensor(op->inputs(), 1);
    double out = 0, in = 0;
    if (op->outputs() != nullptr)
      for (size_t i = 0; i < op->outputs()->size(); ++i) out += elements(tensor(op->outputs(), i));
    if (op->inputs() != nullptr)
      for (size_t i = 0; i < op->inputs()->size(); ++i) in += elements(tensor(op->inputs(), i));
    double per_output = 1;
    using T = onebit::fb::OperatorOptions;
    auto window = [](int kh, int kw) { return double(kh > 0 ? kh : 1) * double(kw > 0 ? kw : 1); };
    switch (op->options_type()) {
      case T::Conv2DOptions:
      case T::BinaryConv2DOptions:
      case T::FullyConnectedOptions:
      case T::BinaryFullyConnectedOptions: {
        // Weights [O, ...]: every output reads one output channel's weights.
        const double o = (w != nullptr && w->shape() != nullptr && w->shape()->size() > 0 && w->shape()->Get(0) > 0)
                             ? double(w->shape()->Get(0)) : 1.0;
        per_output = elements(w) / o;
        // Binary layers: shapes count channels, kernels read 32 of them per word.
        if (op->options_type() == T::BinaryConv2DOptions || op->options_type() == T::BinaryFullyConnectedOptions)
          per_output /= 8;
        break;
      }
      case T::MaxPool2DOptions:
        per_output = window(op->options_as_MaxPool2DOptions()->kernel_h(), op->options_as_MaxPool2DOptions()->kernel_w());
        break;
      case T::AvgPool2DOptions:
        per_output = window(op->options_as_AvgPool2DOptions()->kernel_h(), op->options_as_AvgPool2DOptions()->kernel_w());
        break;
      case T::BinaryMaxPool2DOptions:
        per_output = window(op->options_as_BinaryMaxPool2DOptions()->kernel_h(),
                            op->options_as_BinaryMaxPool2DOptions()->kernel_w());
        break;
      default:
        break;
    }
    *work += out * per_output + in;
  }
}

void fill_inputs(onebit::Interpreter* interp) {
  for (size_t i = 0; i < interp->input_count(); ++i) {
    size_t n = 1;
    for (int d : interp->input_info(i).shape) n *= size_t(d);
    float* x = interp->input(i);
    uint32_t h = 0x9e3779b9u * uint32_t(i + 1);
    for (size_t k = 0; k < n; ++k) {
      h = h * 1664525u + 1013904223u;
      // Values in [-2, 2) in steps of 1/64, exact zeros included (sign(0) matters to binary layers).
      x[k] = float(int((h >> 16) & 0xff) - 128) / 64.0f;
    }
  }
}

using Outputs = std::vector<std::vector<float>>;

Outputs read_outputs(const onebit::Interpreter& interp) {
  Outputs out(interp.output_count());
  for (size_t i = 0; i < out.size(); ++i) {
    size_t n = 1;
    for (int d : interp.output_info(i).shape) n *= size_t(d);
    out[i].assign(interp.output(i), interp.output(i) + n);
  }
  return out;
}

bool same(float a, float b) { return a == b || (std::isnan(a) && std::isnan(b)); }

void require_equal(const Outputs& a, const Outputs& b, const char* what) {
  if (a.size() != b.size()) {
    std::fprintf(stderr, "fuzz_model: %s: %zu vs %zu outputs\n", what, a.size(), b.size());
    std::abort();
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].size() != b[i].size()) {
      std::fprintf(stderr, "fuzz_model: %s: output %zu has %zu vs %zu values\n", what, i, a[i].size(), b[i].size());
      std::abort();
    }
    for (size_t k = 0; k < a[i].size(); ++k)
      if (!same(a[i][k], b[i][k])) {
        std::fprintf(stderr, "fuzz_model: %s: output %zu value %zu: %.9g vs %.9g\n", what, i, k, double(a[i][k]),
                     double(b[i][k]));
        std::abort();
      }
  }
}

// Runs the model on one ISA; false if create() or invoke() refused it (a Status error is fine).
bool run(const onebit::Model& model, onebit::kernels::Isa isa, Outputs* outputs) {
  onebit::InterpreterOptions options;
  options.isa = onebit::kernels::isa_name(isa);
  set_arena_budget(&options);
  std::unique_ptr<onebit::Interpreter> interp;
  if (!onebit::Interpreter::create(model, options, &interp).ok()) return false;
  fill_inputs(interp.get());
  if (!interp->invoke().ok()) return false;
  Outputs first = read_outputs(*interp);
  // (a) same input written again: the computation itself is deterministic.
  fill_inputs(interp.get());
  if (!interp->invoke().ok()) {
    std::fprintf(stderr, "fuzz_model: a second invoke() failed after a first succeeded\n");
    std::abort();
  }
  require_equal(first, read_outputs(*interp), "invoke twice (input rewritten)");
  // (b) input not written again: it must have survived the invoke.
  static const bool allow_overwrite = std::getenv("ONEBIT_FUZZ_ALLOW_INPUT_OVERWRITE") != nullptr;
  if (!allow_overwrite) {
    if (!interp->invoke().ok()) {
      std::fprintf(stderr, "fuzz_model: a third invoke() failed after two succeeded\n");
      std::abort();
    }
    require_equal(first, read_outputs(*interp), "invoke twice (inputs must survive invoke)");
  }
  *outputs = std::move(first);
  return true;
}

}  // namespace

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

// Half of the mutations are libFuzzer's; the other half rewrite 1-3 aligned 32-bit words in place. A
// FlatBuffer stores its scalars (shape dims, kernel sizes, strides, pads, groups, tensor and buffer indices,
// option fields, float parameters) inline and 4-byte aligned, so such a file usually still passes the
// Verifier and reaches the semantic validator, create() and the kernels, where random bytes rarely get.
extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
  std::minstd_rand r(seed);
  if (size < 16 || r() % 2) return LLVMFuzzerMutate(data, size, max_size);
  static const int32_t ints[] = {0, 1, 2, 3, 4, -1, -2, 7, 8, 15, 16, 31, 32, 33, 63, 64, 65, 127, 128, 255, 256,
                                 1023, 4096, 1 << 15, 1 << 16, 1 << 20, 1 << 24, std::numeric_limits<int32_t>::max(),
                                 std::numeric_limits<int32_t>::min()};
  static const float floats[] = {0.0f, -0.0f, 1.0f, -1.0f, 1e-30f, 1e30f, -1e30f, 1e-45f,
                                 std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                                 std::numeric_limits<float>::quiet_NaN()};
  const size_t words = size / 4;
  for (int done = 0, want = 1 + int(r() % 3), tries = 0; done < want && tries < 64; ++tries) {
    uint8_t* p = data + 4 * (r() % words);
    int32_t v;
    std::memcpy(&v, p, 4);
    float f;
    std::memcpy(&f, p, 4);
    if (v >= -4 && v <= 65536) {  // a small integer: a dim, a kernel size, an index, an enum, a count
      switch (r() % 4) {
        case 0: v += 1; break;
        case 1: v -= 1; break;
        case 2: v = int32_t(int64_t(v) * 2); break;
        default: v = ints[r() % (sizeof(ints) / sizeof(ints[0]))]; break;
      }
      std::memcpy(p, &v, 4);
      ++done;
    } else if (std::isfinite(f) && std::fabs(f) > 1e-6f && std::fabs(f) < 1e6f) {  // a float parameter
      f = r() % 2 ? floats[r() % (sizeof(floats) / sizeof(floats[0]))] : -f;
      std::memcpy(p, &f, 4);
      ++done;
    }
  }
  return size;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::unique_ptr<onebit::Model> model;
  if (!onebit::Model::load_buffer(data, size, &model).ok()) return 0;

  double activation_bytes = 0, work = 0;
  estimate(onebit::rt::model_flatbuffer(*model), &activation_bytes, &work);
  if (!HasArenaBudget<onebit::InterpreterOptions>::value && activation_bytes > double(kArenaBudget)) return 0;
  if (work > kWorkBudget) return 0;

  Outputs reference;
  bool have_reference = false, reference_ok = false;
  for (onebit::kernels::Isa isa : onebit::kernels::kAllIsas) {
    if (!onebit::kernels::isa_supported(isa)) continue;
    Outputs outputs;
    const bool ok = run(*model, isa, &outputs);
    if (!have_reference) {
      have_reference = true;
      reference_ok = ok;
      reference = std::move(outputs);
      continue;
    }
    if (ok != reference_ok) {
      std::fprintf(stderr, "fuzz_model: ISA %s %s where scalar %s\n", onebit::kernels::isa_name(isa),
                   ok ? "ran" : "failed", reference_ok ? "ran" : "failed");
      std::abort();
    }
    if (ok) {
      std::string what = std::string("ISA ") + onebit::kernels::isa_name(isa) + " vs scalar";
      require_equal(reference, outputs, what.c_str());
    }
  }
  return 0;
}
