// Untrusted sizes and repeated invokes: graph inputs survive invoke(); the memory budget
// (InterpreterOptions::max_arena_bytes) and the loader's limits (LoadOptions) reject huge declared sizes
// with a message naming the tensor or operator, before anything of that size is allocated; create() on a
// model of 10^5 tensors succeeds (planning is O(n log n); its time is measured, not asserted here).
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <functional>

#include "onebit/schema/onebit_generated.h"
#include "runtime_test_util.h"

using namespace onebit;
using namespace onebit::test;

namespace {

using Fbb = flatbuffers::FlatBufferBuilder;

/// Shaped like the shipped Fashion-MNIST model: float 3x3 stem + PReLU, binary 3x3 blocks with float
/// residuals and PReLU (one stride-2 block with an avg-pool + 1x1 shortcut), global pool, FC, softmax. The
/// graph input's only reader is the stem, so a planner that ends its lifetime there reuses its bytes.
void build_shipped_like(ModelBuilder& b, uint32_t seed) {
  int x = b.add_input("input", {1, 14, 14, 1});
  x = float_stem(b, x, 32, seed);
  x = b.prelu("stem/prelu", x, uniform(32, seed + 2, 0.0f, 0.3f));
  for (int block = 0; block < 3; ++block) {
    const bool down = block == 1;
    const int out_c = down ? 64 : b.shape(x)[3];
    const BlockBranches y = binary_block(b, x, block, out_c, down, seed);
    const std::string name = "block" + std::to_string(block);
    const int sum = b.add(name + "/residual", y.conv, y.shortcut);
    x = b.prelu(name + "/prelu", sum, uniform(size_t(out_c), seed + 50 + block, 0.0f, 0.3f));
  }
  x = b.global_avg_pool("pool", x);
  x = b.fully_connected("fc", x, 10, Weights::float32(uniform(10 * 64, seed + 60)), uniform(10, seed + 61));
  b.mark_output(b.softmax("softmax", x, true));
}

std::vector<float> output_of(Interpreter& interp, size_t k = 0) {
  return std::vector<float>(interp.output(k), interp.output(k) + count(interp.output_info(k).shape));
}

Status load_and_create(const std::vector<uint8_t>& bytes, const InterpreterOptions& options,
                       std::unique_ptr<Model>* model, std::unique_ptr<Interpreter>* interp) {
  Status s = Model::load_buffer(bytes.data(), bytes.size(), model);
  if (!s.ok()) return s;
  return Interpreter::create(**model, options, interp);
}

void expect_message(const Status& s, const std::vector<std::string>& parts) {
  INFO("message: " << s.message());
  REQUIRE_FALSE(s.ok());
  for (const std::string& p : parts) {
    INFO("expected the message to contain: " << p);
    CHECK(s.message().find(p) != std::string::npos);
  }
}

/// A raw model: input x [1, c] -> `chain` ReLUs -> output, plus `unused` activation tensors no operator
/// touches (the "file of unused tensors" of issue 9).
std::vector<uint8_t> raw_chain(int chain, int unused, int c = 4) {
  Fbb f;
  std::vector<flatbuffers::Offset<fb::Tensor>> ts;
  std::vector<flatbuffers::Offset<fb::Operator>> os;
  const auto shape = f.CreateVector(std::vector<int>{1, c});
  for (int i = 0; i <= chain; ++i)
    ts.push_back(fb::CreateTensor(f, f.CreateString("t" + std::to_string(i)), shape, fb::DType::Float32, -1));
  for (int i = 0; i < unused; ++i)
    ts.push_back(fb::CreateTensor(f, 0, shape, fb::DType::Float32, -1));
  for (int i = 0; i < chain; ++i) {
    os.push_back(fb::CreateOperator(f, fb::OperatorOptions::ReluOptions, fb::CreateReluOptions(f).Union(),
                                    f.CreateVector(std::vector<int>{i}), f.CreateVector(std::vector<int>{i + 1})));
  }
  const auto m = fb::CreateModel(f, kFormatVersion, f.CreateVector(ts), 0, f.CreateVector(os),
                                 f.CreateVector(std::vector<int>{0}), f.CreateVector(std::vector<int>{chain}));
  fb::FinishModelBuffer(f, m);
  return std::vector<uint8_t>(f.GetBufferPointer(), f.GetBufferPointer() + f.GetSize());
}

}  // namespace

TEST_CASE("invoke() leaves graph inputs intact: repeated invokes on one input are bit-identical") {
  for (int threads : {1, 2}) {
    ModelBuilder b;
    build_shipped_like(b, 17);
    InterpreterOptions o;
    o.threads = threads;
    Loaded l = load(b, o);
    const std::vector<float> x = uniform(14 * 14, 3);
    std::copy(x.begin(), x.end(), l.interp->input(0));
    REQUIRE(l.interp->invoke().ok());
    const std::vector<float> first = output_of(*l.interp);
    for (int again = 0; again < 4; ++again) {
      REQUIRE(l.interp->invoke().ok());  // the input is not written again
      CAPTURE(threads);
      CAPTURE(again);
      CHECK(std::memcmp(l.interp->input(0), x.data(), x.size() * sizeof(float)) == 0);
      const std::vector<float> y = output_of(*l.interp);
      CHECK(std::memcmp(y.data(), first.data(), y.size() * sizeof(float)) == 0);
    }
    // And the input's arena bytes are not shared with any other tensor.
    size_t in_offset = 0, in_bytes = 0;
    REQUIRE(l.interp->tensor_arena_span(0, &in_offset, &in_bytes));
    for (int t = 1; t < int(rt::model_flatbuffer(*l.model).tensors()->size()); ++t) {
      size_t offset = 0, bytes = 0;
      if (!l.interp->tensor_arena_span(t, &offset, &bytes)) continue;
      CAPTURE(t);
      CHECK((offset + bytes <= in_offset || in_offset + in_bytes <= offset));
    }
  }
}

TEST_CASE("create() on models of 10^5 tensors: a long chain, and a file of unused tensors") {
  SUBCASE("a chain of 10^5 operators") {
    const Loaded l = load_bytes(raw_chain(100000, 0));
    Interpreter* interp = l.interp.get();
    std::fill(interp->input(0), interp->input(0) + 4, -1.0f);
    interp->input(0)[2] = 2.0f;
    REQUIRE(interp->invoke().ok());
    CHECK(output_of(*interp) == std::vector<float>{0, 0, 2, 0});
  }
  SUBCASE("10^5 tensors no operator uses") {
    CHECK(load_bytes(raw_chain(2, 100000)).interp->arena_bytes() < 1024);
  }
}

namespace {

/// A file of about a kilobyte: x [1,1,1,1] padded by 4096 on each side of H and W, `copies` times, every
/// copy a graph output ([1, 8193, 8193, 1] Float32: 256 MiB each).
std::vector<uint8_t> huge_pads(int copies) {
  ModelBuilder b;
  const int x = b.add_input("x", {1, 1, 1, 1});
  for (int k = 0; k < copies; ++k)
    b.mark_output(b.pad("pad" + std::to_string(k), x, {0, 4096, 4096, 0, 0, 4096, 4096, 0}, 0.0f));
  std::vector<uint8_t> bytes;
  const Status s = b.finish(&bytes);
  REQUIRE_MESSAGE(s.ok(), s.message());
  return bytes;
}

}  // namespace

TEST_CASE("memory budget: huge declared sizes are rejected by create() before they are allocated") {
  std::unique_ptr<Model> model;
  std::unique_ptr<Interpreter> interp;
  SUBCASE("huge pads: the sum over the default 1 GiB names where it peaks and the largest tensor there") {
    const std::vector<uint8_t> bytes = huge_pads(5);
    CHECK(bytes.size() < 2048);
    expect_message(load_and_create(bytes, {}, &model, &interp),
                   {"the model needs 1342505", "more than max_arena_bytes = 1073741824 bytes",
                    "at operator 4 'pad4' (Pad) 1342504984 bytes", "the largest being tensor 1 'pad0' (268500996"});
    CHECK(interp == nullptr);
  }
  SUBCASE("one tensor over a small budget, checked before any operator is prepared") {
    InterpreterOptions o;
    o.max_arena_bytes = 1 << 20;
    expect_message(load_and_create(huge_pads(1), o, &model, &interp),
                   {"tensor 1 'pad0' of shape [1, 8193, 8193, 1] needs 268500996 bytes",
                    "more than max_arena_bytes = 1048576 bytes"});
  }
  SUBCASE("huge pooling window: XNNPACK's indirection buffer is counted before its setup allocates it") {
    ModelBuilder b;
    const int x = b.add_input("x", {1, 1, 1, 1});
    Pool2DParams p;
    p.kernel_h = p.kernel_w = 4096;
    p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 4095;
    b.mark_output(b.max_pool("pool", x, p));  // [1, 4096, 4096, 1]: 64 MiB, within the budget
    std::vector<uint8_t> bytes;
    REQUIRE(b.finish(&bytes).ok());
    expect_message(load_and_create(bytes, {}, &model, &interp),
                   {"operator 0 'pool' (MaxPool2D)", "XNNPACK indirection buffer", "more than max_arena_bytes"});
  }
  SUBCASE("per-operator scratch (im2col rows and accumulators per thread) over the budget") {
    ModelBuilder b;
    const int x = b.add_input("x", {1, 16, 16, 32});  // 32 KiB
    BinaryConv2DParams p;
    p.kernel_h = p.kernel_w = 3;
    p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 1;
    const int q = b.quantize("sign", x);
    b.mark_output(b.binary_conv2d("bconv", q, 32, signs(32 * 32 * 9, 1), uniform(32, 2), uniform(32, 3), p));
    std::vector<uint8_t> bytes;
    REQUIRE(b.finish(&bytes).ok());
    InterpreterOptions o;
    o.threads = 4;
    o.max_arena_bytes = 48 << 10;
    expect_message(load_and_create(bytes, o, &model, &interp),
                   {"operator 1 'bconv' (BinaryConv2D)", "scratch", "4 thread(s)", "more than max_arena_bytes"});
    o.max_arena_bytes = 8 << 20;
    const Status s = load_and_create(bytes, o, &model, &interp);
    REQUIRE_MESSAGE(s.ok(), s.message());
    CHECK(interp->arena_bytes() <= o.max_arena_bytes);
  }
}

TEST_CASE("validation: a graph output listed twice is rejected (each listing would get its own buffer)") {
  ModelBuilder b;
  const int x = b.add_input("x", {1, 8});
  const int q = b.quantize("sign", x);
  b.mark_output(q);
  b.mark_output(b.relu("relu", x));
  b.mark_output(q);
  std::vector<uint8_t> bytes;
  const Status s = b.finish(&bytes);
  expect_message(s, {"graph output 2: tensor 1 'sign' is listed twice (also graph output 0)"});
}

TEST_CASE("loader limits: declared tensor bytes, FlatBuffers tables and depth, each named") {
  std::unique_ptr<Model> model;
  const std::vector<uint8_t> pads = huge_pads(1);
  LoadOptions o;
  REQUIRE(Model::load_buffer(pads.data(), pads.size(), o, &model).ok());
  o.max_tensor_bytes = 1 << 20;
  expect_message(Model::load_buffer(pads.data(), pads.size(), o, &model),
                 {"tensor 1 'pad0': shape [1, 8193, 8193, 1] of Float32 needs 268500996 bytes",
                  "more than the limit of 1048576 (LoadOptions::max_tensor_bytes)"});

  const std::vector<uint8_t> chain = raw_chain(200, 0);
  REQUIRE(Model::load_buffer(chain.data(), chain.size(), &model).ok());
  o = LoadOptions();
  o.max_tables = 100;
  expect_message(Model::load_buffer(chain.data(), chain.size(), o, &model),
                 {"too many FlatBuffers tables: more than the limit of 100", "LoadOptions::max_tables"});
  o = LoadOptions();
  o.max_depth = 2;
  expect_message(Model::load_buffer(chain.data(), chain.size(), o, &model),
                 {"nested deeper than the limit of 2", "LoadOptions::max_depth"});
  // Genuine corruption still says so.
  std::vector<uint8_t> cut(chain.begin(), chain.begin() + long(chain.size() / 2));
  expect_message(Model::load_buffer(cut.data(), cut.size(), &model), {"corrupt or truncated"});
}

TEST_CASE("load_file: small files are read (truncating the file later is harmless), large ones mapped") {
  const std::string dir = "/tmp/onebit_limits_test_" + std::to_string(getpid());
  REQUIRE(std::system(("mkdir -p " + dir).c_str()) == 0);
  const std::string path = dir + "/m.fb";
  ModelBuilder b;
  build_shipped_like(b, 5);
  std::vector<uint8_t> bytes;
  REQUIRE(b.finish(&bytes).ok());
  REQUIRE(write_file_atomically(path, bytes).ok());
  const std::vector<float> x = uniform(14 * 14, 9);
  std::vector<float> expected;
  for (size_t threshold : {LoadOptions().map_threshold_bytes, size_t(0)}) {
    LoadOptions o;
    o.map_threshold_bytes = threshold;
    std::unique_ptr<Model> model;
    Status s = Model::load_file(path, o, &model);
    REQUIRE_MESSAGE(s.ok(), s.message());
    std::unique_ptr<Interpreter> interp;
    s = Interpreter::create(*model, {}, &interp);
    REQUIRE_MESSAGE(s.ok(), s.message());
    if (threshold != 0) REQUIRE(truncate(path.c_str(), 0) == 0);  // read into memory: no SIGBUS
    const std::vector<float> y = run(*interp, {x});
    if (expected.empty()) expected = y;
    CHECK(y == expected);
    if (threshold != 0) REQUIRE(write_file_atomically(path, bytes).ok());
  }
  REQUIRE(std::system(("rm -rf " + dir).c_str()) == 0);
}

TEST_CASE("write_file_atomically: the file gets 0666 & ~umask (umask 022 and 077)") {
  const std::string dir = "/tmp/onebit_mode_test_" + std::to_string(getpid());
  REQUIRE(std::system(("mkdir -p " + dir).c_str()) == 0);
  for (const auto& mask_mode : {std::pair<mode_t, mode_t>{022, 0644}, {077, 0600}, {0, 0666}}) {
    const mode_t mask = mask_mode.first, mode = mask_mode.second;  // no structured binding: CAPTURE is a lambda
    const mode_t old = umask(mask);
    const std::string path = dir + "/m" + std::to_string(mask) + ".fb";
    const Status s = write_file_atomically(path, {1, 2, 3});
    umask(old);
    REQUIRE_MESSAGE(s.ok(), s.message());
    struct stat st {};
    REQUIRE(stat(path.c_str(), &st) == 0);
    CAPTURE(mask);
    CHECK((st.st_mode & 0777) == mode);
  }
  CHECK(std::system(("test $(ls -A " + dir + " | wc -l) -eq 3").c_str()) == 0);  // no temporary files left
  REQUIRE(std::system(("rm -rf " + dir).c_str()) == 0);
}
