// The PyTorch-made fixtures (tests/converter/fixtures, see its README): each valid one is converted (binary
// and --float-reference), checked for the operators it must produce, run through the Interpreter and
// compared with PyTorch's stored output; each error fixture must fail naming the node and the reason, with
// no output file written.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/run_model.h"
#include "convert.h"
#include "fixture_files.h"
#include "onebit/interpreter.h"
#include "onebit/model.h"
#include "onnx_test_graph.h"

namespace {

using onebit::testing::count;
using onebit::testing::read_f32;
using onebit::testing::read_text;

std::string fixture_dir() { return onebit::testing::converter_fixture_dir("fixtures"); }

// The integers of the first "[...]" after `"key"` inside the `"section"` object of the fixture's JSON.
std::vector<int64_t> json_shape(const std::string& json, const std::string& section) {
  size_t at = json.find("\"" + section + "\"");
  at = json.find("\"shape\"", at);
  const size_t open = json.find('[', at), close = json.find(']', open);
  std::vector<int64_t> out;
  std::stringstream ss(json.substr(open + 1, close - open - 1));
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(std::stoll(item));
  return out;
}

struct Expect {
  const char* name;
  int binary_convs;        // "binary BinaryConv2D" lines in the summary
  int bitpacked;           // of which with bitpacked output
  int threshold_quantize;  // Quantize with a fused BatchNormalization threshold
  int binary_max_pools;
};

const Expect kValid[] = {
    {"sign_pm1_alpha", 1, 0, 0, 0},      {"sign_scaled_bias", 1, 0, 0, 0}, {"sign_of_weight", 1, 0, 0, 0},
    {"pad_one", 1, 0, 0, 0},             {"pad_minus_one", 1, 0, 0, 0},    {"stride2", 1, 0, 0, 0},
    {"channels_not_mult32", 2, 0, 0, 0}, {"prelu", 1, 0, 0, 0},            {"maxpool_shortcut", 1, 0, 0, 0},
    {"maxpool_binary", 1, 0, 0, 1},      {"gemm_head", 1, 0, 0, 0},        {"bn_sign_threshold", 1, 0, 1, 0},
    {"binary_chain", 3, 2, 0, 0},        {"avgpool_include_pad", 1, 0, 0, 0}, {"clip_hardtanh", 1, 0, 1, 0},
};

}  // namespace

TEST_CASE("fixtures: converted models agree with PyTorch, binary where expected") {
  for (const Expect& e : kValid) {
    const std::string base = fixture_dir() + e.name;
    CAPTURE(base);
    const std::string json = read_text(base + ".json");
    REQUIRE_MESSAGE(!json.empty(), "missing fixture " << base << ".json (ONEBIT_SOURCE_DIR set?)");
    const std::vector<int64_t> in_shape = json_shape(json, "input"), out_shape = json_shape(json, "output");
    const onebit::testing::Tensor input{in_shape, read_f32(base + ".input.f32")};
    const std::vector<float> want = read_f32(base + ".output.f32");
    float scale = 1e-3f;
    for (float v : want) scale = std::max(scale, std::fabs(v));
    for (bool float_reference : {false, true}) {
      CAPTURE(float_reference);
      onebit::converter::ConvertOptions o;
      o.float_reference = float_reference;
      onebit::converter::ConvertResult result;
      onebit::Status s = onebit::converter::convert_onnx_file(base + ".onnx", o, &result);
      REQUIRE_MESSAGE(s.ok(), s.message());
      INFO(result.summary);
      if (!float_reference) {
        CHECK(int(count(result.summary, "-> binary BinaryConv2D")) == e.binary_convs);
        CHECK(int(count(result.summary, "(bitpacked output)")) == e.bitpacked);
        CHECK(int(count(result.summary, "Quantize (BatchNormalization threshold)")) == e.threshold_quantize);
        CHECK(int(count(result.summary, "-> binary BinaryMaxPool2D")) == e.binary_max_pools);
        CHECK(count(result.summary, "float Conv2D") == count(json, "\"Conv\"") - size_t(e.binary_convs));
      } else {
        CHECK(count(result.summary, "-> binary BinaryConv2D") == 0);
      }
      const std::vector<float> got = onebit::testing::from_nhwc(onebit::testing::run_model(result.model, onebit::testing::to_nhwc(input)), out_shape);
      REQUIRE(got.size() == want.size());
      for (size_t i = 0; i < got.size(); ++i) {
        CAPTURE(i);
        CHECK(std::fabs(got[i] - want[i]) <= 1e-3f * scale);
      }
    }
  }
}

TEST_CASE("fixtures: errors name the node and the reason, and no output file is written") {
  struct Case {
    const char* file;
    const char* must_contain[2];
  } cases[] = {
      {"err_unsupported_op.onnx", {"node '/TopK' (TopK)", "not supported"}},
      {"err_sign_into_float_conv.onnx", {"node '/1/Conv' (Conv)", "not binary"}},
      {"err_missing_initializer.onnx", {"node 'conv0' (Conv)", "conv0.weight_missing"}},
      {"err_dynamic_shape.onnx", {"input", "dynamic or unknown shape"}},
      {"not_onnx.bin", {"not_onnx.bin", "not an ONNX model"}},
      {"truncated.onnx", {"truncated.onnx", "not an ONNX model"}},
  };
  char dir_template[] = "/tmp/onebit-convert-test-XXXXXX";
  const char* dir = mkdtemp(dir_template);
  REQUIRE(dir != nullptr);
  for (const Case& c : cases) {
    CAPTURE(c.file);
    const std::string out = std::string(dir) + "/out.fb";
    onebit::converter::ConvertResult result;
    onebit::Status s = onebit::converter::convert_file_to_file(fixture_dir() + c.file, out, {}, &result);
    REQUIRE_FALSE(s.ok());
    INFO(s.message());
    for (const char* needle : c.must_contain) CHECK(s.message().find(needle) != std::string::npos);
    CHECK(access(out.c_str(), F_OK) != 0);
  }
  // Nothing else (no temporary file) is left behind either.
  CHECK(rmdir(dir) == 0);
}
