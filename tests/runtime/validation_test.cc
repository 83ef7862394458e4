// Untrusted model files: each malformed input is rejected with a message naming the operator / tensor and
// the field, and nothing crashes (the suite also runs under ASan + UBSan). Models are written here with the
// raw FlatBuffers API so that every field can be broken on purpose.
#include <algorithm>
#include <functional>

#include "onebit/schema/onebit_generated.h"
#include "runtime_test_util.h"

using namespace onebit;

namespace {

using Fbb = flatbuffers::FlatBufferBuilder;

/// A valid base model: x [1,5,5,40] -> Quantize "q" -> BinaryConv2D "bconv" (3x3, pad 1, 8 outputs).
struct RawModel {
  struct Tensor {
    std::string name;
    std::vector<int> shape;
    fb::DType dtype;
    int buffer;
  };
  struct Op {
    std::string name;
    fb::OperatorOptions type;
    std::function<flatbuffers::Offset<void>(Fbb&)> options;
    std::vector<int> inputs, outputs;
  };
  uint32_t version = kFormatVersion;
  std::vector<Tensor> tensors;
  std::vector<std::vector<uint8_t>> buffers;
  std::vector<Op> ops;
  std::vector<int> inputs{0}, outputs{5};
  int stride = 1;

  RawModel() {
    buffers.push_back(std::vector<uint8_t>(8 * 3 * 3 * 2 * 4, 0x5a));  // weights: 8*3*3 rows of 2 words
    for (size_t w = 1; w < 8 * 3 * 3 * 2; w += 2)  // 40 channels: bits 8..31 of a row's 2nd word are padding
      std::fill_n(buffers[0].begin() + std::ptrdiff_t(w * 4 + 1), 3, uint8_t(0));
    buffers.push_back(std::vector<uint8_t>(8 * 4, 0));                 // multiplier (0.0f)
    buffers.push_back(std::vector<uint8_t>(8 * 4, 0));                 // bias
    tensors = {{"x", {1, 5, 5, 40}, fb::DType::Float32, -1},
               {"q", {1, 5, 5, 40}, fb::DType::BitPacked, -1},
               {"w", {8, 3, 3, 40}, fb::DType::BitPacked, 0},
               {"m", {8}, fb::DType::Float32, 1},
               {"b", {8}, fb::DType::Float32, 2},
               {"y", {1, 5, 5, 8}, fb::DType::Float32, -1}};
    ops.push_back({"q", fb::OperatorOptions::QuantizeOptions,
                   [](Fbb& f) { return fb::CreateQuantizeOptions(f).Union(); }, {0}, {1}});
    ops.push_back({"bconv", fb::OperatorOptions::BinaryConv2DOptions,
                   [this](Fbb& f) {
                     return fb::CreateBinaryConv2DOptions(f, 3, 3, stride, stride, 1, 1, 1, 1, 1, 1).Union();
                   },
                   {1, 2, 3, 4}, {5}});
  }

  /// Operator `op`'s input `k` (or output `k`) now reads (writes) tensor index `t`. In place: a copy's bconv
  /// options would read the original's stride.
  RawModel& with_input(int op, int k, int t) {
    ops[size_t(op)].inputs[size_t(k)] = t;
    return *this;
  }
  RawModel& with_output(int op, int k, int t) {
    ops[size_t(op)].outputs[size_t(k)] = t;
    return *this;
  }

  std::vector<uint8_t> bytes() const {
    Fbb f;
    std::vector<flatbuffers::Offset<fb::Buffer>> bs;
    for (const auto& d : buffers) {
      f.ForceVectorAlignment(d.size(), 1, 16);
      bs.push_back(fb::CreateBuffer(f, f.CreateVector(d)));
    }
    std::vector<flatbuffers::Offset<fb::Tensor>> ts;
    for (const Tensor& t : tensors)
      ts.push_back(fb::CreateTensor(f, f.CreateString(t.name), f.CreateVector(t.shape), t.dtype, t.buffer));
    std::vector<flatbuffers::Offset<fb::Operator>> os;
    for (const Op& op : ops) {
      const auto options = op.options ? op.options(f) : flatbuffers::Offset<void>();
      os.push_back(fb::CreateOperator(f, op.type, options, f.CreateVector(op.inputs), f.CreateVector(op.outputs),
                                      f.CreateString(op.name)));
    }
    const auto m = fb::CreateModel(f, version, f.CreateVector(ts), f.CreateVector(bs), f.CreateVector(os),
                                   f.CreateVector(inputs), f.CreateVector(outputs));
    fb::FinishModelBuffer(f, m);
    return std::vector<uint8_t>(f.GetBufferPointer(), f.GetBufferPointer() + f.GetSize());
  }
};

Status load(const std::vector<uint8_t>& bytes) {
  std::unique_ptr<Model> model;
  return Model::load_buffer(bytes.data(), bytes.size(), &model);
}

/// Loads `raw` and checks that it is rejected with a message containing every one of `parts`.
void expect_rejected(const RawModel& raw, const std::vector<std::string>& parts) {
  const Status s = load(raw.bytes());
  INFO("message: " << s.message());
  REQUIRE_FALSE(s.ok());
  for (const std::string& p : parts) {
    INFO("expected the message to contain: " << p);
    CHECK(s.message().find(p) != std::string::npos);
  }
}

}  // namespace

TEST_CASE("the base model used by the validation tests is valid and runs") {
  const std::vector<uint8_t> bytes = RawModel().bytes();
  std::unique_ptr<Model> model;
  Status s = Model::load_buffer(bytes.data(), bytes.size(), &model);
  REQUIRE_MESSAGE(s.ok(), s.message());
  std::unique_ptr<Interpreter> interp;
  s = Interpreter::create(*model, {}, &interp);
  REQUIRE_MESSAGE(s.ok(), s.message());
  REQUIRE(interp->invoke().ok());
}

TEST_CASE("file-level errors: truncated, wrong identifier, wrong version") {
  const std::vector<uint8_t> good = RawModel().bytes();
  SUBCASE("truncated at every length") {
    for (size_t n = 0; n < good.size(); ++n) {
      const std::vector<uint8_t> cut(good.begin(), good.begin() + long(n));
      const Status s = load(cut);
      CAPTURE(n);
      INFO("message: " << s.message());
      CHECK_FALSE(s.ok());
    }
    const Status s = load(std::vector<uint8_t>(good.begin(), good.begin() + long(good.size() / 2)));
    CHECK(s.message().find("truncated") != std::string::npos);
  }
  SUBCASE("wrong identifier") {
    std::vector<uint8_t> bad = good;
    std::memcpy(bad.data() + 4, "TFL3", 4);
    const Status s = load(bad);
    INFO(s.message());
    CHECK(s.message().find("wrong file identifier 'TFL3'") != std::string::npos);
  }
  SUBCASE("wrong version") {
    RawModel raw;
    raw.version = 2;
    expect_rejected(raw, {"format version 2", "reads version 1"});
  }
}

TEST_CASE("tensor errors: index out of range, buffer too small, negative or absurd dimensions") {
  SUBCASE("operator input index out of range") {
    expect_rejected(RawModel().with_input(1, 0, 99),
                    {"operator 1 'bconv' (BinaryConv2D)", "input 0", "tensor index 99 out of range"});
  }
  SUBCASE("operator output index out of range") {
    expect_rejected(RawModel().with_output(0, 0, -3), {"operator 0 'q' (Quantize)", "output 0", "-3 out of range"});
  }
  SUBCASE("graph input index out of range") {
    RawModel raw;
    raw.inputs = {6};
    expect_rejected(raw, {"graph input 0", "tensor index 6 out of range"});
  }
  SUBCASE("buffer index out of range") {
    RawModel raw;
    raw.tensors[3].buffer = 7;
    expect_rejected(raw, {"tensor 3 'm'", "buffer 7 out of range"});
  }
  SUBCASE("BitPacked constant with channel-padding bits set") {
    RawModel raw;
    raw.buffers[0][5 * 8 + 4 + 3] = 0x80;  // row 5's last word, bit 31 (channels 40..63 do not exist)
    expect_rejected(raw, {"tensor 2 'w'", "row 5 has channel-padding bits set", "bits 8..31"});
  }
  SUBCASE("buffer smaller than its shape implies") {
    RawModel raw;
    raw.buffers[0].resize(raw.buffers[0].size() - 4);
    expect_rejected(raw, {"tensor 2 'w'", "holds 572 bytes, expected 576", "BitPacked"});
  }
  SUBCASE("negative dimension") {
    RawModel raw;
    raw.tensors[5].shape[1] = -5;
    expect_rejected(raw, {"tensor 5 'y'", "shape[1] = -5"});
  }
  SUBCASE("absurd dimension") {
    RawModel raw;
    raw.tensors[0].shape[2] = 1 << 30;
    expect_rejected(raw, {"tensor 0 'x'", "shape[2] = 1073741824", "expected 1..1048576"});
  }
  SUBCASE("element count overflow") {
    RawModel raw;
    raw.tensors[0].shape = {1 << 20, 1 << 20, 1 << 20, 1 << 20};
    expect_rejected(raw, {"tensor 0 'x'", "more than 268435456 elements"});
  }
  SUBCASE("rank 0 and rank 5") {
    RawModel raw;
    raw.tensors[4].shape = {};
    expect_rejected(raw, {"tensor 4 'b'", "rank 0"});
    raw.tensors[4].shape = {1, 1, 1, 1, 8};
    expect_rejected(raw, {"tensor 4 'b'", "rank 5"});
  }
}

TEST_CASE("operator errors: dtypes, shapes, options, graph order") {
  SUBCASE("binary conv input of the wrong dtype") {
    // the float input instead of the quantized one
    expect_rejected(RawModel().with_input(1, 0, 0),
                    {"operator 1 'bconv' (BinaryConv2D)", "input 0 (tensor 0 'x')", "dtype Float32",
                     "expected BitPacked"});
  }
  SUBCASE("weights that are not constant") {
    expect_rejected(RawModel().with_input(1, 1, 1), {"operator 1 'bconv'", "input 1", "constant"});
  }
  SUBCASE("weights of the wrong shape") {
    RawModel raw;
    raw.tensors[2].shape = {8, 3, 3, 32};
    raw.buffers[0].resize(8 * 3 * 3 * 4);
    expect_rejected(raw, {"operator 1 'bconv'", "input 1 (tensor 2 'w')", "expected [8, 3, 3, 40]"});
  }
  SUBCASE("inconsistent output shape") {
    RawModel raw;
    raw.tensors[5].shape = {1, 4, 5, 8};
    expect_rejected(raw, {"operator 1 'bconv'", "output (tensor 5 'y')", "expected [1, 5, 5, 8]"});
  }
  SUBCASE("zero stride") {
    RawModel raw;
    raw.stride = 0;
    expect_rejected(raw, {"operator 1 'bconv' (BinaryConv2D)", "stride_h = 0", "expected 1..4096"});
  }
  SUBCASE("missing input") {
    RawModel raw;
    raw.ops[1].inputs.pop_back();
    expect_rejected(raw, {"operator 1 'bconv'", "has 3 inputs, expected 4"});
  }
  SUBCASE("options table missing or of an unknown type") {
    RawModel raw;
    raw.ops[1].options = nullptr;
    expect_rejected(raw, {"operator 1 'bconv' (BinaryConv2D)", "options table is missing"});
    RawModel unknown;
    unknown.ops[0].type = fb::OperatorOptions(99);
    expect_rejected(unknown, {"operator 0 'q'", "options type 99"});
  }
  SUBCASE("use before definition (operators out of order)") {
    RawModel raw;
    std::swap(raw.ops[0], raw.ops[1]);
    expect_rejected(raw, {"operator 0 'bconv'", "input 0 (tensor 1 'q')", "used before"});
  }
  SUBCASE("a cycle: an operator writing a graph input") {
    expect_rejected(RawModel().with_output(0, 0, 0), {"operator 0 'q'", "graph input"});
  }
  SUBCASE("a tensor produced twice") {
    RawModel raw;
    raw.ops.push_back(raw.ops[0]);
    raw.ops.back().name = "q2";
    expect_rejected(raw, {"operator 2 'q2'", "already produced by operator 0 'q'"});
  }
  SUBCASE("graph output never produced") {
    RawModel raw;
    raw.outputs = {1};
    raw.ops.pop_back();
    raw.outputs = {5};
    expect_rejected(raw, {"graph output 0", "never produced"});
  }
  SUBCASE("graph input that is bitpacked") {
    RawModel raw;
    raw.tensors[0].dtype = fb::DType::BitPacked;
    expect_rejected(raw, {"graph input 0", "expected Float32"});
  }
}

TEST_CASE("random byte corruption never crashes; accepted models still run") {
  const std::vector<uint8_t> good = RawModel().bytes();
  std::mt19937 rng(4242);
  int accepted = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::vector<uint8_t> bad = good;
    const int flips = 1 + int(rng() % 4);
    for (int k = 0; k < flips; ++k) bad[rng() % bad.size()] ^= uint8_t(1u << (rng() % 8));
    std::unique_ptr<Model> model;
    const Status s = Model::load_buffer(bad.data(), bad.size(), &model);
    CAPTURE(iter);
    if (!s.ok()) {
      CHECK(!s.message().empty());
      continue;
    }
    ++accepted;
    std::unique_ptr<Interpreter> interp;
    if (Interpreter::create(*model, {}, &interp).ok()) CHECK(interp->invoke().ok());
  }
  CHECK(accepted < 3000);  // most corruptions are caught; the rest (e.g. weight bytes) are benign
}

TEST_CASE("load_file names the file; write_file_atomically leaves nothing behind on failure") {
  std::unique_ptr<Model> model;
  Status s = Model::load_file("/nonexistent/dir/m.fb", &model);
  CHECK_FALSE(s.ok());
  CHECK(s.message().find("/nonexistent/dir/m.fb") != std::string::npos);

  const std::string dir = "/tmp/onebit_runtime_test_" + std::to_string(getpid());
  REQUIRE(std::system(("mkdir -p " + dir).c_str()) == 0);
  const std::string path = dir + "/m.fb";
  s = write_file_atomically(path, RawModel().bytes());
  REQUIRE_MESSAGE(s.ok(), s.message());
  s = Model::load_file(path, &model);
  REQUIRE_MESSAGE(s.ok(), s.message());
  CHECK(model->size_bytes() == RawModel().bytes().size());

  s = write_file_atomically(dir + "/missing/m.fb", {1, 2, 3});
  CHECK_FALSE(s.ok());
  CHECK(s.message().find(dir + "/missing/m.fb") != std::string::npos);

  std::vector<uint8_t> bad = RawModel().bytes();
  bad[4] = 'X';
  REQUIRE(write_file_atomically(path, bad).ok());
  s = Model::load_file(path, &model);
  CHECK(s.message().find("model file '" + path + "'") != std::string::npos);
  CHECK(s.message().find("wrong file identifier") != std::string::npos);
  CHECK(std::system(("test $(ls -A " + dir + " | wc -l) -eq 1").c_str()) == 0);  // only m.fb, no temp files
  REQUIRE(std::system(("rm -rf " + dir).c_str()) == 0);
}
