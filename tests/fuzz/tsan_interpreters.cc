// ThreadSanitizer test: one Model shared by many interpreters in parallel threads (README: "two interpreters
// on one Model are fine"). 4 threads x 8 interpreters on one Bi-Real-18-topology model (onebit-synth's
// library, 64x64 input so it runs in seconds under TSan); every thread creates its interpreters at the same
// time as the others (concurrent create(): weight packing, XNNPACK operator creation, ISA dispatch), then
// each interpreter invokes 3 times; every output must be bit-identical to a single-threaded run. Built with
// -fsanitize=thread by scripts/fuzz (scripts/build --tsan: ONEBIT_TSAN=ON); a race makes TSan
// exit non-zero.
//
// Each interpreter uses threads = 1: pthreadpool and XNNPACK come from Debian uninstrumented, and TSan
// cannot see the synchronisation inside a pool (it would report false races between pool workers). The
// input is written before every invoke, so this test is about sharing, not about inputs surviving invoke
// (fuzz_model and the runtime's tests check that).
// Usage: tsan_interpreters [THREADS [INTERPRETERS_PER_THREAD [INVOKES]]]
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "onebit/interpreter.h"
#include "onebit/model.h"
#include "synth/bireal.h"

namespace {

void fill(onebit::Interpreter* interp) {
  size_t n = 1;
  for (int d : interp->input_info(0).shape) n *= size_t(d);
  float* x = interp->input(0);
  uint32_t h = 12345;
  for (size_t i = 0; i < n; ++i) {
    h = h * 1664525u + 1013904223u;
    x[i] = float(int((h >> 12) & 0x3ff) - 512) / 256.0f;
  }
}

std::vector<float> output(const onebit::Interpreter& interp) {
  size_t n = 1;
  for (int d : interp.output_info(0).shape) n *= size_t(d);
  return std::vector<float>(interp.output(0), interp.output(0) + n);
}

class Barrier {
 public:
  explicit Barrier(int n) : n_(n) {}
  void wait() {
    std::unique_lock<std::mutex> lock(m_);
    const int gen = gen_;
    if (++count_ == n_) {
      count_ = 0;
      ++gen_;
      cv_.notify_all();
    } else {
      cv_.wait(lock, [&] { return gen != gen_; });
    }
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  int n_, count_ = 0, gen_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  const int n_threads = argc > 1 ? std::atoi(argv[1]) : 4;
  const int per_thread = argc > 2 ? std::atoi(argv[2]) : 8;
  const int invokes = argc > 3 ? std::atoi(argv[3]) : 3;

  onebit::synth::BiRealOptions bo;
  bo.input_h = bo.input_w = 64;
  bo.classes = 100;
  bo.seed = 3;
  std::vector<uint8_t> bytes;
  onebit::Status s = onebit::synth::build_bireal18(bo, &bytes);
  std::unique_ptr<onebit::Model> model;
  if (s.ok()) s = onebit::Model::load_buffer(bytes.data(), bytes.size(), &model);
  if (!s.ok()) {
    std::fprintf(stderr, "tsan_interpreters: %s\n", s.message().c_str());
    return 1;
  }

  std::vector<float> reference;
  {
    std::unique_ptr<onebit::Interpreter> interp;
    s = onebit::Interpreter::create(*model, onebit::InterpreterOptions(), &interp);
    if (s.ok()) { fill(interp.get()); s = interp->invoke(); }
    if (!s.ok()) {
      std::fprintf(stderr, "tsan_interpreters: single-threaded run: %s\n", s.message().c_str());
      return 1;
    }
    reference = output(*interp);
  }

  Barrier start(n_threads);
  std::mutex errors_mutex;
  std::vector<std::string> errors;
  auto fail = [&](std::string e) {
    std::lock_guard<std::mutex> lock(errors_mutex);
    errors.push_back(std::move(e));
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < n_threads; ++t) {
    threads.emplace_back([&, t] {
      start.wait();
      std::vector<std::unique_ptr<onebit::Interpreter>> interps(static_cast<size_t>(per_thread));
      for (auto& interp : interps) {
        const onebit::Status cs = onebit::Interpreter::create(*model, onebit::InterpreterOptions(), &interp);
        if (!cs.ok()) return fail("thread " + std::to_string(t) + ": create: " + cs.message());
      }
      for (int round = 0; round < invokes; ++round) {
        for (size_t i = 0; i < interps.size(); ++i) {
          fill(interps[i].get());
          const onebit::Status is = interps[i]->invoke();
          if (!is.ok()) return fail("thread " + std::to_string(t) + ": invoke: " + is.message());
          const std::vector<float> out = output(*interps[i]);
          if (out.size() != reference.size() ||
              std::memcmp(out.data(), reference.data(), out.size() * sizeof(float)) != 0)
            fail("thread " + std::to_string(t) + " interpreter " + std::to_string(i) + " invoke " +
                 std::to_string(round + 1) + ": output differs from the single-threaded run");
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& e : errors) std::fprintf(stderr, "tsan_interpreters: %s\n", e.c_str());
  if (!errors.empty()) return 1;
  std::printf("tsan_interpreters: %d threads x %d interpreters x %d invokes on one model: outputs identical\n",
              n_threads, per_thread, invokes);
  return 0;
}
