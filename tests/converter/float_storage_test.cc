// onebit-convert's float-layer options and fusions (issue 12): --float16-weights and --int8-float-layers fire
// on the layers that stay float only (stem, 1x1 shortcuts, classifier), never on binary layers, and change
// nothing without the flags; the late rules float_conv_batch_norm / float_layer_clamp fire and do not fire.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/rng.h"
#include "common/run_model.h"
#include "convert.h"
#include "onnx_test_graph.h"

namespace cv = onebit::converter;
using onebit::testing::OnnxTestGraph;

namespace {

std::string repo() {
  const char* d = std::getenv("ONEBIT_SOURCE_DIR");
  return d ? d : ".";
}

cv::ConvertResult convert_ok(const std::string& bytes, const cv::ConvertOptions& o) {
  cv::ConvertResult r;
  const onebit::Status s = cv::convert_onnx_bytes(bytes, "test.onnx", o, &r);
  REQUIRE_MESSAGE(s.ok(), s.message());
  return r;
}

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// x [1,3,6,6] -> Conv 3x3 (8, pad 1) -> [BatchNormalization] -> Relu | Clip(0, 6) -> y; `shared`: the conv's
// output is also added to the activation's output, so the activation is not its sole user.
OnnxTestGraph conv_act(bool bn, bool clip, bool shared) {
  onebit::testing::Rng r(5);
  OnnxTestGraph t;
  t.input("x", {1, 3, 6, 6});
  t.initializer("w", {8, 3, 3, 3}, r.normal(8 * 27, 0.4f));
  t.initializer("b", {8}, r.normal(8, 0.3f));
  auto& c = t.node("Conv", {"x", "w", "b"}, {"c"}, "conv");
  OnnxTestGraph::attr(c, "kernel_shape", std::vector<int64_t>{3, 3});
  OnnxTestGraph::attr(c, "pads", std::vector<int64_t>{1, 1, 1, 1});
  std::string y = "c";
  if (bn) {
    t.initializer("g", {8}, r.uniform(8, 0.5f, 1.5f));
    t.initializer("be", {8}, r.normal(8, 0.2f));
    t.initializer("m", {8}, r.normal(8, 0.2f));
    t.initializer("v", {8}, r.uniform(8, 0.5f, 2.0f));
    t.node("BatchNormalization", {"c", "g", "be", "m", "v"}, {"n"}, "bn");
    y = "n";
  }
  if (clip) {
    t.initializer("lo", {}, {0.0f});
    t.initializer("hi", {}, {6.0f});
    t.node("Clip", {y, "lo", "hi"}, {"a"}, "act");
  } else {
    t.node("Relu", {y}, {"a"}, "act");
  }
  if (shared) {
    t.node("Add", {"a", y}, {"y"}, "add");
  } else {
    t.node("Relu", {"a"}, {"y"}, "again");  // a second clamp intersects with the first
  }
  t.output("y");
  return t;
}

void check_against_reference(const OnnxTestGraph& t, const cv::ConvertResult& r) {
  onebit::testing::Rng g(9);
  onebit::testing::Tensor x{{1, 3, 6, 6}, g.normal(108, 2.0f)};
  const std::vector<float> want = onebit::testing::to_nhwc(t.evaluate({{"x", x}}).at("y"));
  const std::vector<float> got = onebit::testing::run_model(r.model, onebit::testing::to_nhwc(x));
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx(want[i]).epsilon(1e-4).scale(1));
}

}  // namespace

TEST_CASE("float fusions: Conv -> BatchNormalization -> Relu / Clip(0, 6) fold into one Conv2D") {
  for (bool clip : {false, true}) {
    const OnnxTestGraph t = conv_act(true, clip, false);
    const cv::ConvertResult r = convert_ok(t.bytes(), {});
    INFO(r.summary);
    CHECK(has(r.summary, "bn (BatchNormalization) -> folded into float Conv 'conv'"));
    CHECK(has(r.summary, "act (" + std::string(clip ? "Clip" : "Relu") + ") -> folded into the output clamp of float Conv"));
    CHECK(has(r.summary, "again (Relu) -> folded into the output clamp"));
    CHECK_FALSE(has(r.summary, "float ReLU"));
    CHECK_FALSE(has(r.summary, "float Clamp"));
    check_against_reference(t, r);
  }
}

TEST_CASE("float fusions do not fire when the activation is not the conv's sole user") {
  const OnnxTestGraph t = conv_act(false, false, true);
  const cv::ConvertResult r = convert_ok(t.bytes(), {});
  INFO(r.summary);
  CHECK(has(r.summary, "act (Relu) -> float ReLU"));
  check_against_reference(t, r);
}

TEST_CASE("float fusions: the BN folds but a Relu reading the shared BN output stays") {
  OnnxTestGraph t = conv_act(true, false, true);  // the BN output feeds the Relu and the Add
  const cv::ConvertResult r = convert_ok(t.bytes(), {});
  INFO(r.summary);
  CHECK(has(r.summary, "bn (BatchNormalization) -> folded into float Conv"));  // its sole reader is the conv's
  CHECK(has(r.summary, "act (Relu) -> float ReLU"));                          // the BN output is shared
  check_against_reference(t, r);
}

TEST_CASE("shipped model: --float16-weights / --int8-float-layers fire on the float layers only") {
  const std::string dir = repo() + "/models/fashion_mnist/";
  cv::ConvertOptions base;
  base.input_mean = {0.2860f};
  base.input_std = {0.3530f};
  cv::ConvertResult plain;
  REQUIRE(cv::convert_onnx_file(dir + "bnn_resnet.onnx", base, &plain).ok());
  CHECK(plain.float16_layers == 0);
  CHECK(plain.int8_layers == 0);
  CHECK_FALSE(has(plain.summary, "float16"));
  CHECK_FALSE(has(plain.summary, "int8"));
  cv::ConvertOptions o16 = base;
  o16.float16_weights = true;
  cv::ConvertResult f16;
  REQUIRE(cv::convert_onnx_file(dir + "bnn_resnet.onnx", o16, &f16).ok());
  CHECK(f16.float16_layers == 4);
  CHECK(f16.binary_layers == plain.binary_layers);
  CHECK(f16.model.size() < plain.model.size());
  cv::ConvertOptions o8 = base;
  o8.int8_float_layers = true;
  o8.calibration = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz";
  o8.calibration_images = 64;
  cv::ConvertResult i8;
  const onebit::Status s = cv::convert_onnx_file(dir + "bnn_resnet.onnx", o8, &i8);
  if (!s.ok() && has(s.message(), "cannot open")) return;  // no dataset-fashion-mnist here
  REQUIRE_MESSAGE(s.ok(), s.message());
  INFO(i8.summary);
  CHECK(i8.int8_layers == 4);
  CHECK(i8.binary_layers == plain.binary_layers);
  CHECK(i8.binary_macs == plain.binary_macs);
  for (const char* layer : {"/stem/stem.0/Conv (Conv) -> int8 Conv2D (qc8)",
                            "/blocks/blocks.2/shortcut/shortcut.1/Conv (Conv) -> int8 Conv2D (qc8)",
                            "/blocks/blocks.4/shortcut/shortcut.1/Conv (Conv) -> int8 Conv2D (qc8)",
                            "/fc/Gemm (Gemm) -> int8 FullyConnected"})
    CHECK(has(i8.summary, layer));
  CHECK_FALSE(has(i8.summary, "conv/Conv (Conv) -> int8"));  // binary convs stay binary
  cv::ConvertOptions missing = base;
  missing.int8_float_layers = true;
  cv::ConvertResult r;
  const onebit::Status e = cv::convert_onnx_file(dir + "bnn_resnet.onnx", missing, &r);
  CHECK(has(e.message(), "--int8-float-layers needs --calibration FILE"));
}
