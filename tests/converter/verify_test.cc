// onebit-convert --verify (converter/verify/): the double-precision reference against hand-computed
// convolutions and PyTorch's stored outputs, and verify_conversion on the shipped model (full agreement) and
// on a ternary model converted with sign(0) = +1 (the disagreement, its first diverging layer and its cause).
#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "convert.h"
#include "fixture_files.h"
#include "onnx_test_graph.h"
#include "verify/reference.h"
#include "verify/verify.h"

// The shipped-model check is 64 double-precision forward passes of 37 M multiply-adds each: about 1 s in a
// native Release build, 30 s under ASan + UBSan, and as long under qemu-user. The sanitized and the non-x86
// (qemu-run Arm) builds check 4 inputs: the same code paths; the native x86-64 run checks the 64 the issue
// asks for.
#if defined(__SANITIZE_ADDRESS__)
#define ONEBIT_VERIFY_FEW_INPUTS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ONEBIT_VERIFY_FEW_INPUTS 1
#endif
#endif
#if !defined(ONEBIT_VERIFY_FEW_INPUTS) && !defined(__x86_64__)
#define ONEBIT_VERIFY_FEW_INPUTS 1
#endif
#ifdef ONEBIT_VERIFY_FEW_INPUTS
constexpr int kShippedInputs = 4;
#else
constexpr int kShippedInputs = 64;
#endif

namespace {

using onebit::converter::RefTensor;
using onebit::converter::ReferenceGraph;
using onebit::testing::Attrs;
using onebit::testing::OnnxTestGraph;
using onebit::testing::read_f32;
using onebit::testing::read_text;

std::vector<double> evaluate(const OnnxTestGraph& g, const RefTensor& x) {
  ReferenceGraph ref;
  onebit::Status s = ReferenceGraph::parse(g.bytes(), "test", &ref);
  REQUIRE_MESSAGE(s.ok(), s.message());
  std::map<std::string, RefTensor> values;
  s = ref.evaluate({{"x", x}}, &values);
  REQUIRE_MESSAGE(s.ok(), s.message());
  return values.at("y").data;
}

RefTensor iota(std::vector<int64_t> shape, double first) {
  RefTensor t{shape, {}, 1};
  t.data.resize(size_t(onebit::converter::element_count(shape)));
  for (size_t k = 0; k < t.size(); ++k) t.data[k] = first + double(k);
  return t;
}

// Converts `onnx` with `options` and verifies the result on `inputs` random inputs.
onebit::converter::VerifyReport convert_and_verify(const std::string& onnx, const std::string& origin,
                                                   const onebit::converter::ConvertOptions& options, int inputs) {
  onebit::converter::ConvertResult result;
  onebit::Status s = onebit::converter::convert_onnx_bytes(onnx, origin, options, &result);
  REQUIRE_MESSAGE(s.ok(), s.message());
  onebit::converter::VerifyOptions vo;
  vo.inputs = inputs;
  onebit::converter::VerifyReport r;
  s = onebit::converter::verify_conversion(onnx, origin, result.model, vo, &r);
  REQUIRE_MESSAGE(s.ok(), s.message());
  return r;
}

}  // namespace

TEST_CASE("verify: the reference Conv against hand-computed outputs") {
  // x = 1..9 as a 3x3 image, w = [[1, 2], [3, 4]].
  const RefTensor x = iota({1, 1, 3, 3}, 1);
  SUBCASE("valid, stride 1, bias 0.5") {
    OnnxTestGraph g;
    g.input("x", {1, 1, 3, 3});
    g.initializer("w", {1, 1, 2, 2}, {1, 2, 3, 4});
    g.initializer("b", {1}, {0.5f});
    g.node("Conv", {"x", "w", "b"}, {"y"});
    g.output("y");
    // 1·1 + 2·2 + 4·3 + 5·4 = 37, 2 + 6 + 15 + 24 = 47, 4 + 10 + 21 + 32 = 67, 5 + 12 + 24 + 36 = 77.
    CHECK(evaluate(g, x) == std::vector<double>{37.5, 47.5, 67.5, 77.5});
  }
  SUBCASE("pads 1, stride 2: windows start at -1 and 1; padded taps are 0") {
    OnnxTestGraph g;
    g.input("x", {1, 1, 3, 3});
    g.initializer("w", {1, 1, 2, 2}, {1, 2, 3, 4});
    g.node("Conv", {"x", "w"}, {"y"}, "", Attrs{{"pads", std::vector<int64_t>{1, 1, 1, 1}}, {"strides", std::vector<int64_t>{2, 2}}});
    g.output("y");
    // (0,0): x00·4 = 4; (0,1): x01·3 + x02·4 = 18; (1,0): x10·2 + x20·4 = 36; (1,1): 5 + 12 + 24 + 36 = 77.
    CHECK(evaluate(g, x) == std::vector<double>{4, 18, 36, 77});
  }
  SUBCASE("groups 2, dilation 2: each output channel reads its own input channel's corners") {
    OnnxTestGraph g;
    g.input("x", {1, 2, 3, 3});
    g.initializer("w", {2, 1, 2, 2}, {1, 0, 0, 1, 0, 1, 1, 0});
    g.node("Conv", {"x", "w"}, {"y"}, "", Attrs{{"group", 2}, {"dilations", std::vector<int64_t>{2, 2}}});
    g.output("y");
    // channel 0 = 1..9: x(0,0) + x(2,2) = 1 + 9; channel 1 = 10..18: x(0,2) + x(2,0) = 12 + 16.
    CHECK(evaluate(g, iota({1, 2, 3, 3}, 1)) == std::vector<double>{10, 28});
  }
}

TEST_CASE("verify: the reference reproduces PyTorch's outputs of the converter fixtures") {
  for (const char* name : {"sign_pm1_alpha", "sign_scaled_bias", "sign_of_weight", "pad_one", "pad_minus_one", "stride2",
                           "channels_not_mult32", "prelu", "maxpool_shortcut", "maxpool_binary", "gemm_head",
                           "bn_sign_threshold", "binary_chain", "avgpool_include_pad", "clip_hardtanh"}) {
    const std::string base = onebit::testing::converter_fixture_dir("fixtures") + name;
    CAPTURE(base);
    ReferenceGraph ref;
    onebit::Status s = ReferenceGraph::parse(read_text(base + ".onnx"), base, &ref);
    REQUIRE_MESSAGE(s.ok(), s.message());
    REQUIRE(ref.input_shapes().size() == 1);
    const std::vector<float> in = read_f32(base + ".input.f32"), want = read_f32(base + ".output.f32");
    std::map<std::string, RefTensor> values;
    s = ref.evaluate({{ref.inputs()[0], RefTensor{ref.input_shapes()[0], {in.begin(), in.end()}, 1}}}, &values);
    REQUIRE_MESSAGE(s.ok(), s.message());
    const RefTensor& got = values.at(ref.outputs()[0]);
    REQUIRE(got.size() == want.size());
    double scale = 1e-3, err = 0;
    for (float v : want) scale = std::max(scale, double(std::fabs(v)));
    for (size_t i = 0; i < want.size(); ++i) err = std::max(err, std::fabs(got.data[i] - double(want[i])));
    CHECK(err <= 1e-4 * scale);  // PyTorch computes in float32; every Sign input is > 1e-3 from 0 (README)
  }
}

TEST_CASE("verify: the shipped model agrees with its ONNX graph on 64 inputs (4 under sanitizers and qemu)") {
  const std::string path = std::string(std::getenv("ONEBIT_SOURCE_DIR") ? std::getenv("ONEBIT_SOURCE_DIR") : ".") +
                           "/models/fashion_mnist/bnn_resnet.onnx";
  const std::string onnx = read_text(path);
  REQUIRE_MESSAGE(!onnx.empty(), "missing " << path);
  const int n = kShippedInputs;
  const onebit::converter::VerifyReport r = convert_and_verify(onnx, path, onebit::converter::ConvertOptions(), n);
  INFO(r.text());
  CHECK(r.inputs == n);
  CHECK(r.argmax_agree == n);
  CHECK(r.disagreeing == 0);
  CHECK(r.max_relative_delta < 1e-5);
  CHECK(r.passed());
  const std::string count = std::to_string(n);
  CHECK(r.text().rfind("verify: " + count + " inputs, argmax agreement " + count + "/" + count +
                           ", max |Δ| relative to the logit range ", 0) == 0);
  CHECK(r.text().find(", binary activations within float rounding of 0: ") != std::string::npos);
  CHECK(r.text().find("diverging") == std::string::npos);
}

TEST_CASE("verify: a ternary model converted with sign(0) = +1 disagrees at its Sign, for that reason") {
  const std::string dir = onebit::testing::converter_fixture_dir("patterns");
  // Relu -> Sign -> Conv, and Relu -> MaxPool -> Sign -> Conv (the Sign becomes a binary max pool's input).
  for (const auto& variant : std::vector<std::pair<std::string, std::string>>{
           {"sign_after_relu.o13.fixed.onnx", "/Sign"}, {"sign_after_relu.maxpool.o13.fixed.onnx", "/MaxPool"}}) {
    const std::string& file = variant.first;  // not a structured binding: clang 14 cannot capture those
    const std::string& layer = variant.second;
    CAPTURE(file);
    const std::string onnx = read_text(dir + file);
    REQUIRE(!onnx.empty());
    for (auto mode : {onebit::converter::SignZero::kTernary, onebit::converter::SignZero::kPlusOne}) {
      onebit::converter::ConvertOptions o;
      o.sign_zero = mode;
      const onebit::converter::VerifyReport r = convert_and_verify(onnx, file, o, 64);
      INFO(r.text());
      CHECK(r.exact_zero_binary > 0);  // the Relu's zeros reach the Sign
      if (mode == onebit::converter::SignZero::kTernary) {  // exact ternary activations: full agreement
        CHECK(r.disagreeing == 0);
        CHECK(r.passed());
        continue;
      }
      CHECK(r.disagreeing > 0);
      CHECK(r.first_disagreeing_input == 0);
      CHECK(r.first_diverging_layer == layer);
      CHECK(r.divergence.find("ONNX tensor '/Sign_output_0'") != std::string::npos);
      CHECK(r.explained_by_near_zero_signs);
      CHECK(r.exact_zero_cause);
      CHECK_FALSE(r.passed());
      CHECK(r.text().find("first diverging layer (input 0): '" + layer + "'") != std::string::npos);
      CHECK(r.text().find("exactly 0: ONNX computes sign(0) = 0 there") != std::string::npos);
    }
  }
}

TEST_CASE("verify: given inputs are used as they are, and their count is checked") {
  const std::string dir = onebit::testing::converter_fixture_dir("patterns");
  const std::string onnx = read_text(dir + "sign_after_relu.o13.fixed.onnx");
  onebit::converter::ConvertResult result;
  REQUIRE(onebit::converter::convert_onnx_bytes(onnx, "m", onebit::converter::ConvertOptions(), &result).ok());
  onebit::converter::VerifyOptions vo;
  vo.inputs = 2;
  vo.source_name = "two images";
  vo.data_nhwc.assign(16 * 16 * 2, 0.25f);
  onebit::converter::VerifyReport r;
  onebit::Status s = onebit::converter::verify_conversion(onnx, "m", result.model, vo, &r);
  REQUIRE_MESSAGE(s.ok(), s.message());
  CHECK(r.inputs == 2);
  CHECK(r.input_source == "two images");
  CHECK(r.argmax_agree == 2);
  vo.inputs = 3;  // more than the data holds
  s = onebit::converter::verify_conversion(onnx, "m", result.model, vo, &r);
  REQUIRE_FALSE(s.ok());
  CHECK(s.message().find("fewer than 3 inputs") != std::string::npos);
}
