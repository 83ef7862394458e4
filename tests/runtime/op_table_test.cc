// The operator table (runtime/src/ops/op_table.h) against the schema: every OperatorOptions value has
// exactly one complete row, and its name is the schema's own union member name without "Options", so a
// row added with a wrong type or a typo in its name is caught here rather than in a diagnostic.
#include <doctest/doctest.h>

#include <iterator>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "../runtime/src/graph.h"
#include "../runtime/src/ops/op.h"
#include "../runtime/src/ops/op_table.h"
#include "onebit/builder/model_builder.h"
#include "onebit/interpreter.h"
#include "onebit/model.h"
#include "onebit/op_resolver.h"
#include "onebit/schema/onebit_generated.h"

using namespace onebit;

namespace {

using T = fb::OperatorOptions;

std::string schema_name(T type) {
  std::string s = fb::EnumNameOperatorOptions(type);
  const std::string suffix = "Options";
  REQUIRE(s.size() > suffix.size());
  REQUIRE(s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0);
  return s.substr(0, s.size() - suffix.size());
}

/// Loads `bytes` against `ops`: refused with a message naming `op` and the `accessor` to add (`accessor`
/// given), or loaded (null `accessor`; the model goes to *model).
void check_load(const std::vector<uint8_t>& bytes, const OpResolver& ops, const char* op, const char* accessor,
                std::unique_ptr<Model>* model) {
  LoadOptions options;
  options.ops = &ops;
  const Status s = Model::load_buffer(bytes.data(), bytes.size(), options, model);
  if (accessor == nullptr) {
    REQUIRE_MESSAGE(s.ok(), s.message());
    return;
  }
  REQUIRE_FALSE(s.ok());
  CHECK(s.message().find(op) != std::string::npos);
  CHECK(s.message().find(accessor) != std::string::npos);
}

}  // namespace

TEST_CASE("operator table: one complete row per OperatorOptions value, named as in the schema") {
  std::set<std::string> names;
  for (int v = int(T::MIN) + 1; v <= int(T::MAX); ++v) {
    const T type = T(v);
    CAPTURE(v);
    CAPTURE(fb::EnumNameOperatorOptions(type));
    int rows = 0;
    for (const rt::OpKind& k : rt::all_op_kinds()) rows += k.type == type ? 1 : 0;
    CHECK(rows == 1);

    const rt::OpKind* kind = rt::find_op_kind(type);
    REQUIRE(kind != nullptr);
    CHECK(kind->type == type);
    REQUIRE(kind->name != nullptr);
    const std::string name = kind->name;
    CHECK(!name.empty());
    CHECK(names.insert(name).second);
    CHECK(name == schema_name(type));
    CHECK((kind->validate != nullptr));
    REQUIRE((kind->make != nullptr));
    CHECK((kind->make() != nullptr));

    // The functions the rest of the runtime uses read the same row.
    CHECK(std::string(rt::op_type_name(type)) == name);
    CHECK(OpResolver::all().find(v) == kind);
  }
  CHECK(rt::all_op_kinds().size == size_t(T::MAX) - size_t(T::MIN));
}

TEST_CASE("operator table: NONE and values outside the schema have no row") {
  for (int v : {int(T::NONE), int(T::MAX) + 1, 200, 255}) {
    CAPTURE(v);
    CHECK(rt::find_op_kind(T(v)) == nullptr);
    CHECK(std::string(rt::op_type_name(T(v))).empty());
    CHECK(OpResolver::all().find(v) == nullptr);
    CHECK(std::string(rt::op_accessor_name(T(v))).empty());
  }
}

TEST_CASE("op resolver: each onebit::ops accessor is its type's row, named by op_accessor_name") {
  struct Accessor {
    const rt::OpKind& (*get)();
    const char* name;
  };
  const Accessor accessors[] = {
      {ops::conv2d, "conv2d"},         {ops::fully_connected, "fully_connected"},
      {ops::max_pool2d, "max_pool2d"}, {ops::avg_pool2d, "avg_pool2d"},
      {ops::global_avg_pool, "global_avg_pool"}, {ops::add, "add"},
      {ops::mul, "mul"},               {ops::channel_affine, "channel_affine"},
      {ops::relu, "relu"},             {ops::prelu, "prelu"},
      {ops::clamp, "clamp"},           {ops::reshape, "reshape"},
      {ops::concat, "concat"},         {ops::softmax, "softmax"},
      {ops::pad, "pad"},               {ops::quantize, "quantize"},
      {ops::dequantize, "dequantize"}, {ops::binary_conv2d, "binary_conv2d"},
      {ops::binary_fully_connected, "binary_fully_connected"},
      {ops::binary_max_pool2d, "binary_max_pool2d"}, {ops::quantize_levels, "quantize_levels"},
      {ops::sigmoid, "sigmoid"},
  };
  REQUIRE(std::size(accessors) == size_t(T::MAX) - size_t(T::MIN));
  OpResolver r;
  CHECK(r.size() == 0);
  for (size_t i = 0; i < std::size(accessors); ++i) {
    const rt::OpKind& kind = accessors[i].get();
    CAPTURE(accessors[i].name);
    CHECK(int(kind.type) == int(i) + 1);  // schema order
    CHECK(std::string(rt::op_accessor_name(kind.type)) == accessors[i].name);
    CHECK(r.find(int(kind.type)) == nullptr);
    r.add(kind).add(kind);  // twice: registered once
    CHECK(r.find(int(kind.type)) == &kind);
    CHECK(r.size() == i + 1);
  }
}

TEST_CASE("op resolver: a model is checked against the program's operators at load") {
  ModelBuilder b;
  b.mark_output(b.relu("act", b.dequantize("deq", b.quantize("sign", b.add_input("x", {1, 8})))));
  std::vector<uint8_t> bytes;
  const Status built = b.finish(&bytes);
  REQUIRE_MESSAGE(built.ok(), built.message());

  OpResolver some;
  some.add(ops::quantize()).add(ops::dequantize());  // no relu
  LoadOptions options;
  options.ops = &some;
  std::unique_ptr<Model> model;
  const Status refused = Model::load_buffer(bytes.data(), bytes.size(), options, &model);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.message().find("'act' (Relu)") != std::string::npos);
  CHECK(refused.message().find("onebit::ops::relu()") != std::string::npos);
  CHECK(model == nullptr);

  some.add(ops::relu());
  const Status loaded = Model::load_buffer(bytes.data(), bytes.size(), options, &model);
  REQUIRE_MESSAGE(loaded.ok(), loaded.message());
  std::unique_ptr<Interpreter> interp;
  const Status created = Interpreter::create(*model, InterpreterOptions(), &interp);
  REQUIRE_MESSAGE(created.ok(), created.message());
  for (size_t i = 0; i < 8; ++i) interp->input(0)[i] = i % 2 ? 0.5f : -0.5f;
  REQUIRE(interp->invoke().ok());
  for (size_t i = 0; i < 8; ++i) CHECK(interp->output(0)[i] == (i % 2 ? 1.0f : 0.0f));  // relu(sign(x))
}

TEST_CASE("op resolver: 1-bit weights need the wide forms conv2d_binary_weights and fully_connected_binary_weights") {
  Conv2DParams p;
  p.kernel_h = p.kernel_w = 1;
  ModelBuilder b;
  const int x = b.add_input("x", {1, 1, 1, 2});
  const int y = b.conv2d("conv", x, 2, Weights::binary({1, -1, -1, -1}, {0.5f, 2.0f}), {}, p);
  b.mark_output(b.fully_connected("fc", b.reshape("flat", y, {1, 2}), 1, Weights::binary({-1, 1}, {3.0f}), {}));
  std::vector<uint8_t> bytes;
  const Status built = b.finish(&bytes);
  REQUIRE_MESSAGE(built.ok(), built.message());

  // The full table holds the wide forms; registering a narrow form after a wide one keeps the wide one.
  CHECK(OpResolver::all().find(int(T::Conv2DOptions)) == &ops::conv2d_binary_weights());
  CHECK(OpResolver::all().find(int(T::FullyConnectedOptions)) == &ops::fully_connected_binary_weights());
  CHECK(ops::conv2d_binary_weights().includes == &ops::conv2d());
  OpResolver r;
  r.add(ops::conv2d_binary_weights()).add(ops::conv2d());
  CHECK(r.find(int(T::Conv2DOptions)) == &ops::conv2d_binary_weights());

  OpResolver narrow;
  narrow.add(ops::conv2d()).add(ops::fully_connected()).add(ops::reshape());
  std::unique_ptr<Model> model;
  check_load(bytes, narrow, "'conv' (Conv2D)", "onebit::ops::conv2d_binary_weights()", &model);
  narrow.add(ops::conv2d_binary_weights());
  check_load(bytes, narrow, "'fc' (FullyConnected)", "onebit::ops::fully_connected_binary_weights()", &model);
  narrow.add(ops::fully_connected_binary_weights());
  check_load(bytes, narrow, nullptr, nullptr, &model);
  std::unique_ptr<Interpreter> interp;
  InterpreterOptions io;
  io.portable_float_kernels = true;  // the float x 1-bit kernels the wide rows link
  const Status s = Interpreter::create(*model, io, &interp);
  REQUIRE_MESSAGE(s.ok(), s.message());
  interp->input(0)[0] = 1.0f, interp->input(0)[1] = 4.0f;
  REQUIRE(interp->invoke().ok());
  // conv: 0.5 * (1 - 4) = -1.5, 2 * (-1 - 4) = -10; fc: 3 * (1.5 - 10) = -25.5
  CHECK(interp->output(0)[0] == -25.5f);
}

TEST_CASE("op resolver: k-bit operands of BinaryConv2D need the wide form binary_conv2d_levels") {
  ModelBuilder b;
  const int x = b.add_input("x", {1, 1, 1, 2});
  const int q = b.quantize_levels("q", x, {LevelKind::kUnipolar, 2, 0, 1.0f});
  BinaryConv2DParams p;
  p.kernel_h = p.kernel_w = 1;
  b.mark_output(b.binary_conv2d("conv", q, 1, {1, -1}, {1.0f}, {0.0f}, p));
  std::vector<uint8_t> bytes;
  const Status built = b.finish(&bytes);
  REQUIRE_MESSAGE(built.ok(), built.message());

  CHECK(OpResolver::all().find(int(T::BinaryConv2DOptions)) == &ops::binary_conv2d_levels());
  CHECK(ops::binary_conv2d_levels().includes == &ops::binary_conv2d());
  OpResolver narrow;
  narrow.add(ops::quantize_levels()).add(ops::binary_conv2d());
  std::unique_ptr<Model> model;
  check_load(bytes, narrow, "'conv' (BinaryConv2D)", "onebit::ops::binary_conv2d_levels()", &model);
  narrow.add(ops::binary_conv2d_levels()).add(ops::binary_conv2d());  // the narrow one again: the wide one stays
  CHECK(narrow.find(int(T::BinaryConv2DOptions)) == &ops::binary_conv2d_levels());
  check_load(bytes, narrow, nullptr, nullptr, &model);
  std::unique_ptr<Interpreter> interp;
  const Status s = Interpreter::create(*model, InterpreterOptions(), &interp);
  REQUIRE_MESSAGE(s.ok(), s.message());
  REQUIRE(interp->invoke().ok());
}
