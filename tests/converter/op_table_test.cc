// The converter's op table (converter/ops/): one entry per op, onebit's own ops never read from a file,
// annotations never read from a file, and attributes read through the entry's typed defaults.
#include <doctest/doctest.h>

#include <cmath>
#include <set>

#include "convert.h"
#include "ir/onebit_ops.h"
#include "onnx_test_graph.h"
#include "ops/op_def.h"

namespace cv = onebit::converter;
using onebit::testing::OnnxTestGraph;

namespace {
// The message of converting `t`, which must fail.
std::string convert_error(const OnnxTestGraph& t) {
  cv::ConvertResult result;
  const onebit::Status s = cv::convert_onnx_bytes(t.bytes(), "t.onnx", {}, &result);
  REQUIRE_FALSE(s.ok());
  return s.message();
}
}  // namespace

TEST_CASE("op table: one entry per op, each found by its name") {
  std::set<std::string> names;
  for (const cv::OpDef& d : cv::all_ops()) {
    INFO(d.op);
    CHECK(names.insert(d.op).second);
    CHECK(cv::find_op(d.op) == &d);
    CHECK(d.arity.min_inputs <= d.arity.max_inputs);
    CHECK(d.arity.min_outputs <= d.arity.max_outputs);
    // Emission needs the output shapes: whatever is emitted has a shape function.
    const bool emitted = d.emit != nullptr, has_shapes = d.infer != nullptr;
    if (emitted) CHECK(has_shapes);
    // So does whatever is folded: constant folding checks its budget on the output shapes before evaluating.
    if (d.eval != nullptr) CHECK(has_shapes);
    std::set<std::string> attrs;
    for (const cv::AttrSpec& a : d.attrs) CHECK_MESSAGE(attrs.insert(a.name).second, a.name);
  }
  CHECK(cv::find_op("NoSuchOp") == nullptr);
}

TEST_CASE("op table: onebit's own ops are entries but never ONNX ops a file may use") {
  for (const char* op : {cv::ops::kQuantize, cv::ops::kQuantizeLevels, cv::ops::kDequantize, cv::ops::kBinaryConv2D,
                         cv::ops::kBinaryFullyConnected, cv::ops::kBinaryMaxPool2D}) {
    INFO(op);
    REQUIRE(cv::find_op(op) != nullptr);
    CHECK_FALSE(cv::find_op(op)->onnx);
    CHECK(cv::find_onnx_op(op) == nullptr);
  }
  OnnxTestGraph t;
  t.input("x", {1, 3, 4, 4});
  t.node("onebit.Dequantize", {"x"}, {"y"}, "smuggled");
  t.output("y");
  CHECK(convert_error(t).find("operator 'onebit.Dequantize' is not supported") != std::string::npos);
}

TEST_CASE("op table: annotations are not attributes a file may set") {
  OnnxTestGraph t;
  t.input("x", {1, 3, 4, 4});
  t.initializer("w", {2, 3, 1, 1}, std::vector<float>(6, 0.5f));
  auto& conv = t.node("Conv", {"x", "w"}, {"y"}, "conv");
  OnnxTestGraph::attr(conv, "binary_weights", int64_t(1));
  t.output("y");
  CHECK(convert_error(t).find("attribute 'binary_weights' is not known for Conv") != std::string::npos);
}

TEST_CASE("op table: an attribute not set reads its declared default, and Node::has still tells") {
  cv::Node gemm;
  gemm.op = "Gemm";
  gemm.name = "gemm";
  CHECK(gemm.i("transB") == 0);
  CHECK(gemm.f("alpha") == 1.0f);
  CHECK(gemm.f("beta") == 1.0f);
  CHECK_FALSE(gemm.has("transB"));
  gemm.attrs["transB"] = cv::Attr::Int(1);
  CHECK(gemm.i("transB") == 1);
  cv::Node conv;
  conv.op = "Conv";
  conv.name = "conv";
  CHECK(conv.i("group") == 1);
  CHECK(conv.i("int8") == 0);
  CHECK_FALSE(conv.has("clamp_min"));
}
