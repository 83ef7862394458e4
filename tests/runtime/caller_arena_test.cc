// A caller-owned arena (InterpreterOptions::arena): the bytes required_arena_bytes() names are enough and
// are where every activation, graph input and output and scratch buffer lives; outputs equal those of the
// interpreter's own arena bit for bit (binary and 2-bit synthetic Bi-Real-18, threads 1 and 2); one byte
// less is an error naming the bytes needed; a misaligned buffer is aligned up (documented in
// interpreter.h), so it needs the difference more.
#include <cstdint>
#include <cstring>
#include <string>

#include "runtime_test_util.h"
#include "synth/bireal.h"

namespace onebit::test {
namespace {

constexpr size_t kAlign = InterpreterOptions::kArenaAlignment;

std::unique_ptr<Model> bireal(int activation_bits) {
  synth::BiRealOptions o = bireal_options(32, activation_bits);
  o.seed = 9;
  return load_model(bireal_bytes(o));
}

/// An over-allocated buffer and its first kAlign-aligned byte.
struct Buffer {
  explicit Buffer(size_t bytes) : storage(bytes + 2 * kAlign) {
    const size_t skip = (kAlign - reinterpret_cast<uintptr_t>(storage.data()) % kAlign) % kAlign;
    aligned = storage.data() + skip;
  }
  bool holds(const void* p, size_t bytes) const {
    const uint8_t* b = static_cast<const uint8_t*>(p);
    return b >= aligned && b + bytes <= aligned + (storage.size() - 2 * kAlign);
  }
  std::vector<uint8_t> storage;
  uint8_t* aligned = nullptr;
};

Status create(const Model& model, InterpreterOptions o, void* arena, size_t size, std::unique_ptr<Interpreter>* out) {
  o.arena = arena;
  o.arena_size = size;
  return Interpreter::create(model, o, out);
}

void check_contains(const Status& s, const std::vector<std::string>& parts) {
  REQUIRE_FALSE(s.ok());
  for (const std::string& p : parts) {
    INFO("message: ", s.message(), "\nexpected to contain: ", p);
    CHECK(s.message().find(p) != std::string::npos);
  }
}

TEST_CASE("caller arena: outputs equal the interpreter's own arena, every activation inside the buffer") {
  for (int bits : {1, 2}) {
    const std::unique_ptr<Model> model = bireal(bits);
    const std::vector<float> x = uniform(32 * 32 * 3, 70);
    for (int threads : {1, 2}) {
      CAPTURE(bits);
      CAPTURE(threads);
      InterpreterOptions o;
      o.threads = threads;
      std::unique_ptr<Interpreter> own, caller;
      Status s = Interpreter::create(*model, o, &own);
      REQUIRE_MESSAGE(s.ok(), s.message());
      size_t needed = 0;
      s = Interpreter::required_arena_bytes(*model, o, &needed);
      REQUIRE_MESSAGE(s.ok(), s.message());
      CHECK(needed == own->arena_bytes());

      Buffer buffer(needed);
      std::memset(buffer.storage.data(), 0xA5, buffer.storage.size());  // create() must clear what it uses
      s = create(*model, o, buffer.aligned, needed, &caller);
      REQUIRE_MESSAGE(s.ok(), s.message());
      CHECK(caller->arena_bytes() == needed);
      CHECK(caller->arena_lower_bound_bytes() == own->arena_lower_bound_bytes());
      // Every activation at the offset the own arena gives it, inside the caller's bytes.
      const size_t n_tensors = rt::model_flatbuffer(*model).tensors()->size();
      size_t placed = 0;
      for (size_t t = 0; t < n_tensors; ++t) {
        size_t offset = 0, bytes = 0, own_offset = 0, own_bytes = 0;
        const bool in_caller = caller->tensor_arena_span(int(t), &offset, &bytes);
        REQUIRE(in_caller == own->tensor_arena_span(int(t), &own_offset, &own_bytes));
        if (!in_caller) continue;
        ++placed;
        CHECK(offset == own_offset);
        CHECK(offset + bytes <= needed);
      }
      CHECK(placed > 0);
      CHECK(buffer.holds(caller->input(0), count(caller->input_info(0).shape) * sizeof(float)));
      CHECK(buffer.holds(caller->output(0), count(caller->output_info(0).shape) * sizeof(float)));

      const std::vector<float> want = run(*own, {x});
      for (int invoke = 0; invoke < 2; ++invoke) {
        const std::vector<float> got = run(*caller, {x});
        REQUIRE(got.size() == want.size());
        CHECK(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)) == 0);
      }
    }
  }
}

TEST_CASE("caller arena: too small is an error naming the bytes needed; arena_size without arena too") {
  const std::unique_ptr<Model> model = bireal(1);
  size_t needed = 0;
  REQUIRE(Interpreter::required_arena_bytes(*model, {}, &needed).ok());
  Buffer buffer(needed);
  std::unique_ptr<Interpreter> interp;
  check_contains(create(*model, {}, buffer.aligned, needed - 1, &interp),
                 {"the caller's arena is too small", "arena_size = " + std::to_string(needed - 1) + " bytes",
                  "the model needs " + std::to_string(needed) + " bytes", "required_arena_bytes"});
  CHECK(interp == nullptr);
  check_contains(create(*model, {}, buffer.aligned, 0, &interp), {"too small", std::to_string(needed) + " bytes"});
  check_contains(create(*model, {}, nullptr, needed, &interp), {"arena_size = " + std::to_string(needed),
                                                                 "arena is null"});
  CHECK(interp == nullptr);
  // The budget still applies with a caller's arena, and is checked first.
  InterpreterOptions small;
  small.max_arena_bytes = 4096;
  check_contains(create(*model, small, buffer.aligned, needed, &interp), {"more than max_arena_bytes = 4096 bytes"});
  CHECK(interp == nullptr);
  // required_arena_bytes() reports the same errors as create() before the arena.
  size_t ignored = 0;
  check_contains(Interpreter::required_arena_bytes(*model, small, &ignored), {"more than max_arena_bytes"});
}

TEST_CASE("caller arena: a misaligned buffer is aligned up, so it needs up to kArenaAlignment - 1 more bytes") {
  const std::unique_ptr<Model> model = bireal(1);
  const std::vector<float> x = uniform(32 * 32 * 3, 71);
  std::unique_ptr<Interpreter> own;
  REQUIRE(Interpreter::create(*model, {}, &own).ok());
  const std::vector<float> want = run(*own, {x});
  const size_t needed = own->arena_bytes();
  Buffer buffer(needed);
  for (size_t misalign : {size_t(1), size_t(4), size_t(16), kAlign - 1}) {
    CAPTURE(misalign);
    const size_t extra = kAlign - misalign;  // bytes from the buffer's start to the next aligned byte
    std::unique_ptr<Interpreter> interp;
    check_contains(create(*model, {}, buffer.aligned + misalign, needed, &interp),
                   {"the model needs " + std::to_string(needed) + " bytes", std::to_string(extra) + " bytes short",
                    "needs " + std::to_string(needed + extra) + " bytes"});
    CHECK(interp == nullptr);
    const Status s = create(*model, {}, buffer.aligned + misalign, needed + extra, &interp);
    REQUIRE_MESSAGE(s.ok(), s.message());
    // The arena starts at the next aligned byte, and the input at its planned offset from there.
    size_t offset = 0, bytes = 0;
    REQUIRE(interp->tensor_arena_span(rt::model_flatbuffer(*model).inputs()->Get(0), &offset, &bytes));
    CHECK(reinterpret_cast<uint8_t*>(interp->input(0)) == buffer.aligned + kAlign + offset);
    const std::vector<float> got = run(*interp, {x});
    CHECK(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)) == 0);
  }
}

}  // namespace
}  // namespace onebit::test
