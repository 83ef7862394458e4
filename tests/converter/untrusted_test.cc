// Crafted ONNX files against the converter (issue 21, item 3; tests/converter/untrusted, made by
// gen_untrusted.py): attacker-chosen int64 values in shapes, steps, pads and quantizer bounds, Clip bounds ONNX
// forbids, and constant folding past its budget. Each must fail quickly with a message naming the node (never
// overflow, crash, hang, run out of memory or convert into a wrong model); the valid extremes must convert to
// what ONNX defines. Under the sanitizer build UBSan checks the arithmetic and hard_rss_limit_mb the memory.
#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <utility>

#include "common/run_model.h"
#include "convert.h"
#include "fixture_files.h"
#include "ir/checked_int.h"
#include "ir/shape_inference.h"
#include "onnx_test_graph.h"

namespace {

using onebit::converter::ConvertOptions;
using onebit::converter::ConvertResult;

std::string crafted(const std::string& name) { return onebit::testing::converter_fixture_dir("untrusted") + name + ".onnx"; }

// Converts a crafted file; the status, and the time it took in *seconds.
onebit::Status convert(const std::string& name, ConvertResult* result, double* seconds,
                       const ConvertOptions& options = ConvertOptions()) {
  const auto start = std::chrono::steady_clock::now();
  const onebit::Status s = onebit::converter::convert_onnx_file(crafted(name), options, result);
  *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return s;
}

// The file must fail within a few seconds (sanitizers and qemu included) with a message holding every part.
void check_rejected(const std::string& name, const std::vector<std::string>& parts) {
  CAPTURE(name);
  ConvertResult result;
  double seconds;
  const onebit::Status s = convert(name, &result, &seconds);
  REQUIRE_FALSE(s.ok());
  INFO(s.message());
  for (const std::string& p : parts) CHECK(s.message().find(p) != std::string::npos);
  CHECK(seconds < 5.0);
}

// x (1 x 4 x 4 x 4) + c through the converted model.
void check_adds(const ConvertResult& result, float c) {
  std::vector<float> x(64);
  for (size_t k = 0; k < x.size(); ++k) x[k] = float(k) * 0.25f - 8.0f;
  const std::vector<float> y = onebit::testing::run_model(result.model, x);  // NHWC; elementwise, so any order
  REQUIRE(y.size() == x.size());
  for (size_t k = 0; k < x.size(); ++k) CHECK(y[k] == doctest::Approx(x[k] + c));
}

}  // namespace

TEST_CASE("untrusted ONNX: int64 overflow in shape inference is an error naming the node") {
  check_rejected("reshape_product_overflow", {"node 'reshape' (Reshape)", "overflows int64"});
  check_rejected("pad_overflow", {"node 'pad' (Pad)", "9223372036854775807", "overflow int64"});
  // A 0-element initializer whose other dims multiply past int64 (every stride of it would overflow).
  check_rejected("empty_huge_dims", {"tensor 'c'", "[0, 2147483647, 2147483647, 2147483647]", "multiply past 2^62"});
}

TEST_CASE("untrusted ONNX: Slice steps at the int64 extremes convert to what ONNX defines") {
  // c = [0, 1, 2, 3]: c[1::INT64_MAX] = [1], c[INT64_MAX:INT64_MIN:INT64_MIN] = [3]; y = x + mean.
  for (const auto& file : {std::pair<std::string, float>{"slice_step_max", 1.0f}, {"slice_step_min", 3.0f}}) {
    const std::string& name = file.first;  // (clang 14 cannot capture a structured binding in CAPTURE's lambda)
    const float c = file.second;
    CAPTURE(name);
    ConvertResult result;
    double seconds;
    const onebit::Status s = convert(name, &result, &seconds);
    REQUIRE_MESSAGE(s.ok(), s.message());
    check_adds(result, c);
  }
}

TEST_CASE("untrusted ONNX: quantizer bounds beyond int64 and Clip bounds ONNX forbids are errors naming the node") {
  // Round(Clip(x, -1e30, 1e30)): 2e30 + 1 levels, said as such (not cast to int64).
  check_rejected("round_clip_1e30", {"node 'round' (Round)", "more than 2^63 levels"});
  // QuantizeLinear -> Clip(1e30, 3) -> DequantizeLinear converted as a 4-level quantizer before (a wrong model:
  // ONNX's output is the constant 3 there); float bounds on the uint8 tensor are invalid ONNX in the first place.
  for (const char* name : {"qdq_clip_min_above_max", "qdq_clip_float_bounds"})
    check_rejected(name, {"node 'clip' (Clip)", "min is a float tensor", "node 'quant' (QuantizeLinear)",
                          "ONNX requires Clip's bounds to have the input's type"});
  check_rejected("qdq_clip_u8_min_above_max", {"node 'dequant' (DequantizeLinear)", "node 'clip' (Clip)", "min 3 > max 1",
                                                "ONNX defines every output as max"});
  check_rejected("clip_min_above_max", {"node 'clip' (Clip)", "min 3 exceeds its max 1", "ONNX defines every output as max"});
}

TEST_CASE("untrusted ONNX: constant folding stops at its budget, before allocating") {
  // Range(0, 2^28) int64 (2 GiB) -> Cast -> Add -> Mul; four 1 GiB ConstantOfShape into a Sum; a 2^30
  // multiply-add MatMul of two 1024 x 1024 constants (the operands fit, the product's work does not).
  check_rejected("fold_range_chain", {"node 'range' (Range)", "2 GiB", "fold budget of 256 MiB", "--max-fold-bytes"});
  check_rejected("fold_sum_of_fills", {"node 'fill0' (ConstantOfShape)", "1 GiB", "fold budget of 256 MiB"});
  check_rejected("fold_matmul_work", {"node 'matmul' (MatMul)", "element operations", "--max-fold-bytes"});
}

TEST_CASE("untrusted ONNX: the fold budget counts constants still read, frees the others, and can be raised") {
  // x + mean(chain): Range(0, 4096) float (16 KiB) -> k Adds, each reading the one before; or k branches
  // Range -> Add(i) that a Sum reads together (all alive at once).
  const auto model = [](int k, bool branches) {
    onebit::testing::OnnxTestGraph t;
    t.input("x", {1, 4, 4, 4});
    t.initializer("zero", {}, {0.0f});
    t.initializer("limit", {}, {4096.0f});
    t.initializer("one", {}, {1.0f});
    t.node("Range", {"zero", "limit", "one"}, {"r"}, "range");
    std::vector<std::string> sum;
    for (int j = 0; j < k; ++j) {
      const std::string in = branches || j == 0 ? "r" : "a" + std::to_string(j - 1), out = "a" + std::to_string(j);
      t.node("Add", {in, "one"}, {out}, "add" + std::to_string(j));
      sum.push_back(out);
    }
    t.node("Sum", branches ? sum : std::vector<std::string>{sum.back()}, {"s"}, "sum");
    t.node("ReduceMean", {"s"}, {"m"}, "mean", {{"keepdims", 0}});
    t.node("Add", {"x", "m"}, {"y"}, "add");
    t.output("y");
    return t.bytes();
  };
  ConvertOptions small;
  small.max_fold_bytes = 100 << 10;  // 100 KiB: six 16 KiB vectors, and 100 Ki element operations
  ConvertResult result;
  // A chain of 8: at most two vectors alive at once (each Add's input is freed once read).
  onebit::Status s = onebit::converter::convert_onnx_bytes(model(8, false), "chain", small, &result);
  REQUIRE_MESSAGE(s.ok(), s.message());
  check_adds(result, 2048.0f - 0.5f + 8.0f);
  // Eight branches alive together: past 100 KiB at the sixth Add folded (the Range and five Adds hold 96 KiB).
  s = onebit::converter::convert_onnx_bytes(model(8, true), "branches", small, &result);
  REQUIRE_FALSE(s.ok());
  INFO(s.message());
  CHECK(s.message().find("(Add): constant folding would hold 112 KiB") != std::string::npos);
  CHECK(s.message().find("fold budget of 100 KiB") != std::string::npos);
  // Raised, it converts.
  ConvertOptions raised = small;
  raised.max_fold_bytes = 1 << 20;
  s = onebit::converter::convert_onnx_bytes(model(8, true), "branches", raised, &result);
  REQUIRE_MESSAGE(s.ok(), s.message());
  check_adds(result, 8 * (2048.0f - 0.5f + 1.0f));
  // The work budget: 1 element operation per byte (the chain of 8 costs about 80 Ki, one of 40 about 330 Ki).
  s = onebit::converter::convert_onnx_bytes(model(40, false), "long chain", small, &result);
  REQUIRE_FALSE(s.ok());
  CHECK(s.message().find("element operations") != std::string::npos);
}

TEST_CASE("untrusted ONNX: the fuzzer's QDQ and shape-op seeds convert") {
  for (const char* name : {"seed_qcdq_2bit", "seed_qdq_int8", "seed_shape_ops"}) {
    CAPTURE(name);
    ConvertResult result;
    double seconds;
    const onebit::Status s = convert(name, &result, &seconds);
    CHECK_MESSAGE(s.ok(), s.message());
  }
}

TEST_CASE("untrusted ONNX: CheckedInt and slice_axis at the int64 extremes") {
  using onebit::converter::CheckedInt;
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max(), kMin = std::numeric_limits<int64_t>::min();
  CHECK((CheckedInt(kMax) - 1 + 1).value() == kMax);
  CHECK_FALSE((CheckedInt(kMax) + 1).ok());
  CHECK_FALSE((CheckedInt(kMin) - 1).ok());
  CHECK_FALSE((-CheckedInt(kMin)).ok());
  CHECK_FALSE((CheckedInt(int64_t(1) << 32) * (int64_t(1) << 31)).ok());
  CHECK_FALSE((CheckedInt(kMin) / -1).ok());
  CHECK_FALSE((CheckedInt(1) / 0).ok());
  CHECK_FALSE((CheckedInt(kMax) + 1 - 5).ok());  // stays invalid
  CHECK(onebit::converter::checked_product({1 << 20, 1 << 20, 1 << 20}).value() == int64_t(1) << 60);
  CHECK_FALSE(onebit::converter::checked_product({1 << 20, 1 << 20, 1 << 20, 1 << 4}).ok());
  int64_t v = 0;
  CHECK_FALSE(onebit::converter::float_to_int64(1e30, &v));
  CHECK_FALSE(onebit::converter::float_to_int64(9223372036854775808.0, &v));
  CHECK_FALSE(onebit::converter::float_to_int64(std::nan(""), &v));
  REQUIRE(onebit::converter::float_to_int64(-9223372036854775808.0, &v));
  CHECK(v == kMin);
  int i = 0;
  CHECK_FALSE(onebit::converter::float_to_int(3e9, &i));
  REQUIRE(onebit::converter::float_to_int(-2147483648.5, &i));
  CHECK(i == std::numeric_limits<int>::min());
  // slice_axis(dim, start, end, step): first index and count, as ONNX defines them.
  const auto slice = [](int64_t dim, int64_t s, int64_t e, int64_t step) {
    int64_t first, count;
    onebit::converter::slice_axis(dim, s, e, step, &first, &count);
    return std::pair<int64_t, int64_t>(first, count);
  };
  CHECK(slice(4, 1, 4, kMax) == std::pair<int64_t, int64_t>(1, 1));
  CHECK(slice(4, kMax, kMin, kMin) == std::pair<int64_t, int64_t>(3, 1));
  CHECK(slice(4, kMin, kMax, 1) == std::pair<int64_t, int64_t>(0, 4));
  CHECK(slice(4, kMax, kMin, -1) == std::pair<int64_t, int64_t>(3, 4));
  CHECK(slice(4, -1, kMin, -2) == std::pair<int64_t, int64_t>(3, 2));
  CHECK(slice(4, -5, 4, 1) == std::pair<int64_t, int64_t>(0, 4));
  CHECK(slice(0, kMax, kMin, kMin).second == 0);
  CHECK(slice(4, 3, 1, 1).second == 0);
}
