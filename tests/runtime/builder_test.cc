// ModelBuilder error reporting, metadata round trip, and ONEBIT_ISA.
#include <cstdlib>

#include "onebit/schema/onebit_generated.h"
#include "runtime_test_util.h"

using namespace onebit;
using namespace onebit::test;

namespace {
/// The message finish() fails with.
std::string finish_message(ModelBuilder& b) {
  std::vector<uint8_t> bytes;
  return b.finish(&bytes).message();
}
}  // namespace

TEST_CASE("builder: inconsistent additions fail finish() with a message naming the op") {
  SUBCASE("weights of the wrong size") {
    ModelBuilder b;
    Conv2DParams p;
    p.kernel_h = p.kernel_w = 3;
    b.mark_output(b.conv2d("stem", b.add_input("x", {1, 8, 8, 3}), 4, Weights::float32(std::vector<float>(5)), {}, p));
    std::vector<uint8_t> bytes;
    const Status s = b.finish(&bytes);
    INFO(s.message());
    CHECK(s.message().find("'stem' (Conv2D): weights has 5 values, expected 108") != std::string::npos);
  }
  SUBCASE("a binary conv fed a float tensor (validation of the finished model)") {
    ModelBuilder b;
    BinaryConv2DParams p;
    b.mark_output(b.binary_conv2d("bconv", b.add_input("x", {1, 4, 4, 8}), 2, signs(16, 1), {1, 1}, {0, 0}, p));
    std::vector<uint8_t> bytes;
    const Status s = b.finish(&bytes);
    INFO(s.message());
    CHECK(s.message().find("operator 0 'bconv' (BinaryConv2D): input 0 (tensor 0 'x') has dtype Float32, "
                           "expected BitPacked") != std::string::npos);
    CHECK(bytes.empty());
  }
  SUBCASE("a window that does not fit") {
    ModelBuilder b;
    Pool2DParams p;
    p.kernel_h = p.kernel_w = 5;
    b.mark_output(b.max_pool("pool", b.add_input("x", {1, 3, 3, 2}), p));
    CHECK(finish_message(b).find("'pool' (MaxPool2D): window does not fit input [1, 3, 3, 2]") != std::string::npos);
  }
}

TEST_CASE("builder: a Weights descriptor's sizes are checked, naming the field") {
  Conv2DParams p;
  p.kernel_h = p.kernel_w = 3;
  Int8Params q8;
  struct Case {
    const char* what;
    Weights w;
    const char* message;
  };
  const Case cases[] = {
      {"int8: weights counted in q", Weights::int8(std::vector<int8_t>(7), uniform(4, 1), q8),
       "'conv' (Conv2D): weights has 7 values, expected 108"},
      {"int8: one scale per output channel", Weights::int8(std::vector<int8_t>(108), uniform(3, 1), q8),
       "'conv' (Conv2D): weight_scale has 3 values, expected 4"},
      {"binary: one alpha per output channel", Weights::binary(signs(108, 1), uniform(5, 1)),
       "'conv' (Conv2D): weight_scale has 5 values, expected 4"},
      {"float16: weights counted in values", Weights::float16(uniform(100, 1)),
       "'conv' (Conv2D): weights has 100 values, expected 108"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    ModelBuilder b;
    b.mark_output(b.conv2d("conv", b.add_input("x", {1, 8, 8, 3}), 4, c.w, {}, p));
    const std::string message = finish_message(b);
    INFO(message);
    CHECK(message.find(c.message) != std::string::npos);
  }
  ModelBuilder b;
  b.mark_output(b.fully_connected("fc", b.add_input("x", {1, 6}), 2, Weights::binary(signs(12, 1), {1.0f}), {}));
  CHECK(finish_message(b).find("'fc' (FullyConnected): weight_scale has 1 values, expected 2") != std::string::npos);
}

TEST_CASE("builder: the Weights storage sets the weights' dtype and the layer's inputs") {
  Conv2DParams p;
  p.kernel_h = p.kernel_w = 3;
  Int8Params q8;
  q8.input_scale = 0.5f;
  struct Case {
    Weights conv, fc;
    fb::DType dtype;
    size_t inputs;  // x, weights, bias (empty bias: none for float storage, zeros before weight_scale else)
  };
  const Case cases[] = {
      {Weights::float32(uniform(108, 1)), Weights::float32(uniform(12, 2)), fb::DType::Float32, 2},
      {Weights::float16(uniform(108, 1)), Weights::float16(uniform(12, 2)), fb::DType::Float16, 2},
      {Weights::int8(std::vector<int8_t>(108, 3), uniform(4, 1, 0.1f, 1.0f), q8),
       Weights::int8(std::vector<int8_t>(12, -3), uniform(2, 1, 0.1f, 1.0f), q8), fb::DType::Int8, 4},
      {Weights::binary(signs(108, 1), uniform(4, 1, 0.1f, 1.0f)), Weights::binary(signs(12, 2), {0.5f, 2.0f}),
       fb::DType::BitPacked, 4},
  };
  for (const Case& c : cases) {
    CAPTURE(fb::EnumNameDType(c.dtype));
    ModelBuilder b;
    b.mark_output(b.conv2d("conv", b.add_input("x", {1, 8, 8, 3}), 4, c.conv, {}, p));
    b.mark_output(b.fully_connected("fc", b.add_input("v", {1, 6}), 2, c.fc, {}));
    std::vector<uint8_t> bytes;
    const Status s = b.finish(&bytes);
    REQUIRE_MESSAGE(s.ok(), s.message());
    std::unique_ptr<Model> model;
    REQUIRE(Model::load_buffer(bytes.data(), bytes.size(), &model).ok());
    const fb::Model& m = rt::model_flatbuffer(*model);
    for (const fb::Operator* op : *m.operators()) {
      CAPTURE(op->name()->str());
      CHECK(op->inputs()->size() == c.inputs);
      CHECK(m.tensors()->Get(op->inputs()->Get(1))->dtype() == c.dtype);
      const fb::Int8Quantization* int8 = op->options_type() == fb::OperatorOptions::Conv2DOptions
                                             ? op->options_as_Conv2DOptions()->int8()
                                             : op->options_as_FullyConnectedOptions()->int8();
      CHECK((int8 != nullptr) == (c.dtype == fb::DType::Int8));
      if (int8 != nullptr) CHECK(int8->input_scale() == 0.5f);
    }
  }
}

TEST_CASE("builder: binary_conv2d's fusions need a float output") {
  ModelBuilder b;
  const int q = b.quantize("q", b.add_input("x", {1, 4, 4, 8}));
  BinaryConv2DParams p;
  p.bitpacked_output = true;
  BinaryConv2DFusion f;
  f.quantize = true;
  b.mark_output(b.binary_conv2d("bconv", q, 2, signs(16, 1), {1, 1}, {0, 0}, p, f));
  CHECK(finish_message(b).find("'bconv' (BinaryConv2D): fusions need a float output") != std::string::npos);
}

TEST_CASE("builder: metadata round trip and aligned constant buffers") {
  ModelBuilder b;
  b.mark_output(b.relu("relu", b.add_input("x", {1, 2})));
  ModelMetadata meta;
  meta.producer = "test";
  meta.source = "unit.onnx";
  meta.input_shape = {1, 2};
  meta.input_mean = {0.5f};
  meta.input_std = {0.25f};
  meta.labels = {"cat", "dog"};
  b.set_metadata(meta);
  const int w = b.fully_connected("fc", 0, 3, Weights::float32(uniform(6, 1)), uniform(3, 2));
  b.mark_output(w);
  std::vector<uint8_t> bytes;
  REQUIRE(b.finish(&bytes).ok());
  std::unique_ptr<Model> model;
  REQUIRE(Model::load_buffer(bytes.data(), bytes.size(), &model).ok());
  const fb::Metadata* m = rt::model_flatbuffer(*model).metadata();
  REQUIRE(m != nullptr);
  CHECK(m->producer()->str() == "test");
  CHECK(m->source()->str() == "unit.onnx");
  CHECK(m->labels()->size() == 2);
  CHECK(m->labels()->Get(1)->str() == "dog");
  CHECK(m->input_std()->Get(0) == 0.25f);
  for (const fb::Buffer* buf : *rt::model_flatbuffer(*model).buffers())
    CHECK(reinterpret_cast<uintptr_t>(buf->data()->data()) % 16 == 0);
}

TEST_CASE("builder: softmax(log) writes SoftmaxOptions.log; without it the file is what pre-log files were") {
  for (bool log : {false, true}) {
    CAPTURE(log);
    ModelBuilder b;
    b.mark_output(b.softmax("head", b.add_input("x", {1, 10}), log));
    std::vector<uint8_t> bytes;
    REQUIRE(b.finish(&bytes).ok());
    std::unique_ptr<Model> model;
    REQUIRE(Model::load_buffer(bytes.data(), bytes.size(), &model).ok());
    const fb::SoftmaxOptions* o = rt::model_flatbuffer(*model).operators()->Get(0)->options_as_SoftmaxOptions();
    REQUIRE(o != nullptr);
    CHECK(o->log() == log);
    // log = false leaves the field out (FlatBuffers omits defaults): the same empty table a file written
    // before the field existed holds, which therefore reads as plain softmax.
    CHECK(reinterpret_cast<const flatbuffers::Table*>(o)->CheckField(fb::SoftmaxOptions::VT_LOG) == log);
    InterpreterOptions options;
    options.profiling = true;
    std::unique_ptr<Interpreter> interp;
    REQUIRE(Interpreter::create(*model, options, &interp).ok());
    REQUIRE(interp->profile().size() == 1);
    CHECK(interp->profile()[0].type == (log ? "LogSoftmax" : "Softmax"));
  }
}

TEST_CASE("ONEBIT_ISA selects the kernel path when the option is empty") {
  ModelBuilder b;
  b.mark_output(b.dequantize("pm1", b.quantize("q", b.add_input("x", {1, 40}))));
  std::vector<uint8_t> bytes;
  REQUIRE(b.finish(&bytes).ok());
  std::unique_ptr<Model> model;
  REQUIRE(Model::load_buffer(bytes.data(), bytes.size(), &model).ok());
  const char* saved = std::getenv("ONEBIT_ISA");
  const std::string restore = saved ? saved : "";
  std::unique_ptr<Interpreter> interp;
  setenv("ONEBIT_ISA", "scalar", 1);
  REQUIRE(Interpreter::create(*model, {}, &interp).ok());
  CHECK(std::string(interp->isa_name()) == "scalar");
  setenv("ONEBIT_ISA", "bogus", 1);
  CHECK(Interpreter::create(*model, {}, &interp).message().find("unknown ISA 'bogus'") != std::string::npos);
  InterpreterOptions o;
  o.isa = "scalar";  // the option wins over the environment
  CHECK(Interpreter::create(*model, o, &interp).ok());
  if (saved) setenv("ONEBIT_ISA", restore.c_str(), 1); else unsetenv("ONEBIT_ISA");
}
