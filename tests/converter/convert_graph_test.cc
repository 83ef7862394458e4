// End to end on hand-built ONNX graphs: convert (binary and --float-reference), run through the
// Interpreter and compare with the plain NCHW reference evaluation of the same ONNX graph.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "common/rng.h"
#include "common/run_model.h"
#include "convert.h"
#include "graph_dsl.h"
#include "onebit/interpreter.h"
#include "onebit/model.h"
#include "onnx_test_graph.h"
#include "rules_test_util.h"

using namespace onebit::testing;  // OnnxTestGraph, Tensor, Rng and the graph vocabulary of graph_dsl.h
using rules_test::check_convert_fails;

namespace {

void add_bn(OnnxTestGraph& t, Rng& r, const std::string& name, const std::string& in, const std::string& out, int64_t c) {
  t.initializer(name + ".g", {c}, r.uniform(size_t(c), 0.5f, 1.5f));
  t.initializer(name + ".b", {c}, r.normal(size_t(c), 0.2f));
  t.initializer(name + ".m", {c}, r.normal(size_t(c), 0.2f));
  t.initializer(name + ".v", {c}, r.uniform(size_t(c), 0.5f, 2.0f));
  t.node("BatchNormalization", {in, name + ".g", name + ".b", name + ".m", name + ".v"}, {out}, name);
}

// A small binary ResNet touching every pattern: float stem, BN -> Sign -> binary conv (zero pad) × alpha
// -> BN + residual, Pad(+1) conv with ±s weights and bias (stride 2) + PReLU, Pad(-1) conv with Sign(W)
// next to a float MaxPool shortcut, binary MaxPool -> 1×1 binary conv, Pad + AveragePool
// (count_include_pad), global pool, Gemm head. 40 channels: not a multiple of 32.
OnnxTestGraph build_network(uint32_t seed) {
  Rng r(seed);
  const int64_t C = 40;
  OnnxTestGraph t;
  t.input("x", {1, 3, 8, 8});
  t.initializer("stem.w", {C, 3, 3, 3}, r.normal(size_t(C * 27), 0.3f));
  t.initializer("stem.b", {C}, r.normal(size_t(C), 0.1f));
  add_conv(t, "stem", {"x", "stem.w", "stem.b"}, "c0", 3, 1, 1);
  const auto bn = [&](const std::string& name, const std::string& in, const std::string& out) {
    add_bn(t, r, name, in, out, C);
  };
  bn("bn0", "c0", "b0");
  // Block A.
  add_binary_residual_block(t, r, bn, "b0", "r1", C, 0.01f, 0.05f);
  // Block B: Pad(+1), ±s weights with bias, stride 2, PReLU.
  t.node("Sign", {"r1"}, {"b.s"}, "b.sign");
  add_pad(t, "b.pad", "b.s", "b.p", 1.0f);
  std::vector<float> wb = r.signs(size_t(C * C * 9));
  const std::vector<float> sb = r.uniform(size_t(C), 0.01f, 0.03f);
  for (size_t i = 0; i < wb.size(); ++i) wb[i] *= sb[i / size_t(C * 9)];
  t.initializer("b.w", {C, C, 3, 3}, wb);
  t.initializer("b.bias", {C}, r.normal(size_t(C), 0.1f));
  add_conv(t, "b.conv", {"b.p", "b.w", "b.bias"}, "b.c", 3, 2, 0);
  t.initializer("b.slope", {C, 1, 1}, r.uniform(size_t(C), 0.05f, 0.3f));
  t.node("PRelu", {"b.c", "b.slope"}, {"r2"}, "b.prelu");
  // Block C: float MaxPool shortcut, Pad(-1), Sign(W), stride 2.
  add_pool(t, "MaxPool", "c.maxpool", "r2", "c.short", 2, 2);
  t.node("Sign", {"r2"}, {"c.s"}, "c.sign");
  add_pad(t, "c.pad", "c.s", "c.p", -1.0f);
  t.initializer("c.wf", {C, C, 3, 3}, r.normal(size_t(C * C * 9), 1.0f));
  t.node("Sign", {"c.wf"}, {"c.wb"}, "c.sign_w");
  add_conv(t, "c.conv", {"c.p", "c.wb"}, "c.c", 3, 2, 0);
  bn("c.bn", "c.c", "c.bnout");
  t.initializer("c.scale", {1, C, 1, 1}, r.uniform(size_t(C), 0.02f, 0.04f));
  t.node("Mul", {"c.bnout", "c.scale"}, {"c.scaled"}, "c.mul");
  t.node("Add", {"c.scaled", "c.short"}, {"r3"}, "c.add");
  // Block D: BN -> Sign -> binary MaxPool -> 1x1 binary conv + residual.
  bn("d.bn_in", "r3", "d.pre");
  t.node("Sign", {"d.pre"}, {"d.s"}, "d.sign");
  t.node("MaxPool", {"d.s"}, {"d.mp"}, "d.maxpool",
         {{"kernel_shape", {3, 3}}, {"strides", {1, 1}}, {"pads", {1, 1, 1, 1}}});
  t.initializer("d.w", {C, C, 1, 1}, r.signs(size_t(C * C)));
  add_conv(t, "d.conv", {"d.mp", "d.w"}, "d.c", 1, 1, 0);
  t.initializer("d.alpha", {1, C, 1, 1}, r.uniform(size_t(C), 0.02f, 0.05f));
  t.node("Mul", {"d.c", "d.alpha"}, {"d.m"}, "d.mul");
  t.node("Add", {"d.m", "r3"}, {"r4"}, "d.add");
  // Head: Pad(0) + AveragePool, global pool, Gemm.
  t.initializer_i64("e.pads", {8}, {0, 0, 1, 1, 0, 0, 1, 1});
  t.node("Pad", {"r4", "e.pads"}, {"e.p"}, "e.pad");
  add_pool(t, "AveragePool", "e.avgpool", "e.p", "e.avg", 2, 1);
  t.node("GlobalAveragePool", {"e.avg"}, {"gap"}, "gap");
  t.node("Flatten", {"gap"}, {"flat"}, "flatten");
  t.initializer("fc.w", {10, C}, r.normal(size_t(10 * C), 0.3f));
  t.initializer("fc.b", {10}, r.normal(10, 0.1f));
  auto& fc = t.node("Gemm", {"flat", "fc.w", "fc.b"}, {"logits"}, "fc");
  OnnxTestGraph::attr(fc, "transB", int64_t(1));
  t.output("logits");
  return t;
}

void check_close(const std::vector<float>& got, const std::vector<float>& want) {
  REQUIRE(got.size() == want.size());
  float scale = 1.0f;
  for (float v : want) scale = std::max(scale, std::fabs(v));
  for (size_t i = 0; i < got.size(); ++i) {
    CAPTURE(i);
    CHECK(got[i] == doctest::Approx(want[i]).epsilon(0).scale(0).epsilon(1e-3 * scale));
  }
}

}  // namespace

TEST_CASE("small binary ResNet: converted model and float reference agree with the ONNX reference") {
  for (uint32_t seed : {1u, 2u}) {
    CAPTURE(seed);
    OnnxTestGraph t = build_network(seed);
    Rng r(100 + seed);
    Tensor x{{1, 3, 8, 8}, r.normal(192, 1.0f)};
    const std::vector<float> want = t.evaluate({{"x", x}}).at("logits").data;
    for (bool float_reference : {false, true}) {
      CAPTURE(float_reference);
      onebit::converter::ConvertOptions o;
      o.float_reference = float_reference;
      onebit::converter::ConvertResult result;
      onebit::Status s = onebit::converter::convert_onnx_bytes(t.bytes(), "resnet.onnx", o, &result);
      REQUIRE_MESSAGE(s.ok(), s.message());
      INFO(result.summary);
      if (!float_reference) {
        CHECK(result.summary.find("a.conv (Conv) -> binary BinaryConv2D") != std::string::npos);
        CHECK(result.summary.find("b.conv (Conv) -> binary BinaryConv2D") != std::string::npos);
        CHECK(result.summary.find("c.conv (Conv) -> binary BinaryConv2D") != std::string::npos);
        CHECK(result.summary.find("d.conv (Conv) -> binary BinaryConv2D") != std::string::npos);
        CHECK(result.summary.find("d.maxpool (MaxPool) -> binary BinaryMaxPool2D") != std::string::npos);
        CHECK(result.summary.find("a.sign (Sign) -> binary Quantize (BatchNormalization threshold)") != std::string::npos);
        CHECK(result.summary.find("b.pad (Pad) -> folded into pad mode") != std::string::npos);
        CHECK(result.binary_macs > 0);
      } else {
        CHECK(result.binary_macs == 0);
      }
      check_close(onebit::testing::run_model(result.model, onebit::testing::to_nhwc(x)), want);
    }
  }
}

TEST_CASE("Flatten of a spatial map into Gemm keeps ONNX's NCHW feature order") {
  Rng r(7);
  OnnxTestGraph t;
  t.input("x", {2, 3, 4, 5});
  t.initializer("w", {6, 3, 1, 1}, r.normal(18, 1.0f));
  add_chain(t, "x", {{"Conv", "conv", "c", {"^", "w"}}, {"Flatten", "flatten", "f"}});
  add_fc(t, "fc", "f", "y", 4, 120, r.normal(480, 0.2f));
  t.output("y");
  Tensor x{{2, 3, 4, 5}, r.normal(120, 1.0f)};
  onebit::converter::ConvertResult result;
  onebit::Status s = onebit::converter::convert_onnx_bytes(t.bytes(), "flatten.onnx", {}, &result);
  REQUIRE_MESSAGE(s.ok(), s.message());
  check_close(onebit::testing::run_model(result.model, onebit::testing::to_nhwc(x)), t.evaluate({{"x", x}}).at("y").data);
}

// A one-input float ONNX op on activations of rank 4 and rank 2 (`op`, input ~ N(0, stddev)): converted,
// the summary names `summary`, and the model's outputs are `want` applied to each input value.
template <typename Want>
void check_unary_op(const char* op, uint32_t seed, float stddev, const char* summary, Want want_of) {
  Rng r(seed);
  for (const std::vector<int64_t>& shape : {std::vector<int64_t>{2, 3, 4, 5}, std::vector<int64_t>{2, 7}}) {
    INFO(op << ", shape rank " << shape.size());
    const OnnxTestGraph t = chain(shape, {{op, "node", "y"}});
    int64_t count = 1;
    for (int64_t d : shape) count *= d;
    Tensor x{shape, r.normal(size_t(count), stddev)};
    onebit::converter::ConvertResult result;
    onebit::Status s = onebit::converter::convert_onnx_bytes(t.bytes(), std::string(op) + ".onnx", {}, &result);
    REQUIRE_MESSAGE(s.ok(), s.message());
    CHECK(result.summary.find(summary) != std::string::npos);
    const std::vector<float> in = shape.size() == 4 ? onebit::testing::to_nhwc(x) : x.data;
    std::vector<float> want = in;
    for (float& v : want) v = want_of(v);
    check_close(onebit::testing::run_model(result.model, in), want);
  }
}

// The op table's promise: an ONNX float op that maps onto an existing runtime operator is one entry
// (converter/ops/elementwise.cc: Neg emitted as Mul by -1 per channel), with no other converter file touched.
TEST_CASE("Neg on activations converts to a float Mul by -1 (rank 4 and rank 2)") {
  check_unary_op("Neg", 11, 1.0f, "float Mul (Neg)", [](float v) { return -v; });
}

// A new runtime operator end to end (issue 18): Sigmoid is the schema's SigmoidOptions, one operator in
// runtime/src/ops/elementwise.cc and its row in op_table.cc, the builder's sigmoid() and the converter's
// emit_sigmoid; checked against 1 / (1 + e^-x) computed in double.
TEST_CASE("Sigmoid on activations converts to the runtime's Sigmoid (rank 4 and rank 2)") {
  check_unary_op("Sigmoid", 12, 3.0f, "float Sigmoid",
                 [](float v) { return float(1.0 / (1.0 + std::exp(-double(v)))); });
}

TEST_CASE("Flatten of a spatial map into something other than Gemm is rejected") {
  check_convert_fails(chain({1, 3, 4, 4}, {{"Flatten", "flatten", "f"}, {"Relu", "relu", "y"}}),
                      {"node 'flatten' (Flatten)", "NCHW"});
}

TEST_CASE("unsupported ops and dynamic shapes are errors naming the node") {
  check_convert_fails(chain({1, 3, 4, 4}, {{"Tanh", "my_tanh", "y"}}), {"node 'my_tanh' (Tanh)", "not supported"});
}

namespace {
// x[dims] (a dim < 0 is symbolic: dim_param) -> Relu -> y.
OnnxTestGraph relu_with_dims(const std::vector<int64_t>& dims) {
  OnnxTestGraph t;
  auto* in = t.model.mutable_graph()->add_input();
  in->set_name("x");
  auto* tt = in->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  for (size_t k = 0; k < dims.size(); ++k) {
    if (dims[k] < 0) tt->mutable_shape()->add_dim()->set_dim_param("d" + std::to_string(k));
    else tt->mutable_shape()->add_dim()->set_dim_value(dims[k]);
  }
  t.node("Relu", {"x"}, {"y"}, "relu");
  t.output("y");
  return t;
}
}  // namespace

TEST_CASE("dynamic batch: a symbolic batch dim becomes 1 (or --batch N); other symbolic dims are errors") {
  for (int batch : {0, 3}) {
    CAPTURE(batch);
    onebit::converter::ConvertOptions o;
    o.batch = batch;
    onebit::converter::ConvertResult result;
    onebit::Status s = onebit::converter::convert_onnx_bytes(relu_with_dims({-1, 3, 4, 4}).bytes(), "dyn.onnx", o, &result);
    REQUIRE_MESSAGE(s.ok(), s.message());
    const int n = batch == 0 ? 1 : batch;
    CHECK(result.summary.find("batch dim 'd0' set to " + std::to_string(n)) != std::string::npos);
    Rng r(11);
    const std::vector<float> x = r.normal(size_t(n) * 48, 1.0f);
    const std::vector<float> y = onebit::testing::run_model(result.model, x);
    REQUIRE(y.size() == x.size());
    for (size_t i = 0; i < x.size(); ++i) CHECK(y[i] == std::max(x[i], 0.0f));
  }
  onebit::converter::ConvertResult result;
  onebit::Status s = onebit::converter::convert_onnx_bytes(relu_with_dims({-1, 3, -1, 4}).bytes(), "dyn.onnx", {}, &result);
  REQUIRE_FALSE(s.ok());
  CHECK(s.message().find("graph input 'x'") != std::string::npos);
  CHECK(s.message().find("dynamic or unknown shape") != std::string::npos);
  CHECK(s.message().find("dim 2") != std::string::npos);
}
