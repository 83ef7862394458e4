// Malformed model files (issue 9, item 4): every case is one documented mutation of a valid model built here
// with ModelBuilder, applied either to the decoded FlatBuffers object (fb_object.h) or to the raw bytes, and
// must be rejected by Model::load_buffer or Interpreter::create with its specific message (operator / tensor
// and the field and expectation), never crash. No binary blobs: the mutation is the recipe.
//
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <limits>
#include <string>
#include <vector>

#include "common/values.h"
#include "fb_object.h"
#include "onebit/builder/model_builder.h"
#include "onebit/interpreter.h"
#include "onebit/model.h"

using namespace onebit;
using onebit::malformed::ModelT;

namespace {

using Bytes = std::vector<uint8_t>;

using onebit::testing::pm1;
using onebit::testing::ramp;

/// b.finish(); REQUIREs success.
Bytes finished(ModelBuilder& b) {
  Bytes out;
  const Status s = b.finish(&out);
  REQUIRE_MESSAGE(s.ok(), s.message());
  return out;
}

/// Window parameters (Conv2DParams, BinaryConv2DParams, Pool2DParams): k x k, `pad` on every side.
template <typename Params>
Params square_window(int k, int pad) {
  Params p;
  p.kernel_h = p.kernel_w = k;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = pad;
  return p;
}

/// x [1,8,8,3] -> Quantize "q" (threshold, flip, constant) -> BinaryConv2D "bconv" (3x3, pad 1, 16 outputs,
/// bitpacked output) -> BinaryMaxPool2D "bpool" (2x2 / 2) -> Dequantize "deq" -> GlobalAvgPool "gap" ->
/// FullyConnected "fc" (10) -> Softmax "sm".
Bytes binary_base() {
  ModelBuilder b;
  const int x = b.add_input("x", {1, 8, 8, 3});
  const int q = b.quantize("q", x, {0.1f, -0.2f, 0.3f}, {false, true, false}, {-1, -1, 1});
  BinaryConv2DParams p = square_window<BinaryConv2DParams>(3, 1);
  p.bitpacked_output = true;
  const int c = b.binary_conv2d("bconv", q, 16, pm1(16 * 3 * 3 * 3, 7), std::vector<float>(16, 1.0f),
                                ramp(16, -4.0f, 0.5f), p);
  Pool2DParams pp;
  pp.kernel_h = pp.kernel_w = pp.stride_h = pp.stride_w = 2;
  const int mp = b.binary_max_pool("bpool", c, pp);
  const int d = b.dequantize("deq", mp);
  const int g = b.global_avg_pool("gap", d);
  const int fc = b.fully_connected("fc", g, 10, Weights::float32(ramp(10 * 16, -1.0f, 0.0125f)), ramp(10, 0.0f, 0.1f));
  b.mark_output(b.softmax("sm", fc));
  ModelMetadata md;
  md.source = "binary_base";
  md.labels = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"};
  b.set_metadata(md);
  return finished(b);
}

/// x [1,8,8,4] -> Conv2D "conv" (3x3, pad 1, 8) -> ChannelAffine "bn" -> ReLU "relu" -> MaxPool2D "pool" (2x2/2)
/// -> Pad "pad" (1 each side of H, W) -> AvgPool2D "avg" (3x3) -> Add "add" (avg + pool) -> Concat "cat"
/// (add, pool along C) -> Reshape "flat" [1,256] -> FullyConnected "fc" (10) -> Softmax "sm".
Bytes float_base() {
  ModelBuilder b;
  const int x = b.add_input("x", {1, 8, 8, 4});
  const Conv2DParams p = square_window<Conv2DParams>(3, 1);
  const int c = b.conv2d("conv", x, 8, Weights::float32(ramp(8 * 4 * 9, -0.5f, 0.003f)), ramp(8, 0.0f, 0.1f), p);
  const int bn = b.channel_affine("bn", c, ramp(8, 0.5f, 0.1f), ramp(8, -0.2f, 0.05f));
  const int r = b.relu("relu", bn);
  Pool2DParams pp;
  pp.kernel_h = pp.kernel_w = pp.stride_h = pp.stride_w = 2;
  const int mp = b.max_pool("pool", r, pp);
  const int pad = b.pad("pad", mp, {0, 1, 1, 0, 0, 1, 1, 0}, 0.0f);
  Pool2DParams ap;
  ap.kernel_h = ap.kernel_w = 3;
  const int avg = b.avg_pool("avg", pad, ap);
  const int add = b.add("add", avg, mp);
  const int cat = b.concat("cat", {add, mp}, -1);
  const int flat = b.reshape("flat", cat, {1, 256});
  const int fc =
      b.fully_connected("fc", flat, 10, Weights::float32(ramp(10 * 256, -0.3f, 0.0002f)), ramp(10, 0.0f, 0.1f));
  b.mark_output(b.softmax("sm", fc));
  return finished(b);
}

enum class Stage { kLoad, kCreate };

/// Loads `bytes`, then creates an interpreter; returns the first failure and the stage it came from.
Status load_and_create(const Bytes& bytes, Stage* stage) {
  std::unique_ptr<Model> model;
  *stage = Stage::kLoad;
  Status s = Model::load_buffer(bytes.data(), bytes.size(), &model);
  if (!s.ok()) return s;
  *stage = Stage::kCreate;
  std::unique_ptr<Interpreter> interp;
  return Interpreter::create(*model, {}, &interp);
}

/// Loads `bytes` into *model, creates an interpreter on it and invokes it once; REQUIREs every step.
std::unique_ptr<Interpreter> require_runs(const Bytes& bytes, std::unique_ptr<Model>* model) {
  Status s = Model::load_buffer(bytes.data(), bytes.size(), model);
  REQUIRE_MESSAGE(s.ok(), s.message());
  std::unique_ptr<Interpreter> interp;
  s = Interpreter::create(**model, {}, &interp);
  REQUIRE_MESSAGE(s.ok(), s.message());
  REQUIRE(interp->invoke().ok());
  return interp;
}

void expect_rejected(const Bytes& bytes, Stage want_stage, const std::vector<std::string>& parts) {
  Stage stage = Stage::kLoad;
  const Status s = load_and_create(bytes, &stage);
  INFO("message: " << s.message());
  REQUIRE_FALSE(s.ok());
  CHECK_MESSAGE(stage == want_stage, (stage == Stage::kLoad ? "rejected by load_buffer" : "rejected by create"));
  for (const std::string& p : parts) {
    INFO("expected the message to contain: " << p);
    CHECK(s.message().find(p) != std::string::npos);
  }
}

using ObjectMutation = std::function<void(ModelT&)>;
using ByteMutation = std::function<void(Bytes&)>;

void run_case(Bytes (*base)(), const ObjectMutation& mutate, Stage stage, const std::vector<std::string>& parts) {
  ModelT m = malformed::decode(base());
  mutate(m);
  expect_rejected(malformed::encode(m), stage, parts);
}
void run_case(Bytes (*base)(), const ByteMutation& mutate, Stage stage, const std::vector<std::string>& parts) {
  Bytes b = base();
  mutate(b);
  expect_rejected(b, stage, parts);
}

/// Operator `op`'s input (output) k now reads (writes) tensor `tensor`.
ObjectMutation reads(const std::string& op, size_t k, const std::string& tensor) {
  return [=](ModelT& m) { m.op(op).inputs[k] = m.tensor(tensor); };
}
ObjectMutation writes(const std::string& op, size_t k, const std::string& tensor) {
  return [=](ModelT& m) { m.op(op).outputs[k] = m.tensor(tensor); };
}

/// Operator `op`'s input (output) k is tensor index `index` (perhaps out of range).
ObjectMutation input_index(const std::string& op, size_t k, int index) {
  return [=](ModelT& m) { m.op(op).inputs[k] = index; };
}
ObjectMutation output_index(const std::string& op, size_t k, int index) {
  return [=](ModelT& m) { m.op(op).outputs[k] = index; };
}

/// Constant tensor `name` now has shape `shape` and a buffer of `bytes` bytes.
ObjectMutation resized_constant(const std::string& name, std::vector<int> shape, size_t bytes) {
  return [=](ModelT& m) {
    m.t(name).shape = shape;
    m.buffer_of(name).data.resize(bytes);
  };
}

constexpr Stage kLoad = Stage::kLoad;
constexpr Stage kCreate = Stage::kCreate;
constexpr float kInf = std::numeric_limits<float>::infinity();

/// Offset of the root table (the Model) in a finished buffer.
uint32_t root_offset(const Bytes& b) {
  uint32_t v;
  std::memcpy(&v, b.data(), 4);
  return v;
}

}  // namespace

// One case: MODEL_CASE(description [* doctest::skip()], base, mutation, stage, expected message parts...).
#define MODEL_CASE(desc, base, mutation, stage, ...) \
  TEST_CASE("model file: " desc) { run_case(base, mutation, stage, {__VA_ARGS__}); }

TEST_CASE("model file: the base models and their decode/encode round trip are valid and run") {
  for (auto base : {binary_base, float_base}) {
    for (const Bytes& bytes : {base(), malformed::encode(malformed::decode(base()))}) {
      std::unique_ptr<Model> model;
      const std::unique_ptr<Interpreter> interp = require_runs(bytes, &model);
      REQUIRE(interp->output_count() == 1);
      float sum = 0;
      for (int k = 0; k < 10; ++k) sum += interp->output(0)[k];
      CHECK(sum == doctest::Approx(1.0f).epsilon(1e-4));
    }
  }
}

// ---- file level (raw bytes) ------------------------------------------------------------------------------

MODEL_CASE("zero-length file", binary_base, ByteMutation([](Bytes& b) { b.clear(); }), kLoad,
           "truncated: 0 bytes is smaller than any model")
MODEL_CASE("7-byte file", binary_base, ByteMutation([](Bytes& b) { b.resize(7); }), kLoad,
           "truncated: 7 bytes is smaller than any model")
MODEL_CASE("truncated to half its bytes", binary_base, ByteMutation([](Bytes& b) { b.resize(b.size() / 2); }),
           kLoad, "corrupt or truncated: the FlatBuffers verifier rejected the file")
MODEL_CASE("last 32 bytes cut off", binary_base, ByteMutation([](Bytes& b) { b.resize(b.size() - 32); }), kLoad,
           "corrupt or truncated")
MODEL_CASE("wrong file identifier ONEX", binary_base, ByteMutation([](Bytes& b) { b[7] = 'X'; }), kLoad,
           "wrong file identifier 'ONEX', expected 'ONEB' (not a onebit model)")
MODEL_CASE("identifier bytes not printable", binary_base, ByteMutation([](Bytes& b) { b[4] = 0; b[5] = 0xff; }),
           kLoad, "wrong file identifier '??EB'")
MODEL_CASE("root offset points past the end", binary_base,
           ByteMutation([](Bytes& b) { const uint32_t v = uint32_t(b.size()) + 64; std::memcpy(b.data(), &v, 4); }),
           kLoad, "corrupt or truncated")
MODEL_CASE("root table's vtable offset corrupted", binary_base, ByteMutation([](Bytes& b) {
             const uint32_t at = root_offset(b);
             const int32_t bad = int32_t(0x7ffffff0);
             std::memcpy(b.data() + at, &bad, 4);
           }),
           kLoad, "corrupt or truncated")
// All zeros is a valid empty table for the Verifier (vtable at offset 0 of itself): every field absent.
MODEL_CASE("every byte after the header zeroed", binary_base,
           ByteMutation([](Bytes& b) { std::fill(b.begin() + 8, b.end(), 0); }), kLoad, "model has no graph inputs")

// ---- model level ---------------------------------------------------------------------------------------------

MODEL_CASE("version 2", binary_base, ObjectMutation([](ModelT& m) { m.version = 2; }), kLoad,
           "unsupported format version 2 (this runtime reads version 1)")
MODEL_CASE("version 0", binary_base, ObjectMutation([](ModelT& m) { m.version = 0; }), kLoad,
           "unsupported format version 0")
MODEL_CASE("no graph inputs", binary_base, ObjectMutation([](ModelT& m) { m.inputs.clear(); }), kLoad,
           "model has no graph inputs")
MODEL_CASE("no graph outputs", binary_base, ObjectMutation([](ModelT& m) { m.outputs.clear(); }), kLoad,
           "model has no graph outputs")
MODEL_CASE("graph input index out of range", binary_base, ObjectMutation([](ModelT& m) { m.inputs = {77}; }),
           kLoad, "graph input 0: tensor index 77 out of range (model has 14 tensors)")
MODEL_CASE("graph output index negative", binary_base, ObjectMutation([](ModelT& m) { m.outputs = {-3}; }), kLoad,
           "graph output 0: tensor index -3 out of range")
MODEL_CASE("graph input listed twice", binary_base, ObjectMutation([](ModelT& m) { m.inputs = {0, 0}; }), kLoad,
           "graph input 1: tensor 0 'x' is listed twice")
MODEL_CASE("graph output listed twice", binary_base,
           ObjectMutation([](ModelT& m) { m.outputs = {m.tensor("sm"), m.tensor("sm")}; }), kLoad,
           "graph output 1: tensor 13 'sm' is listed twice")
MODEL_CASE("graph output is a constant", binary_base,
           ObjectMutation([](ModelT& m) { m.outputs = {m.tensor("fc/weights")}; }), kLoad,
           "graph output 0: tensor 10 'fc/weights' is a constant, expected an activation")
MODEL_CASE("graph output that no operator produces", binary_base, ObjectMutation([](ModelT& m) {
             m.tensors.push_back({"orphan", true, {1, 10}, 0, -1});
             m.outputs = {int(m.tensors.size()) - 1};
           }),
           kLoad, "graph output 0: tensor 14 'orphan' is never produced by an operator")
MODEL_CASE("graph input with dtype BitPacked", binary_base, ObjectMutation([](ModelT& m) { m.t("x").dtype = 1; }),
           kLoad, "graph input 0: tensor 0 'x' has dtype BitPacked, expected Float32")

// ---- tensors and buffers ---------------------------------------------------------------------------------------

MODEL_CASE("tensor shape missing", binary_base, ObjectMutation([](ModelT& m) { m.t("bconv").has_shape = false; }),
           kLoad, "tensor 6 'bconv': shape is missing")
MODEL_CASE("tensor of rank 5", binary_base,
           ObjectMutation([](ModelT& m) { m.t("bpool").shape = {1, 4, 4, 16, 1}; }), kLoad,
           "tensor 7 'bpool': rank 5, expected 1..4")
MODEL_CASE("tensor of rank 0", binary_base, ObjectMutation([](ModelT& m) { m.t("gap").shape = {}; }), kLoad,
           "tensor 9 'gap': rank 0, expected 1..4")
MODEL_CASE("shape dim 0", binary_base, ObjectMutation([](ModelT& m) { m.t("deq").shape[1] = 0; }), kLoad,
           "tensor 8 'deq': shape[1] = 0, expected 1..1048576")
MODEL_CASE("shape dim negative", binary_base, ObjectMutation([](ModelT& m) { m.t("x").shape[3] = -3; }), kLoad,
           "tensor 0 'x': shape[3] = -3, expected 1..1048576")
MODEL_CASE("huge declared tensor (2^20 x 2^20 activation)", binary_base,
           ObjectMutation([](ModelT& m) { m.t("deq").shape = {1, 1 << 20, 1 << 20, 16}; }), kLoad,
           "tensor 8 'deq': more than 268435456 elements")
MODEL_CASE("output shape dim changed", binary_base,
           ObjectMutation([](ModelT& m) { m.t("bconv").shape = {1, 8, 8, 17}; }), kLoad,
           "operator 1 'bconv' (BinaryConv2D): output (tensor 6 'bconv') has shape [1, 8, 8, 17], expected [1, 8, 8, 16]")
MODEL_CASE("dtype value 7", binary_base, ObjectMutation([](ModelT& m) { m.t("fc/bias").dtype = 7; }), kLoad,
           "tensor 11 'fc/bias': dtype 7 is not Float32, BitPacked, Int32, Float16 or Int8")
MODEL_CASE("buffer index out of range", binary_base, ObjectMutation([](ModelT& m) { m.t("fc/bias").buffer = 99; }),
           kLoad, "tensor 11 'fc/bias': buffer 99 out of range (model has 6 buffers; -1 means an activation)")
MODEL_CASE("buffer index -2", binary_base, ObjectMutation([](ModelT& m) { m.t("fc/bias").buffer = -2; }), kLoad,
           "tensor 11 'fc/bias': buffer -2 out of range")
MODEL_CASE("bitpacked weights one word short", binary_base,
           ObjectMutation([](ModelT& m) { m.buffer_of("bconv/weights").data.resize(16 * 9 * 4 - 4); }), kLoad,
           "tensor 3 'bconv/weights': buffer 1 holds 572 bytes, expected 576 for shape [16, 3, 3, 3] of BitPacked")
MODEL_CASE("float weights 4 bytes too long", binary_base,
           ObjectMutation([](ModelT& m) { m.buffer_of("fc/weights").data.resize(10 * 16 * 4 + 4); }), kLoad,
           "tensor 10 'fc/weights': buffer 4 holds 644 bytes, expected 640 for shape [10, 16] of Float32")
MODEL_CASE("buffer without data", binary_base,
           ObjectMutation([](ModelT& m) { m.buffer_of("fc/bias").has_data = false; }), kLoad,
           "tensor 11 'fc/bias': buffer 5 holds 0 bytes, expected 40")

// ---- graph order ------------------------------------------------------------------------------------------------

MODEL_CASE("operator reads a tensor before it is written (two operators swapped)", binary_base,
           ObjectMutation([](ModelT& m) { std::swap(m.operators[1], m.operators[2]); }), kLoad,
           "operator 1 'bpool' (BinaryMaxPool2D): input 0 (tensor 6 'bconv') is used before any operator produces it")
MODEL_CASE("cycle: bconv reads bpool's output", binary_base, reads("bconv", 0, "bpool"), kLoad,
           "operator 1 'bconv' (BinaryConv2D): input 0 (tensor 7 'bpool') is used before any operator produces it")
MODEL_CASE("self-loop: an operator reads its own output", binary_base, reads("deq", 0, "deq"), kLoad,
           "operator 3 'deq' (Dequantize): input 0 (tensor 8 'deq') is used before any operator produces it")
MODEL_CASE("two operators write one tensor", binary_base, writes("bpool", 0, "bconv"), kLoad,
           "operator 2 'bpool' (BinaryMaxPool2D): output 0 (tensor 6 'bconv') is already produced by operator 1 "
           "'bconv' (BinaryConv2D)")
MODEL_CASE("operator writes a graph input", float_base, writes("relu", 0, "x"), kLoad,
           "operator 2 'relu' (Relu): output 0 (tensor 0 'x') is a graph input")
MODEL_CASE("operator writes a constant", float_base, writes("relu", 0, "conv/bias"), kLoad,
           "operator 2 'relu' (Relu): output 0 (tensor 2 'conv/bias') is a constant tensor")
MODEL_CASE("operator input index out of range", binary_base, input_index("bconv", 0, 999), kLoad,
           "operator 1 'bconv' (BinaryConv2D): input 0: tensor index 999 out of range (model has 14 tensors)")
MODEL_CASE("operator input index negative", binary_base, input_index("gap", 0, -1), kLoad,
           "operator 4 'gap' (GlobalAvgPool): input 0: tensor index -1 out of range")
MODEL_CASE("operator output index out of range", binary_base, output_index("sm", 0, 14), kLoad,
           "operator 6 'sm' (Softmax): output 0: tensor index 14 out of range (model has 14 tensors)")
MODEL_CASE("absent input (-1) where the operator table allows none", binary_base, input_index("bconv", 2, -1), kLoad,
           "operator 1 'bconv' (BinaryConv2D): input 2: tensor index -1 out of range")
MODEL_CASE("BinaryConv2D with three outputs (at most two)", binary_base,
           ObjectMutation([](ModelT& m) {
             m.op("bconv").outputs.push_back(m.tensor("bpool"));
             m.op("bconv").outputs.push_back(m.tensor("deq"));
           }),
           kLoad, "operator 1 'bconv' (BinaryConv2D): has 3 outputs, expected 1..2")
MODEL_CASE("an operator lists one output twice", binary_base,
           ObjectMutation([](ModelT& m) { m.op("bconv").outputs.push_back(m.tensor("bconv")); }), kLoad,
           "operator 1 'bconv' (BinaryConv2D): output 1 (tensor 6 'bconv') is also output 0")
MODEL_CASE("a Float16 tensor that is an activation", float_base,
           ObjectMutation([](ModelT& m) { m.t("relu").dtype = int(fb::DType::Float16); }), kLoad,
           "'relu': dtype Float16 is for constants (weights) only, but the tensor has no buffer")
MODEL_CASE("operator with two outputs", binary_base,
           ObjectMutation([](ModelT& m) { m.op("fc").outputs.push_back(m.tensor("sm")); }), kLoad,
           "operator 5 'fc' (FullyConnected): has 2 outputs, expected 1")
MODEL_CASE("operator with no outputs", binary_base, ObjectMutation([](ModelT& m) { m.op("fc").outputs.clear(); }),
           kLoad, "operator 5 'fc' (FullyConnected): has 0 outputs, expected 1")

// ---- operator options and inputs ------------------------------------------------------------------------------

MODEL_CASE("options table missing", binary_base, ObjectMutation([](ModelT& m) { m.op("bpool").has_options = false; }),
           kLoad, "operator 2 'bpool' (BinaryMaxPool2D): options table is missing")
MODEL_CASE("unknown options type 99", binary_base, ObjectMutation([](ModelT& m) { m.op("gap").type = 99; }), kLoad,
           "operator 4 'gap' (unknown type 99): options type 99 is not a known operator")
MODEL_CASE("options type NONE", binary_base, ObjectMutation([](ModelT& m) { m.op("gap").type = 0; }), kLoad,
           "operator 4 'gap' (unknown type 0): options type 0 is not a known operator")
MODEL_CASE("binary conv pad of 2^30", binary_base,
           ObjectMutation([](ModelT& m) { m.op("bconv").options.pad_top = 1 << 30; }), kLoad,
           "operator 1 'bconv' (BinaryConv2D): pad_top = 1073741824, expected 0..4096")
MODEL_CASE("binary pool window of 2^20", binary_base,
           ObjectMutation([](ModelT& m) { m.op("bpool").options.kernel_h = 1 << 20; }), kLoad,
           "operator 2 'bpool' (BinaryMaxPool2D): kernel_h = 1048576, expected 1..4096")
MODEL_CASE("pool pad as large as its window", binary_base,
           ObjectMutation([](ModelT& m) { m.op("bpool").options.pad_left = 2; }), kLoad,
           "operator 2 'bpool' (BinaryMaxPool2D): pad_left = 2, expected 0..1")
MODEL_CASE("pool window larger than the input", binary_base, ObjectMutation([](ModelT& m) {
             m.op("bpool").options.kernel_h = m.op("bpool").options.kernel_w = 9;
           }),
           kLoad, "operator 2 'bpool' (BinaryMaxPool2D): window 9x9 (dilation 1x1) does not fit input [1, 8, 8, 16]")
MODEL_CASE("conv stride 0", float_base, ObjectMutation([](ModelT& m) { m.op("conv").options.stride_w = 0; }),
           kLoad, "operator 0 'conv' (Conv2D): stride_w = 0, expected 1..4096")
MODEL_CASE("binary conv dilation -1", binary_base,
           ObjectMutation([](ModelT& m) { m.op("bconv").options.dilation_h = -1; }), kLoad,
           "operator 1 'bconv' (BinaryConv2D): dilation_h = -1, expected 1..4096")
MODEL_CASE("binary conv groups 0", binary_base, ObjectMutation([](ModelT& m) { m.op("bconv").options.groups = 0; }),
           kLoad, "operator 1 'bconv' (BinaryConv2D): groups = 0, expected 1..3")
MODEL_CASE("binary conv pad_mode 7", binary_base,
           ObjectMutation([](ModelT& m) { m.op("bconv").options.pad_mode = 7; }), kLoad,
           "operator 1 'bconv' (BinaryConv2D): pad_mode = 7, expected Zero (0), One (1) or MinusOne (2)")
MODEL_CASE("binary conv output kind 9", binary_base,
           ObjectMutation([](ModelT& m) { m.op("bconv").options.output = 9; }), kLoad,
           "operator 1 'bconv' (BinaryConv2D): output = 9, expected Float (0), BitPacked (1), FloatAndBitPacked (2) or "
           "FloatAndLevels (3)")
MODEL_CASE("binary conv weights shape [16,3,3,4] (same bytes, wrong I)", binary_base,
           ObjectMutation([](ModelT& m) { m.t("bconv/weights").shape = {16, 3, 3, 4}; }), kLoad,
           "operator 1 'bconv' (BinaryConv2D): input 1 (tensor 3 'bconv/weights') has shape [16, 3, 3, 4], expected "
           "[16, 3, 3, 3] (weights OHWI, I = C / groups)")
MODEL_CASE("binary conv missing its bias input", binary_base,
           ObjectMutation([](ModelT& m) { m.op("bconv").inputs.pop_back(); }), kLoad,
           "operator 1 'bconv' (BinaryConv2D): has 3 inputs, expected 4")
MODEL_CASE("binary conv reading the float input", binary_base, reads("bconv", 0, "x"), kLoad,
           "operator 1 'bconv' (BinaryConv2D): input 0 (tensor 0 'x') has dtype Float32, expected BitPacked")
MODEL_CASE("threshold vector of the wrong length", binary_base, resized_constant("q/threshold", {4}, 16), kLoad,
           "operator 0 'q' (Quantize): input 1 (tensor 1 'q/threshold') has shape [4], expected [3] "
           "(threshold, one per channel)")
MODEL_CASE("quantize flip of the wrong length", binary_base,
           ObjectMutation([](ModelT& m) { m.op("q").options.flip = {1, 0}; }), kLoad,
           "operator 0 'q' (Quantize): flip has 2 entries, expected 0 or 3")
MODEL_CASE("quantize constant value 5", binary_base,
           ObjectMutation([](ModelT& m) { m.op("q").options.constant[1] = 5; }), kLoad,
           "operator 0 'q' (Quantize): constant[1] = 5, expected -1..1")
MODEL_CASE("dequantize of a float tensor", binary_base, reads("deq", 0, "x"), kLoad,
           "operator 3 'deq' (Dequantize): input 0 (tensor 0 'x') has dtype Float32, expected BitPacked")
MODEL_CASE("fully connected clamp_min > clamp_max", binary_base, ObjectMutation([](ModelT& m) {
             m.op("fc").options.clamp_min = 2.0f;
             m.op("fc").options.clamp_max = 1.0f;
           }),
           kLoad, "operator 5 'fc' (FullyConnected): clamp_min 2.000000 / clamp_max 1.000000: expected clamp_min < clamp_max")
MODEL_CASE("fully connected clamp NaN", binary_base,
           ObjectMutation([](ModelT& m) { m.op("fc").options.clamp_max = std::nanf(""); }), kLoad,
           "operator 5 'fc' (FullyConnected): clamp_min -inf / clamp_max nan: expected clamp_min < clamp_max")
MODEL_CASE("fully connected weights of rank 3", binary_base,
           ObjectMutation([](ModelT& m) { m.t("fc/weights").shape = {10, 4, 4}; }), kLoad,
           "operator 5 'fc' (FullyConnected): input 1 (tensor 10 'fc/weights') has shape [10, 4, 4], expected rank 2")
MODEL_CASE("fully connected weights activation instead of constant", float_base, reads("fc", 1, "flat"), kLoad,
           "operator 9 'fc' (FullyConnected): input 1 (tensor 13 'flat') must be a constant")
MODEL_CASE("options table of another type than options_type says", float_base, ObjectMutation([](ModelT& m) {
             // A Pad whose table is a ConcatOptions: the Verifier reads it as PadOptions, pads absent.
             m.op("pad").options_table = int(fb::OperatorOptions::ConcatOptions);
           }),
           kLoad, "operator 4 'pad' (Pad): pads has 0 values, expected 8")
MODEL_CASE("pad with 3 values", float_base, ObjectMutation([](ModelT& m) { m.op("pad").options.pads = {0, 1, 1}; }),
           kLoad, "operator 4 'pad' (Pad): pads has 3 values, expected 8 (begin and end for each of the 4 dimensions)")
MODEL_CASE("pad of 2^30", float_base,
           ObjectMutation([](ModelT& m) { m.op("pad").options.pads = {0, 1 << 30, 1, 0, 0, 1, 1, 0}; }), kLoad,
           "operator 4 'pad' (Pad): pads[1] = 1073741824, expected 0..4096")
MODEL_CASE("concat axis 7", float_base, ObjectMutation([](ModelT& m) { m.op("cat").options.axis = 7; }), kLoad,
           "operator 7 'cat' (Concat): axis = 7, expected -4..3")
MODEL_CASE("concat of different spatial sizes", float_base, reads("cat", 1, "pad"), kLoad,
           "operator 7 'cat' (Concat): input 1 (tensor 9 'pad') has shape [1, 6, 6, 8], expected [1, 4, 4, 8] (equal to "
           "input 0 except along the concat axis)")
MODEL_CASE("reshape whose element count differs", float_base,
           ObjectMutation([](ModelT& m) { m.t("flat").shape = {1, 255}; }), kLoad,
           "operator 8 'flat' (Reshape): output shape [1, 255] has a different element count than input [1, 4, 4, 16]")
MODEL_CASE("add of shapes that do not broadcast", float_base, reads("add", 1, "pad"), kLoad,
           "operator 6 'add' (Add): inputs [1, 4, 4, 8] and [1, 6, 6, 8] do not broadcast")
MODEL_CASE("channel affine scale of the wrong length", float_base, resized_constant("bn/scale", {4}, 16), kLoad,
           "operator 1 'bn' (ChannelAffine): input 1 (tensor 4 'bn/scale') has shape [4], expected [8] (one value "
           "per channel (last dimension))")
MODEL_CASE("conv weights of rank 3", float_base, ObjectMutation([](ModelT& m) {
             m.t("conv/weights").shape = {8, 9, 4};
           }),
           kLoad, "operator 0 'conv' (Conv2D): input 1 (tensor 1 'conv/weights') has shape [8, 9, 4], expected rank 4")

// ---- memory budget (issue 9 item 2) ---------------------------------------------------------------------------

namespace {

/// x [1,1,1,3] -> `n` Pads "pad<k>" of 4096 on each side of H and W ([1,8193,8193,3], 805 MB each), all live
/// until an Add tree sums them: a few hundred bytes asking for n * 805 MB of arena.
Bytes pad_fanout(int n) {
  ModelBuilder b;
  const int x = b.add_input("x", {1, 1, 1, 3});
  std::vector<int> pads;
  for (int k = 0; k < n; ++k)
    pads.push_back(b.pad("pad" + std::to_string(k), x, {0, 4096, 4096, 0, 0, 4096, 4096, 0}, 0.0f));
  int acc = pads[0];
  for (int k = 1; k < n; ++k) acc = b.add("add" + std::to_string(k), acc, pads[size_t(k)]);
  b.mark_output(acc);
  return finished(b);
}
Bytes pad_fanout_8() { return pad_fanout(8); }

/// x [1,64,64,1] -> Conv2D "wide" 64x64 with pads of 2047: a 67 MB output, but 4095^2 pixels x 4096 taps of
/// XNNPACK indirection pointers (~550 GB) if nothing checks before allocating.
Bytes wide_conv() {
  ModelBuilder b;
  const int x = b.add_input("x", {1, 64, 64, 1});
  const Conv2DParams p = square_window<Conv2DParams>(64, 2047);
  b.mark_output(b.conv2d("wide", x, 1, Weights::float32(std::vector<float>(64 * 64, 0.5f)), {}, p));
  return finished(b);
}

}  // namespace

TEST_CASE("model file: the budget base is tiny") { CHECK(pad_fanout_8().size() < 4096); }

// Budget: InterpreterOptions::max_arena_bytes (issue 9 item 2).
MODEL_CASE("8 pads of 4096 live at once (6.4 GB arena)", pad_fanout_8,
           ObjectMutation([](ModelT&) {}), kCreate, "more than max_arena_bytes", "tensor 1 'pad0'")
MODEL_CASE("a 64x64 conv with pads of 2047 (~550 GB of indirection buffers)", wide_conv,
           ObjectMutation([](ModelT&) {}), kCreate, "more than max_arena_bytes", "'wide' (Conv2D)")
MODEL_CASE("an 805 MB output listed 64 times", pad_fanout_8, ObjectMutation([](ModelT& m) {
             m.outputs.assign(64, m.tensor("pad0"));
           }),
           kLoad, "graph output 1: tensor 1 'pad0' is listed twice")

// ---- k-bit tensors and operators (issue 11) ---------------------------------------------------------------
// malformed::decode/encode (fb_object.h) do not carry Tensor.bits / levels / zero_level / level_scale, so
// these cases mutate the raw bytes of a finished k-bit model in place: a field the builder wrote (a value
// other than the schema default) is overwritten, an operator's input index is redirected, or an input
// vector's length prefix is shortened. The result still passes the Verifier, so validation must reject it.

namespace {

std::vector<float> bipolar2(size_t n, uint32_t seed) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) {
    seed = seed * 1664525u + 1013904223u;
    v[i] = float(2 * int(seed >> 30) - 3);
  }
  return v;
}

/// x [1,6,6,4] -> Quantize "q" (Binary) and QuantizeLevels "ql" (Unipolar 2-bit, zero_level 1, level_scale
/// 0.5); BinaryConv2D "bconv" (ql, 2-bit Bipolar weights, 3x3 pad 1, 8, float); BinaryConv2D "bbin" (q,
/// bitpacked output) and "bone" (q, pad_mode One); BinaryMaxPool2D "bpool" (q) -> Dequantize "dq";
/// Conv2D "bwn" (1-bit weights + weight_scale) and "fconv" (float weights, same shape); Dequantize "dl" (ql).
Bytes kbit_base() {
  ModelBuilder b;
  const int x = b.add_input("x", {1, 6, 6, 4});
  const int q = b.quantize("q", x);
  const int ql = b.quantize_levels("ql", x, {LevelKind::kUnipolar, 2, 1, 0.5f}, ramp(4, 0.5f, 0.5f), ramp(4, 1.0f, 0.25f));
  const BinaryConv2DParams p = square_window<BinaryConv2DParams>(3, 1);
  BinaryConv2DParams p2 = p;
  p2.weight_bits = 2;
  b.mark_output(b.binary_conv2d("bconv", ql, 8, bipolar2(8 * 4 * 9, 3), ramp(8, 0.5f, 0.1f), ramp(8, -1.0f, 0.25f), p2));
  BinaryConv2DParams pb = p;
  pb.bitpacked_output = true;
  b.mark_output(b.binary_conv2d("bbin", q, 8, pm1(8 * 4 * 9, 4), ramp(8, 0.5f, 0.1f), ramp(8, -1.0f, 0.25f), pb));
  BinaryConv2DParams po = p;
  po.pad_mode = BinaryPadding::kOne;
  b.mark_output(b.binary_conv2d("bone", q, 8, pm1(8 * 4 * 9, 5), ramp(8, 0.5f, 0.1f), ramp(8, -1.0f, 0.25f), po));
  Pool2DParams pp;
  pp.kernel_h = pp.kernel_w = pp.stride_h = pp.stride_w = 2;
  b.mark_output(b.dequantize("dq", b.binary_max_pool("bpool", q, pp)));
  const Conv2DParams pc = square_window<Conv2DParams>(3, 1);
  b.mark_output(
      b.conv2d("bwn", x, 8, Weights::binary(pm1(8 * 4 * 9, 6), ramp(8, 0.1f, 0.1f)), ramp(8, 0.0f, 0.1f), pc));
  b.mark_output(b.conv2d("fconv", x, 8, Weights::float32(ramp(8 * 4 * 9, -0.5f, 0.003f)), ramp(8, 0.0f, 0.1f), pc));
  b.mark_output(b.dequantize("dl", ql));
  return finished(b);
}

/// x [1, 2^19] -> QuantizeLevels "ql" (Unipolar 2-bit) -> BinaryFullyConnected "bfc" (2-bit weights, 1 output):
/// |dot| <= 2^19 * 3 * 3, within 2^24; with ql at 4 bits (max level 15) it is 2^19 * 15 * 3 > 2^24.
Bytes kbit_wide_fc() {
  ModelBuilder b;
  const int k = 1 << 19;
  const int x = b.add_input("x", {1, k});
  const int ql = b.quantize_levels("ql", x, {LevelKind::kUnipolar, 2, 0, 1.0f});
  b.mark_output(b.binary_fully_connected("bfc", ql, 1, bipolar2(size_t(k), 9), {1.0f}, {0.0f},
                                         {false, -__builtin_huge_valf(), __builtin_huge_valf(), 2}));
  return finished(b);
}

const fb::Tensor* tensor_in(const Bytes& b, const std::string& name) {
  return fb::GetModel(b.data())->tensors()->Get(flatbuffers::uoffset_t(malformed::decode(b).tensor(name)));
}
const fb::Operator* op_in(const Bytes& b, const std::string& name) {
  return fb::GetModel(b.data())->operators()->Get(flatbuffers::uoffset_t(malformed::decode(b).op_index(name)));
}

/// Overwrites scalar field `vt` of tensor `name`, which the builder must have written (non-default value).
template <typename V>
void set_tensor_field(Bytes& b, const std::string& name, flatbuffers::voffset_t vt, V value) {
  const uint8_t* at = reinterpret_cast<const flatbuffers::Table*>(tensor_in(b, name))->GetAddressOf(vt);
  REQUIRE_MESSAGE(at != nullptr, "field " << vt << " of tensor '" << name << "' is not in the file");
  std::memcpy(b.data() + (at - b.data()), &value, sizeof(V));
}

/// Operator `op`'s input k now reads tensor `tensor`.
void set_op_input(Bytes& b, const std::string& op, size_t k, const std::string& tensor) {
  const int32_t t = malformed::decode(b).tensor(tensor);
  const uint8_t* at = reinterpret_cast<const uint8_t*>(op_in(b, op)->inputs()->data() + k);
  std::memcpy(b.data() + (at - b.data()), &t, 4);
}

/// Operator `op` keeps only its first n inputs (the vector's length prefix is lowered).
void keep_op_inputs(Bytes& b, const std::string& op, uint32_t n) {
  const uint8_t* at = reinterpret_cast<const uint8_t*>(op_in(b, op)->inputs()->data()) - 4;
  std::memcpy(b.data() + (at - b.data()), &n, 4);
}

/// The byte mutations of several cases, by what they do.
template <typename V>
ByteMutation tensor_field(const std::string& name, flatbuffers::voffset_t vt, V value) {
  return [=](Bytes& b) { set_tensor_field<V>(b, name, vt, value); };
}
ByteMutation op_input(const std::string& op, size_t k, const std::string& tensor) {
  return [=](Bytes& b) { set_op_input(b, op, k, tensor); };
}
ByteMutation inputs_kept(const std::string& op, uint32_t n) {
  return [=](Bytes& b) { keep_op_inputs(b, op, n); };
}

using FbTensor = fb::Tensor;

}  // namespace

TEST_CASE("model file: the k-bit base models are valid and the first one runs") {
  for (auto base : {kbit_base, kbit_wide_fc}) {
    const Bytes bytes = base();
    std::unique_ptr<Model> model;
    const Status s = Model::load_buffer(bytes.data(), bytes.size(), &model);
    REQUIRE_MESSAGE(s.ok(), s.message());
    if (base != kbit_base) continue;
    std::unique_ptr<Interpreter> interp;
    REQUIRE(Interpreter::create(*model, {}, &interp).ok());
    REQUIRE(interp->invoke().ok());
  }
}

// Tensor fields.
MODEL_CASE("k-bit tensor with bits 5", kbit_base, tensor_field<uint8_t>("ql", FbTensor::VT_BITS, 5),
           kLoad, "'ql': bits = 5, expected 1..4 (bit-planes of a BitPacked tensor)")
MODEL_CASE("k-bit tensor with bits 0", kbit_base, tensor_field<uint8_t>("ql", FbTensor::VT_BITS, 0),
           kLoad, "'ql': bits = 0, expected 1..4")
MODEL_CASE("k-bit tensor with levels 7", kbit_base, tensor_field<int8_t>("ql", FbTensor::VT_LEVELS, 7),
           kLoad, "'ql': levels = 7, expected Binary (0), Unipolar (1), Bipolar (2) or Ternary (3)")
MODEL_CASE("Binary levels with 2 bits", kbit_base, tensor_field<int8_t>("bconv/weights", FbTensor::VT_LEVELS, 0),
           kLoad, "'bconv/weights': levels Binary with bits = 2, expected bits 1")
MODEL_CASE("Ternary levels with 3 bits", kbit_base, ByteMutation([](Bytes& b) {
             set_tensor_field<uint8_t>(b, "ql", FbTensor::VT_BITS, 3);
             set_tensor_field<int8_t>(b, "ql", FbTensor::VT_LEVELS, 3);
           }),
           kLoad, "'ql': levels Ternary with bits = 3, expected bits 2")
MODEL_CASE("zero_level 4 on 2 bits", kbit_base, tensor_field<uint8_t>("ql", FbTensor::VT_ZERO_LEVEL, 4),
           kLoad, "'ql': zero_level = 4, expected 0..3 (a level index of 2 bits)")
MODEL_CASE("zero_level on Bipolar levels", kbit_base, tensor_field<int8_t>("ql", FbTensor::VT_LEVELS, 2),
           kLoad, "'ql': zero_level = 1 with levels Bipolar, expected 0 (zero_level is for Unipolar levels only)")
MODEL_CASE("level_scale 0", kbit_base, tensor_field<float>("ql", FbTensor::VT_LEVEL_SCALE, 0.0f),
           kLoad, "'ql': level_scale = 0", "expected a finite nonzero value")
MODEL_CASE("level_scale NaN", kbit_base,
           tensor_field<float>("ql", FbTensor::VT_LEVEL_SCALE, std::numeric_limits<float>::quiet_NaN()),
           kLoad, "'ql': level_scale = ", "nan, expected a finite nonzero value")
MODEL_CASE("level_scale infinite", kbit_base, tensor_field<float>("ql", FbTensor::VT_LEVEL_SCALE, -kInf),
           kLoad, "'ql': level_scale = -inf, expected a finite nonzero value")
MODEL_CASE("Float32 tensor with k-bit fields", kbit_base, tensor_field<int8_t>("ql", FbTensor::VT_DTYPE, 0),
           kLoad, "'ql': Float32 tensor has bits 2, levels 1, zero_level 1, level_scale 0.5",
           "expected the defaults (bits 1, Binary, 0, 1): these fields describe BitPacked tensors only")
MODEL_CASE("2-plane weights declared 1-bit (buffer is bits times the plane size)", kbit_base,
           tensor_field<uint8_t>("bconv/weights", FbTensor::VT_BITS, 1), kLoad,
           "'bconv/weights': buffer", "holds 576 bytes, expected 288 for shape [8, 3, 3, 4] of BitPacked")

// Quantize / QuantizeLevels.
MODEL_CASE("QuantizeLevels with a Binary output", kbit_base, ByteMutation([](Bytes& b) {
             set_tensor_field<uint8_t>(b, "ql", FbTensor::VT_BITS, 1);
             set_tensor_field<int8_t>(b, "ql", FbTensor::VT_LEVELS, 0);
             set_tensor_field<uint8_t>(b, "ql", FbTensor::VT_ZERO_LEVEL, 0);
           }),
           kLoad, "'ql' (QuantizeLevels): output (tensor", "'ql') has levels Binary, expected Unipolar, Bipolar or "
           "Ternary (Binary is Quantize's)")
MODEL_CASE("QuantizeLevels without shift", kbit_base, inputs_kept("ql", 2),
           kLoad, "'ql' (QuantizeLevels): has 2 inputs, expected 3")
MODEL_CASE("Quantize with a k-bit output", kbit_base, ByteMutation([](Bytes& b) {
             const uint8_t* at = reinterpret_cast<const flatbuffers::Table*>(op_in(b, "ql"))
                                     ->GetAddressOf(fb::Operator::VT_OPTIONS_TYPE);
             REQUIRE(at != nullptr);
             b[size_t(at - b.data())] = uint8_t(fb::OperatorOptions::QuantizeOptions);
             keep_op_inputs(b, "ql", 1);
           }),
           kLoad, "'ql' (Quantize): output (tensor", "has levels Unipolar 2-bit (zero_level 1), expected Binary "
           "(k-bit levels come from QuantizeLevels)")

// Binary convolutions over k-bit levels.
MODEL_CASE("BinaryConv2D with Unipolar weights", kbit_base,
           tensor_field<int8_t>("bconv/weights", FbTensor::VT_LEVELS, 1),
           kLoad, "'bconv' (BinaryConv2D): input 1", "'bconv/weights') has levels Unipolar 2-bit, expected Binary (1 bit) "
           "or Bipolar 2-bit weights")
MODEL_CASE("BinaryConv2D with k-bit x and a bitpacked output", kbit_base, op_input("bbin", 0, "ql"), kLoad,
           "'bbin' (BinaryConv2D): output = BitPacked with x Unipolar 2-bit (zero_level 1) and weights Binary, "
           "expected Float (bitpacked output needs Binary x and weights)")
MODEL_CASE("BinaryConv2D with k-bit x and pad_mode One", kbit_base, op_input("bone", 0, "ql"), kLoad,
           "'bone' (BinaryConv2D): pad_mode is not Zero with x Unipolar 2-bit (zero_level 1), expected Zero (One / "
           "MinusOne padding is for Binary x only)")
MODEL_CASE("BinaryFullyConnected whose dot can exceed 2^24", kbit_wide_fc,
           tensor_field<uint8_t>("ql", FbTensor::VT_BITS, 4),
           kLoad, "'bfc' (BinaryFullyConnected): 524288 taps of x Unipolar 4-bit and weights Bipolar 2-bit can reach "
           "|dot| 23592960, expected at most 2^24 = 16777216")
MODEL_CASE("BinaryMaxPool2D on k-bit levels", kbit_base, op_input("bpool", 0, "ql"),
           kLoad, "'bpool' (BinaryMaxPool2D): input 0", "'ql') has levels Unipolar 2-bit (zero_level 1), expected Binary "
           "(the max of k-bit levels is not the AND of their planes")

// Conv2D / FullyConnected with 1-bit weights.
MODEL_CASE("Conv2D with 1-bit weights and no weight_scale", kbit_base, inputs_kept("bwn", 3), kLoad,
           "'bwn' (Conv2D): has 3 inputs with BitPacked weights, expected 4 (x, weights, bias, weight_scale [8])")
MODEL_CASE("Conv2D with float weights and a weight_scale", kbit_base, op_input("bwn", 1, "fconv/weights"), kLoad,
           "'bwn' (Conv2D): has 4 inputs with Float32 weights, expected 2..3")
MODEL_CASE("Conv2D with 2-bit weights", kbit_base, op_input("bwn", 1, "bconv/weights"), kLoad,
           "'bwn' (Conv2D): input 1", "'bconv/weights') has levels Bipolar 2-bit, expected Binary (1 bit) weights with "
           "a weight_scale")
MODEL_CASE("Conv2D weight_scale of the wrong length", kbit_base, op_input("bwn", 3, "ql/scale"), kLoad,
           "'bwn' (Conv2D): input 3", "'ql/scale') has shape [4], expected [8] (one value per output channel)")

// ---- BinaryConv2D fusions (issue 12): residual inputs[4], FloatAndBitPacked outputs[1], threshold inputs[5] ----

namespace {

/// x, r [1,6,6,8] -> Quantize "q" -> BinaryConv2D "bconv" (3x3, pad 1, 8 outputs, residual r, FloatAndBitPacked
/// with threshold, flips and constants: outputs "bconv" and "bconv/bits") -> Dequantize "deq"; outputs bconv, deq.
Bytes fused_base() {
  ModelBuilder b;
  const int x = b.add_input("x", {1, 6, 6, 8});
  const int r = b.add_input("r", {1, 6, 6, 8});
  const int q = b.quantize("q", x);
  const BinaryConv2DParams p = square_window<BinaryConv2DParams>(3, 1);
  BinaryConv2DFusion f;
  f.residual = r;
  f.quantize = true;
  f.threshold = ramp(8, -1.0f, 0.25f);
  f.flip = {false, true, false, false, true, false, false, false};
  f.constant = {-1, -1, 1, -1, -1, 0, -1, -1};
  int bits = -1;
  const int y = b.binary_conv2d("bconv", q, 8, pm1(8 * 8 * 9, 9), ramp(8, 0.1f, 0.05f), ramp(8, -2.0f, 0.5f), p, f,
                                &bits);
  b.mark_output(y);
  b.mark_output(b.dequantize("deq", bits));
  return finished(b);
}

}  // namespace

TEST_CASE("model file: the fused base and its decode/encode round trip are valid and run") {
  for (const Bytes& bytes : {fused_base(), malformed::encode(malformed::decode(fused_base()))}) {
    CHECK(malformed::decode(bytes).op("bconv").options.flip.size() == 8);  // quantize_flip survives the trip
    CHECK(malformed::decode(bytes).op("bconv").options.constant.size() == 8);
    std::unique_ptr<Model> model;
    require_runs(bytes, &model);
  }
}

MODEL_CASE("output kind 4", fused_base, ObjectMutation([](ModelT& m) { m.op("bconv").options.output = 4; }), kLoad,
           "'bconv' (BinaryConv2D): output = 4, expected Float (0), BitPacked (1), FloatAndBitPacked (2) or "
           "FloatAndLevels (3)")
MODEL_CASE("FloatAndLevels with a Quantize threshold", fused_base,
           ObjectMutation([](ModelT& m) { m.op("bconv").options.output = int(fb::OutputKind::FloatAndLevels); }), kLoad,
           "'bconv' (BinaryConv2D): input 5 (tensor", "'bconv/quantize_threshold') is a Quantize threshold, but output "
           "is FloatAndLevels")
MODEL_CASE("FloatAndBitPacked with one output", fused_base,
           ObjectMutation([](ModelT& m) { m.op("bconv").outputs.resize(1); }), kLoad,
           "'bconv' (BinaryConv2D): has 1 outputs, expected 2")
MODEL_CASE("Float output with two outputs", fused_base, ObjectMutation([](ModelT& m) {
             m.op("bconv").options.output = int(fb::OutputKind::Float);
             m.op("bconv").options.flip.clear();
             m.op("bconv").options.constant.clear();
             m.op("bconv").inputs.resize(5);
           }),
           kLoad, "'bconv' (BinaryConv2D): has 2 outputs, expected 1")
MODEL_CASE("residual with a BitPacked output", fused_base, ObjectMutation([](ModelT& m) {
             m.op("bconv").options.output = int(fb::OutputKind::BitPacked);
             m.op("bconv").outputs.resize(1);
             m.t("bconv").dtype = int(fb::DType::BitPacked);
           }),
           kLoad, "'bconv' (BinaryConv2D): input 4 (tensor 1 'r') is a residual, but output = BitPacked")
MODEL_CASE("residual of the wrong shape", fused_base, ObjectMutation([](ModelT& m) { m.t("r").shape = {1, 6, 6, 7}; }),
           kLoad, "'bconv' (BinaryConv2D): input 4 (tensor 1 'r') has shape [1, 6, 6, 7], expected [1, 6, 6, 8] "
           "(residual, the output's shape)")
MODEL_CASE("residual BitPacked", fused_base, reads("bconv", 4, "q"),
           kLoad, "'bconv' (BinaryConv2D): input 4 (tensor 2 'q') has dtype BitPacked, expected Float32")
MODEL_CASE("residual a constant", fused_base, reads("bconv", 4, "bconv/quantize_threshold"), kLoad,
           "'bconv' (BinaryConv2D): input 4", "is a constant, expected an activation (the residual)")
MODEL_CASE("threshold with a Float output", fused_base, ObjectMutation([](ModelT& m) {
             m.op("bconv").options.output = int(fb::OutputKind::Float);
             m.op("bconv").outputs.resize(1);
           }),
           kLoad, "'bconv' (BinaryConv2D): input 5", "is a Quantize threshold, but output is not FloatAndBitPacked")
MODEL_CASE("quantize_flip with a Float output", fused_base, ObjectMutation([](ModelT& m) {
             m.op("bconv").options.output = int(fb::OutputKind::Float);
             m.op("bconv").outputs.resize(1);
             m.op("bconv").inputs.resize(5);
           }),
           kLoad, "'bconv' (BinaryConv2D): quantize_flip / quantize_constant are set, but output is not FloatAndBitPacked")
MODEL_CASE("threshold not a constant", fused_base, reads("bconv", 5, "r"),
           kLoad, "'bconv' (BinaryConv2D): input 5 (tensor 1 'r') must be a constant")
MODEL_CASE("quantize_flip of the wrong length", fused_base,
           ObjectMutation([](ModelT& m) { m.op("bconv").options.flip.resize(3); }), kLoad,
           "'bconv' (BinaryConv2D): quantize_flip has 3 entries, expected 0 or 8")
MODEL_CASE("quantize_constant 2", fused_base, ObjectMutation([](ModelT& m) { m.op("bconv").options.constant[2] = 2; }),
           kLoad, "'bconv' (BinaryConv2D): quantize_constant[2] = 2, expected -1..1")
MODEL_CASE("bits output Float32", fused_base,
           ObjectMutation([](ModelT& m) { m.t("bconv/bits").dtype = int(fb::DType::Float32); }), kLoad,
           "'bconv' (BinaryConv2D): output 1 (tensor", "'bconv/bits') has dtype Float32, expected BitPacked")
MODEL_CASE("bits output 2-bit levels", fused_base, ObjectMutation([](ModelT& m) {
             m.t("bconv/bits").bits = 2;
             m.t("bconv/bits").levels = int(fb::LevelKind::Unipolar);
           }),
           kLoad, "'bconv' (BinaryConv2D): output 1", "expected Binary (the bits of a Quantize)")
MODEL_CASE("absent residual and threshold (-1) are fine; absent weights are not", fused_base,
           input_index("bconv", 1, -1), kLoad,
           "operator 1 'bconv' (BinaryConv2D): input 1: tensor index -1 out of range")

// ---- Float16 / Int8 weights of float layers (issue 12: --float16-weights, --int8-float-layers) ----

namespace {

/// x [1,6,6,4] -> Quantize "q" (bits, an activation whose dtype the file spells out); Conv2D "c8" (Int8
/// weights + weight_scale, int8 options), "c16" (Float16 weights) and "c32" (Float32 weights, bias with
/// negative values), all 3x3 pad 1 with 8 outputs; ChannelAffine "aff" (scale [4]).
Bytes storage_base() {
  ModelBuilder b;
  const int x = b.add_input("x", {1, 6, 6, 4});
  b.mark_output(b.dequantize("dq", b.quantize("q", x)));
  const Conv2DParams p = square_window<Conv2DParams>(3, 1);
  std::vector<int8_t> q8(8 * 4 * 9);
  for (size_t i = 0; i < q8.size(); ++i) q8[i] = int8_t(int(i % 255) - 127);
  Int8Params q;
  q.input_scale = 0.05f, q.output_scale = 0.1f, q.output_zero_point = -3;
  b.mark_output(b.conv2d("c8", x, 8, Weights::int8(q8, ramp(8, 0.01f, 0.001f), q), ramp(8, 0.0f, 0.1f), p));
  b.mark_output(b.conv2d("c16", x, 8, Weights::float16(ramp(8 * 4 * 9, -1.0f, 0.01f)), ramp(8, 0.0f, 0.1f), p));
  b.mark_output(b.conv2d("c32", x, 8, Weights::float32(ramp(8 * 4 * 9, -1.0f, 0.01f)), ramp(8, -1.0f, 0.25f), p));
  b.mark_output(b.channel_affine("aff", x, ramp(4, 1.0f, 0.5f), ramp(4, 0.0f, 0.5f)));
  return finished(b);
}

}  // namespace

TEST_CASE("model file: the float-storage base is valid and runs") {
  const Bytes bytes = storage_base();
  std::unique_ptr<Model> model;
  REQUIRE(Model::load_buffer(bytes.data(), bytes.size(), &model).ok());
  std::unique_ptr<Interpreter> interp;
  const Status s = Interpreter::create(*model, InterpreterOptions(), &interp);
  REQUIRE_MESSAGE(s.ok(), s.message());
  CHECK(interp->invoke().ok());
}

MODEL_CASE("Conv2D with Int8 weights but no int8 options", storage_base, op_input("c32", 1, "c8/weights"), kLoad,
           "'c32' (Conv2D): input 1", "'c8/weights') has dtype Int8 but the options have no int8")
MODEL_CASE("Conv2D with int8 options and Float32 weights", storage_base, op_input("c8", 1, "c32/weights"), kLoad,
           "'c8' (Conv2D): has int8 options with Float32 weights, expected Int8 weights")
MODEL_CASE("Conv2D with int8 options and Float16 weights", storage_base, op_input("c8", 1, "c16/weights"), kLoad,
           "'c8' (Conv2D): has int8 options with Float16 weights")
MODEL_CASE("Conv2D with Int8 weights and no weight_scale", storage_base, inputs_kept("c8", 3), kLoad,
           "'c8' (Conv2D): has 3 inputs with Int8 weights, expected 4 (x, weights, bias, weight_scale [8])")
MODEL_CASE("Conv2D Int8 weight_scale of the wrong length", storage_base, op_input("c8", 3, "aff/scale"), kLoad,
           "'c8' (Conv2D): input 3", "'aff/scale') has shape [4], expected [8] (one value per output channel)")
MODEL_CASE("Conv2D Int8 weight_scale not positive", storage_base, op_input("c8", 3, "c32/bias"), kLoad,
           "'c8' (Conv2D): input 3", "value 0 = -1.000000, expected a positive normal number")
MODEL_CASE("Float16 activation", storage_base,
           ByteMutation([](Bytes& b) { set_tensor_field(b, "q", fb::Tensor::VT_DTYPE, int8_t(fb::DType::Float16)); }),
           kLoad, "'q'", "dtype Float16 is for constants (weights) only, but the tensor has no buffer")
MODEL_CASE("Conv2D with Float16 input", storage_base, op_input("c32", 0, "c16/weights"), kLoad,
           "'c32' (Conv2D): input 0", "has dtype Float16, expected Float32")

// ---- BinaryConv2D FloatAndLevels (issue 20): outputs[1] k-bit levels, level scale / shift inputs[6] / [7] ----

namespace {

/// x [1,6,6,8] -> QuantizeLevels "ql" (Unipolar 2-bit) -> BinaryConv2D "bconv" (3x3, pad 1, 16 outputs,
/// FloatAndLevels: Unipolar 1-bit "bconv/levels" with level scale / shift) -> Dequantize "dl"; outputs bconv, dl.
/// Byte mutations only: malformed::decode/encode do not carry the tensors' levels.
Bytes levels_fused_base() {
  ModelBuilder b;
  const int x = b.add_input("x", {1, 6, 6, 8});
  const int ql =
      b.quantize_levels("ql", x, {LevelKind::kUnipolar, 2, 0, 0.5f}, ramp(8, 0.5f, 0.5f), ramp(8, 1.0f, 0.25f));
  BinaryConv2DFusion f;
  f.quantize_levels = true;
  f.levels = {LevelKind::kUnipolar, 1, 0, 1.0f};
  f.level_scale = ramp(16, 0.2f, 0.1f);
  f.level_shift = ramp(16, -0.5f, 0.125f);
  int levels = -1;
  const int y = b.binary_conv2d("bconv", ql, 16, pm1(16 * 8 * 9, 9), ramp(16, 0.1f, 0.05f), ramp(16, -2.0f, 0.5f),
                                square_window<BinaryConv2DParams>(3, 1), f, &levels);
  b.mark_output(y);
  b.mark_output(b.dequantize("dl", levels));
  return finished(b);
}

}  // namespace

TEST_CASE("model file: the FloatAndLevels base is valid and runs") {
  std::unique_ptr<Model> model;
  require_runs(levels_fused_base(), &model);
}

MODEL_CASE("FloatAndLevels writing Binary levels", levels_fused_base,
           tensor_field<int8_t>("bconv/levels", FbTensor::VT_LEVELS, 0), kLoad,
           "'bconv' (BinaryConv2D): output 1 (tensor", "'bconv/levels') has levels Binary",
           "expected Unipolar or Bipolar 1..4 bits or Ternary (what QuantizeLevels writes)")
MODEL_CASE("FloatAndLevels level shift reading an activation", levels_fused_base, op_input("bconv", 7, "x"), kLoad,
           "'bconv' (BinaryConv2D): input 7 (tensor 0 'x')")
MODEL_CASE("FloatAndLevels level scale of the wrong length", levels_fused_base, op_input("bconv", 6, "ql/scale"),
           kLoad, "'bconv' (BinaryConv2D): input 6", "expected [16] (level scale, one per output channel)")
