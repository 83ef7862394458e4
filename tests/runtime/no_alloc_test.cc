// Interpreter::invoke() allocates nothing, from the first invoke on (create() = prepare + bind does every
// allocation), at threads 1 and 2, on the synthetic Bi-Real-18 and on a chain of the plain-loop operators.
//
// How: this executable replaces glibc's malloc family (malloc, calloc, realloc, free, aligned_alloc,
// posix_memalign, memalign, valloc, pvalloc) with forwarders to glibc's own __libc_* functions that count
// calls while a flag is set. Every allocation of the process goes through them: operator new (libstdc++
// calls malloc), XNNPACK, pthreadpool, and the pool's worker threads. Not built under AddressSanitizer or
// ThreadSanitizer (they replace malloc themselves) nor off glibc: the test is skipped there.
//
// Locks: no test can see a lock, so here is what run() calls, by operator (ops/*.cc). The interpreter's
// invoke() calls steady_clock::now() and, when profiling, pushes into a vector reserved at create(); then
// the unpack / dequantize kernels of bitpacked graph outputs. Quantize / QuantizeLevels / Dequantize /
// BinaryMaxPool2D / Mul / ChannelAffine / Softmax / Concat / Pad / the plain-loop pools: ops/parallel.h's
// parallel_for (a template, no std::function) -> pthreadpool_parallelize_1d_tile_1d, and the kernels'
// entry points (pack_bits, unpack_bits, quantize_levels, dequantize_levels, binary_max_pool_rows), which
// call the ukernel their operator chose at prepare (no selection, no isa_supported() at run time).
// XNNPACK operators: xnn_run_operator. BinaryConv2D: its kernel's run.
// None of these holds a std::mutex; pthreadpool's own dispatch and wake-up are its business.
#include <atomic>
#include <cstring>

#include "runtime_test_util.h"
#include "synth/bireal.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define ONEBIT_COUNT_MALLOC 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define ONEBIT_COUNT_MALLOC 0
#endif
#endif
#if !defined(ONEBIT_COUNT_MALLOC) && defined(__GLIBC__)
#define ONEBIT_COUNT_MALLOC 1
#elif !defined(ONEBIT_COUNT_MALLOC)
#define ONEBIT_COUNT_MALLOC 0
#endif

namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_calls{0};
inline void note() {
  if (g_counting.load(std::memory_order_relaxed)) g_calls.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace

#if ONEBIT_COUNT_MALLOC
extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
void* __libc_valloc(size_t);
void* __libc_pvalloc(size_t);
void __libc_free(void*);

void* malloc(size_t n) {
  note();
  return __libc_malloc(n);
}
void* calloc(size_t n, size_t size) {
  note();
  return __libc_calloc(n, size);
}
void* realloc(void* p, size_t n) {
  note();
  return __libc_realloc(p, n);
}
void free(void* p) {
  if (p != nullptr) note();
  __libc_free(p);
}
void* memalign(size_t alignment, size_t n) {
  note();
  return __libc_memalign(alignment, n);
}
void* aligned_alloc(size_t alignment, size_t n) {
  note();
  return __libc_memalign(alignment, n);
}
int posix_memalign(void** out, size_t alignment, size_t n) {
  note();
  if (alignment % sizeof(void*) != 0 || (alignment & (alignment - 1)) != 0) return 22;  // EINVAL
  void* p = __libc_memalign(alignment, n);
  if (p == nullptr && n != 0) return 12;  // ENOMEM
  *out = p;
  return 0;
}
void* valloc(size_t n) {
  note();
  return __libc_valloc(n);
}
void* pvalloc(size_t n) {
  note();
  return __libc_pvalloc(n);
}
}  // extern "C"
#endif

namespace onebit::test {
namespace {

/// Allocation calls (and frees) made by `n` invokes.
long calls_during_invokes(Interpreter& interp, int n) {
  g_calls = 0;
  g_counting = true;
  bool ok = true;
  for (int i = 0; i < n; ++i) ok = interp.invoke().ok() && ok;
  g_counting = false;
  REQUIRE(ok);
  return g_calls.load();
}

void check_no_allocation(const std::vector<uint8_t>& bytes, const std::vector<float>& input) {
  std::unique_ptr<Model> model;
  const Status s = Model::load_buffer(bytes.data(), bytes.size(), &model);
  REQUIRE_MESSAGE(s.ok(), s.message());
  for (int threads : {1, 2}) {
    for (bool profiling : {false, true}) {
      CAPTURE(threads);
      CAPTURE(profiling);
      InterpreterOptions options;
      options.threads = threads;
      options.profiling = profiling;
      options.profile_samples = 2;  // the ring wraps within the first 4 invokes, not after the default 1,024
      std::unique_ptr<Interpreter> interp;
      const Status c = Interpreter::create(*model, options, &interp);
      REQUIRE_MESSAGE(c.ok(), c.message());
      REQUIRE(interp->input_count() == 1);
      REQUIRE(count(interp->input_info(0).shape) == input.size());
      std::copy(input.begin(), input.end(), interp->input(0));
      CHECK(calls_during_invokes(*interp, 1) == 0);  // the first invoke
      CHECK(calls_during_invokes(*interp, 3) == 0);
      if (profiling) {  // past the reserved samples: the oldest are overwritten, still no allocation
        const size_t cap = interp->profile().at(0).samples_ms.capacity();
        CHECK(cap == 2);
        CHECK(calls_during_invokes(*interp, int(cap)) == 0);
        CHECK(interp->profile().at(0).samples_ms.size() == cap);
      }
    }
  }
}

TEST_CASE("no-alloc: the counter sees malloc and operator new" * doctest::skip(!ONEBIT_COUNT_MALLOC)) {
  static void* volatile sink = nullptr;
  g_calls = 0;
  g_counting = true;
  sink = new std::vector<int>(100);
  delete static_cast<std::vector<int>*>(sink);
  void* (*volatile allocate)(size_t) = std::malloc;
  sink = allocate(64);
  std::free(sink);
  g_counting = false;
  CHECK(g_calls.load() >= 6);  // new: 2 mallocs, delete: 2 frees; malloc, free
}

TEST_CASE("no-alloc: invoke() of the synthetic Bi-Real-18 allocates nothing" * doctest::skip(!ONEBIT_COUNT_MALLOC)) {
  for (int bits : {1, 2}) {
    CAPTURE(bits);
    check_no_allocation(bireal_bytes(bireal_options(32, bits)), uniform(32 * 32 * 3, 60));
  }
}

TEST_CASE("no-alloc: invoke() of the plain-loop operators allocates nothing" * doctest::skip(!ONEBIT_COUNT_MALLOC)) {
  // x -> Quantize -> BinaryMaxPool -> Dequantize -> Mul -> ChannelAffine -> Pad -> Concat(with itself) ->
  // AvgPool (count_include_pad: the plain loop) -> QuantizeLevels -> Dequantize -> Reshape [1, N] ->
  // Softmax (one long row) and LogSoftmax of the global average pool; large enough to be split.
  const int c = 37;
  const std::vector<float> ones(size_t(c), 1.0f), halves(size_t(c), 0.5f), two(size_t(2 * c), 0.5f);
  ModelBuilder b;
  const int x = b.add_input("x", {1, 40, 41, c});
  Pool2DParams p3;
  p3.kernel_h = p3.kernel_w = 3;
  p3.pad_top = p3.pad_left = p3.pad_bottom = p3.pad_right = 1;
  const int d = b.dequantize("d", b.binary_max_pool("bp", b.quantize("q", x), p3));
  const int a = b.channel_affine("a", b.mul("m", d, halves), ones, halves);
  const int pad = b.pad("pad", a, {0, 1, 1, 0, 0, 1, 1, 0}, 0.0f);
  const int cat = b.concat("cat", {pad, pad}, 3);
  Pool2DParams avg = p3;
  avg.count_include_pad = true;
  Levels levels;
  levels.bits = 2;
  const int lv = b.dequantize("dl", b.quantize_levels("ql", b.avg_pool("ap", cat, avg), levels, two, two));
  const std::vector<int> shape = b.shape(lv);
  const int flat = b.reshape("flat", lv, {1, int(count(shape))});
  const int sm = b.softmax("sm", flat);
  const int gap = b.softmax("lsm", b.global_avg_pool("gap", lv), true);
  b.mark_output(sm);
  b.mark_output(gap);
  std::vector<uint8_t> bytes;
  const Status s = b.finish(&bytes);
  REQUIRE_MESSAGE(s.ok(), s.message());
  check_no_allocation(bytes, uniform(40 * 41 * c, 61));
}

}  // namespace
}  // namespace onebit::test
