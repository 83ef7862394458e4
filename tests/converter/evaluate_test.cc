// The conversion-time evaluator (converter/eval): every op it claims against values computed independently
// (by hand from the ONNX spec, or with numpy in float32 and pasted here), plus the checks that turn a
// malformed node into an error naming it.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "evaluator/evaluate.h"
#include "ops/op_def.h"

using onebit::Status;
using onebit::converter::Attr;
using onebit::converter::AttrSpec;
using onebit::converter::can_evaluate;
using onebit::converter::DType;
using onebit::converter::evaluate_node;
using onebit::converter::find_onnx_op;
using onebit::converter::kNoId;
using onebit::converter::Node;
using onebit::converter::OpDef;
using onebit::converter::Tensor;
using onebit::converter::ValueId;

namespace {

constexpr int64_t kI64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kI64Min = std::numeric_limits<int64_t>::min();

Tensor F(std::vector<int64_t> shape, std::vector<float> v) { return Tensor::floats(std::move(shape), std::move(v)); }
Tensor I(std::vector<int64_t> shape, std::vector<int64_t> v) { return Tensor::ints(std::move(shape), std::move(v)); }
Tensor B(std::vector<int64_t> shape, std::vector<int64_t> v) { return Tensor::bools(std::move(shape), std::move(v)); }
Tensor I1(std::vector<int64_t> v) {
  const int64_t n = int64_t(v.size());
  return I({n}, std::move(v));
}

// A node as the importer would hand it over: every schema attribute present with its default, then the
// test's own settings. Outputs get placeholder ids.
Node node(const std::string& op, const std::map<std::string, Attr>& attrs = {}, size_t outputs = 1) {
  Node n;
  n.op = op;
  n.name = "t_" + op;
  const OpDef* s = find_onnx_op(op);
  REQUIRE_MESSAGE(s != nullptr, op);
  for (const AttrSpec& a : s->attrs)
    if (!a.annotation) n.attrs[a.name] = a.default_value;
  for (const auto& kv : attrs) {
    REQUIRE_MESSAGE(n.attrs.count(kv.first), op << " has no attribute " << kv.first);
    n.attrs[kv.first] = kv.second;
  }
  for (size_t k = 0; k < outputs; ++k) n.outputs.push_back(ValueId(100 + k));
  return n;
}

Status run(Node n, const std::vector<const Tensor*>& in, std::vector<Tensor>* out) {
  n.inputs.clear();
  for (size_t k = 0; k < in.size(); ++k) n.inputs.push_back(in[k] ? ValueId(k) : kNoId);
  return evaluate_node(n, in, out);
}

std::vector<const Tensor*> ptrs(const std::vector<Tensor>& in) {
  std::vector<const Tensor*> p;
  for (const Tensor& t : in) p.push_back(&t);
  return p;
}

std::vector<Tensor> eval_all_p(const Node& n, const std::vector<const Tensor*>& in) {
  std::vector<Tensor> out;
  const Status st = run(n, in, &out);
  REQUIRE_MESSAGE(st.ok(), st.message());
  REQUIRE(out.size() == n.outputs.size());
  return out;
}
std::vector<Tensor> eval_all(const Node& n, const std::vector<Tensor>& in) { return eval_all_p(n, ptrs(in)); }
Tensor eval(const Node& n, const std::vector<Tensor>& in) { return eval_all(n, in)[0]; }
Tensor eval_p(const Node& n, const std::vector<const Tensor*>& in) { return eval_all_p(n, in)[0]; }

// The error message, which must name the node and contain `expect`.
std::string eval_error_p(const Node& n, const std::vector<const Tensor*>& in, const std::string& expect) {
  std::vector<Tensor> out;
  const Status st = run(n, in, &out);
  REQUIRE(!st.ok());
  CHECK_MESSAGE(st.message().find(n.describe() + ": cannot evaluate at conversion time: ") == 0, st.message());
  CHECK_MESSAGE(st.message().find(expect) != std::string::npos, st.message());
  return st.message();
}
std::string eval_error(const Node& n, const std::vector<Tensor>& in, const std::string& expect) {
  return eval_error_p(n, ptrs(in), expect);
}

void check_floats(const Tensor& t, const std::vector<int64_t>& shape, const std::vector<float>& v, double eps = 1e-6) {
  REQUIRE(t.dtype == DType::kFloat);
  CHECK(t.shape == shape);
  REQUIRE(t.f.size() == v.size());
  for (size_t k = 0; k < v.size(); ++k) {
    if (std::isnan(v[k])) {
      CHECK_MESSAGE(std::isnan(t.f[k]), "element " << k);
    } else if (eps == 0 || std::isinf(v[k])) {
      CHECK_MESSAGE(t.f[k] == v[k], "element " << k);
    } else {
      CHECK_MESSAGE(double(t.f[k]) == doctest::Approx(double(v[k])).epsilon(eps), "element " << k);
    }
  }
}

void check_ints(const Tensor& t, DType dt, const std::vector<int64_t>& shape, const std::vector<int64_t>& v) {
  REQUIRE(t.dtype == dt);
  CHECK(t.shape == shape);
  CHECK(t.i == v);
  CHECK(t.f.empty());
}

// Applies a unary float op to x.
Tensor unary(const std::string& op, const Tensor& x, const std::map<std::string, Attr>& attrs = {}) {
  return eval(node(op, attrs), {x});
}

const std::vector<float> kX = {-2.5f, -0.5f, 0.5f, 1.5f, 2.5f, 3.7f};

}  // namespace

TEST_CASE("evaluate: can_evaluate knows every op of the list and nothing else") {
  for (const char* op :
       {"Abs", "Neg", "Sign", "Sqrt", "Exp", "Log", "Pow", "Round", "Floor", "Ceil", "Reciprocal", "Tanh", "Sigmoid",
        "HardSigmoid", "Erf", "Relu", "LeakyRelu", "PRelu", "Clip", "Add", "Sub", "Mul", "Div", "Mod", "Min", "Max",
        "Sum", "Mean", "Where", "Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual", "And", "Or", "Xor",
        "Not", "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
        "ReduceSumSquare", "Shape", "Size", "Gather", "Slice", "Concat", "Reshape", "Squeeze", "Unsqueeze",
        "Transpose", "Expand", "Tile", "Flatten", "Split", "ConstantOfShape", "Range", "Cast", "CastLike",
        "Identity", "Dropout", "MatMul", "Gemm", "BatchNormalization", "Softmax", "LogSoftmax", "Sin", "Cos",
        "TopK"}) {
    CHECK_MESSAGE(can_evaluate(op), op);
    CHECK_MESSAGE(find_onnx_op(op) != nullptr, op);
  }
  CHECK(!can_evaluate("Conv"));
  CHECK(!can_evaluate("MaxPool"));
  CHECK(!can_evaluate("onebit.BinaryConv2D"));
  std::vector<Tensor> out;
  Node conv = node("Conv");
  const Tensor x = F({1, 1, 1, 1}, {1}), w = F({1, 1, 1, 1}, {1});
  CHECK(!run(conv, {&x, &w}, &out).ok());
}

TEST_CASE("evaluate: unary math on floats (numpy float32 values)") {
  const Tensor x = F({2, 3}, kX);
  check_floats(unary("Abs", x), {2, 3}, {2.5f, 0.5f, 0.5f, 1.5f, 2.5f, 3.7f});
  check_floats(unary("Neg", x), {2, 3}, {2.5f, 0.5f, -0.5f, -1.5f, -2.5f, -3.7f});
  check_floats(unary("Sign", F({4}, {-3, 0, 0.25f, 7})), {4}, {-1, 0, 1, 1});
  check_floats(unary("Floor", x), {2, 3}, {-3, -1, 0, 1, 2, 3});
  check_floats(unary("Ceil", x), {2, 3}, {-2, -0.0f, 1, 2, 3, 4});
  check_floats(unary("Relu", x), {2, 3}, {0, 0, 0.5f, 1.5f, 2.5f, 3.7f});
  check_floats(unary("LeakyRelu", x), {2, 3}, {-0.025f, -0.005f, 0.5f, 1.5f, 2.5f, 3.7f});
  check_floats(unary("LeakyRelu", x, {{"alpha", Attr::Float(0.5f)}}), {2, 3}, {-1.25f, -0.25f, 0.5f, 1.5f, 2.5f, 3.7f});
  check_floats(unary("HardSigmoid", x), {2, 3}, {0, 0.4f, 0.6f, 0.8f, 1, 1});
  check_floats(unary("Sigmoid", x), {2, 3},
               {0.07585818320512772f, 0.3775406777858734f, 0.622459352016449f, 0.8175745010375977f,
                0.9241418242454529f, 0.9758729934692383f});
  check_floats(unary("Tanh", x), {2, 3},
               {-0.9866142868995667f, -0.46211719512939453f, 0.46211719512939453f, 0.9051482081413269f,
                0.9866142868995667f, 0.998778223991394f});
  check_floats(unary("Exp", x), {2, 3},
               {0.0820850059390068f, 0.6065306663513184f, 1.6487212181091309f, 4.481688976287842f,
                12.182493209838867f, 40.44730758666992f});
  check_floats(unary("Erf", x), {2, 3},
               {-0.9995930194854736f, -0.5204998850822449f, 0.5204998850822449f, 0.9661051630973816f,
                0.9995930194854736f, 0.9999998211860657f});
  // Sin / Cos (FDA's Fourier-series sign surrogate): numpy float32 values
  check_floats(unary("Sin", x), {2, 3},
               {-0.5984721779823303f, -0.4794255495071411f, 0.4794255495071411f, 0.9974949955940247f,
                0.5984721779823303f, -0.5298361778259277f});
  check_floats(unary("Cos", x), {2, 3},
               {-0.8011435866355896f, 0.8775825500488281f, 0.8775825500488281f, 0.07073719799518585f,
                -0.8011435866355896f, -0.8481000065803528f});
  const Tensor p = F({4}, {0.25f, 1, 2, 9});
  check_floats(unary("Sqrt", p), {4}, {0.5f, 1, 1.4142135381698608f, 3});
  check_floats(unary("Log", p), {4}, {-1.3862943649291992f, 0, 0.6931471824645996f, 2.1972246170043945f});
  check_floats(unary("Reciprocal", p), {4}, {4, 1, 0.5f, 0.1111111119389534f});
  check_floats(unary("Sqrt", F({1}, {-1})), {1}, {NAN});
}

TEST_CASE("evaluate: Round rounds halves to even") {
  const Tensor r = unary("Round", F({9}, {-2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f, 3.5f, 2.4f, -2.6f}));
  check_floats(r, {9}, {-2, -2, -0.0f, 0, 2, 2, 4, 2, -3});
  CHECK(std::signbit(r.f[2]));  // -0.5 rounds to -0, as numpy
}

TEST_CASE("evaluate: integer unary ops keep int64; float-only ops reject ints") {
  const Tensor x = I({3}, {-3, 0, 4});
  check_ints(unary("Abs", x), DType::kInt64, {3}, {3, 0, 4});
  check_ints(unary("Neg", x), DType::kInt64, {3}, {3, 0, -4});
  check_ints(unary("Sign", x), DType::kInt64, {3}, {-1, 0, 1});
  check_ints(unary("Relu", x), DType::kInt64, {3}, {0, 0, 4});
  eval_error(node("Sqrt"), {x}, "input 0 must be float, not int64");
  eval_error(node("Abs"), {B({1}, {1})}, "input 0 must be float or int64, not bool");
}

TEST_CASE("evaluate: binary arithmetic broadcasts across ranks") {
  // [2,3] + [3]
  check_floats(eval(node("Add"), {F({2, 3}, {1, 2, 3, 4, 5, 6}), F({3}, {10, 20, 30})}), {2, 3},
               {11, 22, 33, 14, 25, 36});
  // [2,1] - [1,3] -> [2,3]
  check_floats(eval(node("Sub"), {F({2, 1}, {1, 2}), F({1, 3}, {1, 2, 3})}), {2, 3}, {0, -1, -2, 1, 0, -1});
  // [2,1,2] * scalar-like [2] -> [2,1,2]; rank-3 with rank-0
  check_floats(eval(node("Mul"), {F({2, 1, 2}, {1, 2, 3, 4}), F({2}, {10, -1})}), {2, 1, 2}, {10, -2, 30, -4});
  check_floats(eval(node("Mul"), {F({}, {3}), F({2, 1, 2}, {1, 2, 3, 4})}), {2, 1, 2}, {3, 6, 9, 12});
  check_floats(eval(node("Div"), {F({3}, {1, -3, 1}), F({1}, {2})}), {3}, {0.5f, -1.5f, 0.5f});
  check_floats(eval(node("Div"), {F({2}, {1, -1}), F({}, {0})}), {2}, {INFINITY, -INFINITY});
  // A zero-sized dim broadcasts with 1 to 0.
  check_floats(eval(node("Add"), {F({0, 3}, {}), F({1, 3}, {1, 2, 3})}), {0, 3}, {});
}

TEST_CASE("evaluate: integer Div truncates like C, division by zero is an error") {
  check_ints(eval(node("Div"), {I({4}, {7, -7, 7, -7}), I({4}, {2, 2, -2, -2})}), DType::kInt64, {4}, {3, -3, -3, 3});
  check_ints(eval(node("Add"), {I({2}, {kI64Max, 1}), I({}, {1})}), DType::kInt64, {2}, {kI64Min, 2});  // wraps
  check_ints(eval(node("Mul"), {I({2}, {3, -4}), I({2}, {5, 6})}), DType::kInt64, {2}, {15, -24});
  check_ints(eval(node("Sub"), {I({2}, {3, -4}), I({2}, {5, 6})}), DType::kInt64, {2}, {-2, -10});
  eval_error(node("Div"), {I({2}, {1, 2}), I({2}, {1, 0})}, "integer division by zero");
}

TEST_CASE("evaluate: Mod follows the divisor's sign unless fmod=1") {
  const Tensor a = I({4}, {5, -5, 5, -5}), b = I({4}, {3, 3, -3, -3});
  check_ints(eval(node("Mod"), {a, b}), DType::kInt64, {4}, {2, 1, -1, -2});  // numpy.mod
  check_ints(eval(node("Mod", {{"fmod", Attr::Int(1)}}), {a, b}), DType::kInt64, {4}, {2, -2, 2, -2});  // numpy.fmod
  check_floats(eval(node("Mod", {{"fmod", Attr::Int(1)}}), {F({2}, {5.5f, -5.5f}), F({}, {2})}), {2}, {1.5f, -1.5f});
  eval_error(node("Mod"), {F({1}, {1}), F({1}, {2})}, "requires fmod=1");
  eval_error(node("Mod"), {I({1}, {1}), I({1}, {0})}, "integer modulo by zero");
}

TEST_CASE("evaluate: mixed and bool dtypes in arithmetic are errors") {
  eval_error(node("Add"), {F({1}, {1}), I({1}, {1})}, "input 0 (float) and input 1 (int64) must have the same type");
  eval_error(node("Mul"), {B({1}, {1}), B({1}, {1})}, "must be float or int64, not bool");
}

TEST_CASE("evaluate: Pow, including an integer exponent and the power-of-two quantizer chain") {
  check_floats(eval(node("Pow"), {F({2}, {2, 3}), F({2}, {3, 0.5f})}), {2}, {8, 1.7320507764816284f});
  check_floats(eval(node("Pow"), {F({3}, {2, -2, 0.5f}), I({}, {3})}), {3}, {8, -8, 0.125f});
  check_ints(eval(node("Pow"), {I({3}, {2, -3, 7}), I({3}, {10, 3, 0})}), DType::kInt64, {3}, {1024, -27, 1});
  eval_error(node("Pow"), {I({1}, {2}), I({1}, {-1})}, "negative exponent");

  // 2^round(log(x) / log(2)): Log -> Div -> Round -> Pow, each node evaluated in turn.
  const Tensor x = F({5}, {0.3f, 0.75f, 3.0f, 5.9f, 0.01f});
  const Tensor lg = unary("Log", x);
  const Tensor log2 = eval(node("Div"), {lg, F({}, {std::log(2.0f)})});
  check_floats(log2, {5}, {-1.7369656562805176f, -0.41503751277923584f, 1.5849624872207642f, 2.5607149600982666f,
                           -6.643856048583984f}, 1e-5);
  const Tensor k = unary("Round", log2);
  check_floats(k, {5}, {-2, -0.0f, 2, 3, -7});
  check_floats(eval(node("Pow"), {F({}, {2}), k}), {5}, {0.25f, 1, 4, 8, 0.0078125f}, 0);
}

TEST_CASE("evaluate: Min, Max, Sum, Mean over several broadcast inputs") {
  const Tensor a = F({2, 2}, {1, 5, -2, 8}), b = F({2}, {3, 3}), c = F({}, {4});
  check_floats(eval(node("Min"), {a, b, c}), {2, 2}, {1, 3, -2, 3});
  check_floats(eval(node("Max"), {a, b, c}), {2, 2}, {4, 5, 4, 8});
  check_floats(eval(node("Sum"), {a, b, c}), {2, 2}, {8, 12, 5, 15});
  check_floats(eval(node("Mean"), {a, b, c}), {2, 2}, {8.0f / 3, 4, 5.0f / 3, 5});
  check_floats(eval(node("Max"), {F({2}, {NAN, 1}), F({2}, {0, NAN})}), {2}, {NAN, NAN});  // NaN propagates
  check_floats(eval(node("Sum"), {a}), {2, 2}, {1, 5, -2, 8});
  check_ints(eval(node("Max"), {I({3}, {1, 9, -4}), I({1}, {2})}), DType::kInt64, {3}, {2, 9, 2});
  eval_error(node("Mean"), {I({1}, {1}), I({1}, {2})}, "input 0 must be float, not int64");
}

TEST_CASE("evaluate: Where broadcasts condition, X and Y") {
  const Tensor cond = B({2, 1}, {1, 0}), x = F({3}, {1, 2, 3}), y = F({}, {-1});
  check_floats(eval(node("Where"), {cond, x, y}), {2, 3}, {1, 2, 3, -1, -1, -1});
  check_ints(eval(node("Where"), {B({3}, {0, 1, 0}), I({1}, {7}), I({3}, {1, 2, 3})}), DType::kInt64, {3}, {1, 7, 3});
  eval_error(node("Where"), {F({1}, {1}), x, y}, "condition (input 0) must be bool");
  eval_error(node("Where"), {cond, x, I({}, {1})}, "must have the same type");
}

TEST_CASE("evaluate: comparisons give bool") {
  const Tensor a = F({3}, {1, 2, 3}), two = F({}, {2});
  check_ints(eval(node("Equal"), {a, two}), DType::kBool, {3}, {0, 1, 0});
  check_ints(eval(node("Less"), {a, two}), DType::kBool, {3}, {1, 0, 0});
  check_ints(eval(node("LessOrEqual"), {a, two}), DType::kBool, {3}, {1, 1, 0});
  check_ints(eval(node("Greater"), {a, two}), DType::kBool, {3}, {0, 0, 1});
  check_ints(eval(node("GreaterOrEqual"), {a, two}), DType::kBool, {3}, {0, 1, 1});
  check_ints(eval(node("Equal"), {I({2}, {5, 6}), I({2, 1}, {5, 7})}), DType::kBool, {2, 2}, {1, 0, 0, 0});
  check_ints(eval(node("Equal"), {B({2}, {1, 0}), B({2}, {1, 1})}), DType::kBool, {2}, {1, 0});
  eval_error(node("Less"), {B({1}, {1}), B({1}, {0})}, "not bool");
  eval_error(node("Equal"), {F({1}, {1}), I({1}, {1})}, "must have the same type");
}

TEST_CASE("evaluate: logical ops") {
  const Tensor a = B({4}, {0, 0, 1, 1}), b = B({4}, {0, 1, 0, 1});
  check_ints(eval(node("And"), {a, b}), DType::kBool, {4}, {0, 0, 0, 1});
  check_ints(eval(node("Or"), {a, b}), DType::kBool, {4}, {0, 1, 1, 1});
  check_ints(eval(node("Xor"), {a, b}), DType::kBool, {4}, {0, 1, 1, 0});
  check_ints(eval(node("Not"), {a}), DType::kBool, {4}, {1, 1, 0, 0});
  check_ints(eval(node("And"), {B({2, 1}, {1, 0}), B({2}, {1, 1})}), DType::kBool, {2, 2}, {1, 1, 0, 0});
  eval_error(node("And"), {a, I({4}, {0, 1, 0, 1})}, "input 1 must be bool");
}

TEST_CASE("evaluate: Clip with optional min and max") {
  const Tensor x = F({5}, {-3, -1, 0, 2, 9}), lo = F({}, {-1.5f}), hi = F({1}, {3});
  check_floats(eval_p(node("Clip"), {&x, &lo, &hi}), {5}, {-1.5f, -1, 0, 2, 3});
  check_floats(eval_p(node("Clip"), {&x, &lo}), {5}, {-1.5f, -1, 0, 2, 9});
  check_floats(eval_p(node("Clip"), {&x, nullptr, &hi}), {5}, {-3, -1, 0, 2, 3});
  check_floats(eval_p(node("Clip"), {&x}), {5}, {-3, -1, 0, 2, 9});
  const Tensor big = F({}, {5});
  check_floats(eval_p(node("Clip"), {&x, &big, &hi}), {5}, {3, 3, 3, 3, 3});  // min > max: all max (ONNX)
  const Tensor xi = I({3}, {-5, 1, 5}), loi = I({}, {0}), hii = I({}, {2});
  check_ints(eval_p(node("Clip"), {&xi, &loi, &hii}), DType::kInt64, {3}, {0, 1, 2});
  const Tensor vec = F({2}, {0, 1});
  eval_error_p(node("Clip"), {&x, &vec}, "min (input 1) must be a scalar");
  eval_error_p(node("Clip"), {&x, &loi}, "min (input 1) must be float");
}

TEST_CASE("evaluate: PRelu broadcasts the slope to the input only") {
  const Tensor x = F({2, 3}, {-1, 2, -3, 4, -5, 6});
  check_floats(eval(node("PRelu"), {x, F({3}, {0.5f, 0.1f, 2})}), {2, 3}, {-0.5f, 2, -6, 4, -0.5f, 6});
  check_floats(eval(node("PRelu"), {x, F({2, 1}, {0.5f, 0.1f})}), {2, 3}, {-0.5f, 2, -1.5f, 4, -0.5f, 6});
  eval_error(node("PRelu"), {F({3}, {1, 2, 3}), F({2, 3}, {1, 1, 1, 1, 1, 1})}, "does not broadcast to the input");
}

TEST_CASE("evaluate: incompatible broadcast names both shapes") {
  eval_error(node("Add"), {F({2, 3}, {1, 2, 3, 4, 5, 6}), F({4}, {1, 2, 3, 4})},
             "shapes [2, 3] and [4] cannot be broadcast together");
}

TEST_CASE("evaluate: the PyTorch chain w.abs().mean(3,True).mean(2,True).mean(1,True)") {
  std::vector<float> wv = {-2.7750000953674316f, -2.4049999713897705f, -2.0350000858306885f, -1.6649999618530273f,
                           -1.2950000762939453f, -0.925000011920929f,  -0.5550000071525574f, -0.1850000023841858f,
                           0.1850000023841858f,  0.5550000071525574f,  0.925000011920929f,   1.2950000762939453f,
                           1.6649999618530273f,  2.0350000858306885f,  2.4049999713897705f,  2.7750000953674316f,
                           3.1449999809265137f,  3.515000104904175f,   3.884999990463257f,   4.255000114440918f,
                           4.625f,               4.994999885559082f,   5.365000247955322f,   5.735000133514404f};
  Tensor t = unary("Abs", F({2, 3, 2, 2}, wv));
  const std::vector<std::vector<int64_t>> shapes = {{2, 3, 2, 1}, {2, 3, 1, 1}, {2, 1, 1, 1}};
  for (int64_t axis = 3; axis >= 1; --axis) {
    t = eval(node("ReduceMean"), {t, I1({axis})});
    CHECK(t.shape == shapes[size_t(3 - axis)]);
  }
  check_floats(t, {2, 1, 1, 1}, {1.2333333492279053f, 3.700000047683716f});
}

TEST_CASE("evaluate: every reduction over one axis, keepdims=0 (numpy)") {
  const Tensor r = F({3, 4}, {-5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6});
  const std::map<std::string, std::vector<float>> expect = {
      {"ReduceSum", {-14, 2, 18}},
      {"ReduceMean", {-3.5f, 0.5f, 4.5f}},
      {"ReduceMax", {-2, 2, 6}},
      {"ReduceMin", {-5, -1, 3}},
      {"ReduceProd", {120, 0, 360}},
      {"ReduceL1", {14, 4, 18}},
      {"ReduceL2", {7.348469257354736f, 2.4494898319244385f, 9.273618698120117f}},
      {"ReduceSumSquare", {54, 6, 86}}};
  for (const auto& op_values : expect) {
    const auto& op = op_values.first;  // no structured binding: INFO captures it in a lambda
    INFO(op);
    check_floats(eval(node(op, {{"keepdims", Attr::Int(0)}}), {r, I1({-1})}), {3}, op_values.second);
  }
  check_ints(eval(node("ReduceSum", {{"keepdims", Attr::Int(0)}}), {I({2, 2}, {1, 2, 3, 4}), I1({0})}),
             DType::kInt64, {2}, {4, 6});
  check_ints(eval(node("ReduceMean"), {I({2, 2}, {1, 2, 3, 6}), I1({1})}), DType::kInt64, {2, 1}, {1, 4});
}

TEST_CASE("evaluate: reductions with axes absent, empty, or several") {
  const Tensor r = F({3, 4}, {-5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6});
  check_floats(eval_p(node("ReduceMean"), {&r}), {1, 1}, {0.5f});
  check_floats(eval_p(node("ReduceMean", {{"keepdims", Attr::Int(0)}}), {&r}), {}, {0.5f});
  const Tensor none = I({0}, {});
  check_floats(eval_p(node("ReduceSum"), {&r, &none}), {1, 1}, {6});
  check_floats(eval_p(node("ReduceSum", {{"noop_with_empty_axes", Attr::Int(1)}}), {&r, &none}), {3, 4},
               {-5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6});
  const Tensor both = I1({1, 0});
  check_floats(eval_p(node("ReduceMax"), {&r, &both}), {1, 1}, {6});
  // Over an empty set: Sum 0, Max -inf (ONNX 18).
  const Tensor e = F({2, 0}, {}), ax1 = I1({1});
  check_floats(eval_p(node("ReduceSum"), {&e, &ax1}), {2, 1}, {0, 0});
  check_floats(eval_p(node("ReduceMax"), {&e, &ax1}), {2, 1}, {-INFINITY, -INFINITY});
}

TEST_CASE("evaluate: reduction axis errors") {
  const Tensor x = F({1, 2, 3, 4}, std::vector<float>(24, 1));
  const std::string m = eval_error(node("ReduceMean"), {x, I1({5})}, "axis 5 is out of range for a rank-4 input");
  CHECK(m == "node 't_ReduceMean' (ReduceMean): cannot evaluate at conversion time: axis 5 is out of range for a "
             "rank-4 input");
  eval_error(node("ReduceMean"), {x, I1({-5})}, "axis -5 is out of range");
  eval_error(node("ReduceSum"), {x, I1({1, -3})}, "listed twice");
  eval_error(node("ReduceSum"), {x, F({1}, {1})}, "axes (input 1) must be an int64 tensor");
}

TEST_CASE("evaluate: Softmax and LogSoftmax over one axis") {
  const Tensor s = F({2, 3}, {1, 2, 3, -1, 0, 5});
  check_floats(eval(node("Softmax", {{"axis", Attr::Int(1)}}), {s}), {2, 3},
               {0.09003057330846786f, 0.2447284758090973f, 0.6652409434318542f, 0.002456114860251546f,
                0.006676412653177977f, 0.9908674955368042f});
  check_floats(eval(node("LogSoftmax", {{"axis", Attr::Int(-1)}}), {s}), {2, 3},
               {-2.4076058864593506f, -1.4076060056686401f, -0.40760597586631775f, -6.009174346923828f,
                -5.009174346923828f, -0.009174484759569168f});
  // axis 0: each column sums to one
  const Tensor c = eval(node("Softmax", {{"axis", Attr::Int(0)}}), {F({2, 2}, {0, 1, 0, 3})});
  check_floats(c, {2, 2}, {0.5f, 0.11920292202211755f, 0.5f, 0.8807970779778823f});
  eval_error(node("Softmax", {{"axis", Attr::Int(2)}}), {s}, "axis 2 is out of range for a rank-2 input");
}

TEST_CASE("evaluate: BatchNormalization in inference form") {
  const Tensor x = F({1, 2, 2}, {1, 2, 3, 4});
  const Tensor scale = F({2}, {2, 0.5f}), bias = F({2}, {0.1f, -1}), mean = F({2}, {1.5f, 3}), var = F({2}, {0.25f, 4});
  check_floats(eval(node("BatchNormalization"), {x, scale, bias, mean, var}), {1, 2, 2},
               {-1.899959921836853f, 2.0999598503112793f, -1.0f, -0.7500002980232239f});
  eval_error(node("BatchNormalization"), {x, F({3}, {1, 1, 1}), bias, mean, var}, "scale (input 1) must have shape [2]");
  eval_error(node("BatchNormalization", {{"training_mode", Attr::Int(1)}}), {x, scale, bias, mean, var},
             "training_mode");
}

TEST_CASE("evaluate: MatMul with batches, broadcasting and 1-D operands") {
  const Tensor a = F({2, 3}, {-1, -0.5f, 0, 0.5f, 1, 1.5f}), b = F({3, 2}, {-2, -1, 0, 1, 2, 3});
  check_floats(eval(node("MatMul"), {a, b}), {2, 2}, {2, 0.5f, 2, 5});
  check_floats(eval(node("MatMul"), {F({2, 2, 3}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}), b}), {2, 2, 2},
               {4, 7, 4, 16, 4, 25, 4, 34});
  check_floats(eval(node("MatMul"), {F({1, 2, 3}, {0, 1, 2, 3, 4, 5}),
                                     F({2, 3, 2}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11})}),
               {2, 2, 2}, {10, 13, 28, 40, 28, 31, 100, 112});
  check_floats(eval(node("MatMul"), {F({3}, {1, 2, 3}), b}), {2}, {4, 10});
  check_floats(eval(node("MatMul"), {F({3}, {1, 2, 3}), F({3}, {4, 5, 6})}), {}, {32});
  check_floats(eval(node("MatMul"), {a, F({3}, {1, 0, -1})}), {2}, {-1, -1});
  check_ints(eval(node("MatMul"), {I({1, 2}, {2, 3}), I({2, 1}, {4, -5})}), DType::kInt64, {1, 1}, {-7});
  eval_error(node("MatMul"), {a, a}, "inner dimensions differ: [2, 3] times [2, 3]");
  eval_error(node("MatMul"), {F({2, 2, 3}, std::vector<float>(12)), F({3, 3, 2}, std::vector<float>(18))},
             "batch dimensions");
}

TEST_CASE("evaluate: Gemm with transA, transB, alpha, beta and a broadcast C") {
  const Tensor a = F({3, 2}, {0, 1, 2, 3, 4, 5}), b = F({2, 3}, {-1, 0, 1, 2, 3, 4}), c = F({2}, {1, -1});
  const Node n = node("Gemm", {{"transA", Attr::Int(1)}, {"transB", Attr::Int(1)}, {"alpha", Attr::Float(0.5f)},
                               {"beta", Attr::Float(2)}});
  check_floats(eval(n, {a, b, c}), {2, 2}, {4, 9, 4, 13.5f});
  // Without C, plain A * B.
  const Tensor ab = eval_p(node("Gemm"), {&b, &a});
  check_floats(ab, {2, 2}, {4, 4, 22, 31});
  eval_error(node("Gemm"), {a, a}, "inner dimensions differ");
  eval_error(n, {a, b, F({3}, {1, 2, 3})}, "C of shape [3] does not broadcast");
}

TEST_CASE("evaluate: Shape with start/end, and Size") {
  const Tensor x = F({2, 3, 4, 5}, std::vector<float>(120));
  check_ints(eval(node("Shape"), {x}), DType::kInt64, {4}, {2, 3, 4, 5});
  check_ints(eval(node("Shape", {{"start", Attr::Int(1)}, {"end", Attr::Int(-1)}}), {x}), DType::kInt64, {2}, {3, 4});
  check_ints(eval(node("Shape", {{"start", Attr::Int(-10)}, {"end", Attr::Int(2)}}), {x}), DType::kInt64, {2}, {2, 3});
  check_ints(eval(node("Shape", {{"start", Attr::Int(3)}, {"end", Attr::Int(1)}}), {x}), DType::kInt64, {0}, {});
  check_ints(eval(node("Size"), {x}), DType::kInt64, {}, {120});
}

TEST_CASE("evaluate: Gather with negative indices and bound checks") {
  std::vector<int64_t> d(24);
  for (int64_t k = 0; k < 24; ++k) d[size_t(k)] = k;
  const Tensor x = I({2, 3, 4}, d);
  check_ints(eval(node("Gather", {{"axis", Attr::Int(1)}}), {x, I1({-1, 0})}), DType::kInt64, {2, 2, 4},
             {8, 9, 10, 11, 0, 1, 2, 3, 20, 21, 22, 23, 12, 13, 14, 15});
  // A scalar index drops the axis (the Shape -> Gather(0) PyTorch emits for x.size(0)).
  check_ints(eval(node("Gather"), {I1({7, 8, 9}), I({}, {-3})}), DType::kInt64, {}, {7});
  check_floats(eval(node("Gather", {{"axis", Attr::Int(-1)}}), {F({2, 2}, {1, 2, 3, 4}), I({2, 1}, {1, 0})}),
               {2, 2, 1}, {2, 1, 4, 3});
  eval_error(node("Gather", {{"axis", Attr::Int(1)}}), {x, I1({3})}, "index 3 is out of range for axis 1 of size 3");
  eval_error(node("Gather", {{"axis", Attr::Int(1)}}), {x, I1({-4})}, "index -4 is out of range");
  eval_error(node("Gather", {{"axis", Attr::Int(3)}}), {x, I1({0})}, "axis 3 is out of range for a rank-3 input");
  eval_error(node("Gather"), {x, F({1}, {0})}, "indices (input 1) must be int64");
}

TEST_CASE("evaluate: Slice with negative steps, INT64_MAX/MIN ends and clamping") {
  std::vector<int64_t> d(24);
  for (int64_t k = 0; k < 24; ++k) d[size_t(k)] = k;
  const Tensor x = I({2, 3, 4}, d);
  // numpy x[:, ::-1, 3:0:-2]
  const Tensor s1 = I1({-1, 3}), e1 = I1({kI64Min, 0}), a1 = I1({1, 2}), st1 = I1({-1, -2});
  check_ints(eval_p(node("Slice"), {&x, &s1, &e1, &a1, &st1}), DType::kInt64, {2, 3, 2},
             {11, 9, 7, 5, 3, 1, 23, 21, 19, 17, 15, 13});
  // numpy x[1:, 0:INT64_MAX:2, -3:]
  const Tensor s2 = I1({1, 0, -3}), e2 = I1({kI64Max, kI64Max, kI64Max}), st2 = I1({1, 2, 1});
  check_ints(eval_p(node("Slice"), {&x, &s2, &e2, nullptr, &st2}), DType::kInt64, {1, 2, 3}, {13, 14, 15, 21, 22, 23});
  // axes absent, steps absent; out-of-range starts clamp to an empty slice
  const Tensor s3 = I1({5}), e3 = I1({10});
  check_ints(eval_p(node("Slice"), {&x, &s3, &e3}), DType::kInt64, {0, 3, 4}, {});
  // reversal of a whole axis with a negative axis: x[..., ::-1] on a 1-D float
  const Tensor v = F({4}, {1, 2, 3, 4}), s4 = I1({kI64Max}), e4 = I1({kI64Min}), a4 = I1({-1}), st4 = I1({-1});
  check_floats(eval_p(node("Slice"), {&v, &s4, &e4, &a4, &st4}), {4}, {4, 3, 2, 1});
  const Tensor zero = I1({0});
  eval_error_p(node("Slice"), {&v, &s4, &e4, &a4, &zero}, "steps[0] is 0");
  const Tensor a5 = I1({1});
  eval_error_p(node("Slice"), {&v, &s4, &e4, &a5}, "axis 1 is out of range for a rank-1 input");
  const Tensor two = I1({0, 1});
  eval_error_p(node("Slice"), {&v, &two, &e4}, "starts has 2 entries but ends has 1");
}

TEST_CASE("evaluate: Concat along an axis") {
  check_floats(eval(node("Concat", {{"axis", Attr::Int(-1)}}), {F({2, 1}, {1, 2}), F({2, 2}, {3, 4, 5, 6}), F({2, 0}, {})}),
               {2, 3}, {1, 3, 4, 2, 5, 6});
  check_ints(eval(node("Concat"), {I1({1, 2}), I1({3})}), DType::kInt64, {3}, {1, 2, 3});
  eval_error(node("Concat", {{"axis", Attr::Int(1)}}), {F({2, 1}, {1, 2}), F({3, 1}, {1, 2, 3})},
             "input 1 of shape [3, 1] does not match input 0 [2, 1] outside axis 1");
  eval_error(node("Concat"), {F({1}, {1}), I1({1})}, "must have the same type");
  eval_error(node("Concat", {{"axis", Attr::Int(1)}}), {F({1}, {1}), F({1}, {2})}, "axis 1 is out of range");
}

TEST_CASE("evaluate: Reshape with 0 (copy), -1 (infer) and allowzero") {
  const Tensor x = F({2, 3, 4}, std::vector<float>(24, 1.5f));
  Tensor r = eval(node("Reshape"), {x, I1({0, -1})});
  CHECK(r.shape == std::vector<int64_t>{2, 12});
  CHECK(r.f == x.f);
  CHECK(eval(node("Reshape"), {x, I1({-1, 0, 2})}).shape == std::vector<int64_t>{4, 3, 2});
  CHECK(eval(node("Reshape", {{"allowzero", Attr::Int(1)}}), {F({0, 3}, {}), I1({3, 0})}).shape ==
        std::vector<int64_t>{3, 0});
  eval_error(node("Reshape"), {x, I1({5, 5})}, "cannot reshape [2, 3, 4] (24 elements) to [5, 5]");
  eval_error(node("Reshape"), {x, I1({-1, 5})}, "cannot infer the -1");
  eval_error(node("Reshape"), {x, I1({-1, -1})}, "more than one -1");
  eval_error(node("Reshape"), {x, I1({0, 0, 0, 0})}, "dim 3 of the shape is 0");
  eval_error(node("Reshape", {{"allowzero", Attr::Int(1)}}), {F({0, 3}, {}), I1({0, -1})}, "both 0 and -1");
}

TEST_CASE("evaluate: Squeeze and Unsqueeze") {
  const Tensor x = F({1, 2, 1, 3}, {1, 2, 3, 4, 5, 6});
  CHECK(eval_p(node("Squeeze"), {&x}).shape == std::vector<int64_t>{2, 3});
  const Tensor ax = I1({-2});
  const Tensor sq = eval_p(node("Squeeze"), {&x, &ax});
  CHECK(sq.shape == std::vector<int64_t>{1, 2, 3});
  CHECK(sq.f == x.f);
  const Tensor bad = I1({1});
  eval_error_p(node("Squeeze"), {&x, &bad}, "cannot squeeze axis 1 of [1, 2, 1, 3]: its size is not 1");
  const Tensor u = eval(node("Unsqueeze"), {F({2, 3}, {1, 2, 3, 4, 5, 6}), I1({0, -1})});
  CHECK(u.shape == std::vector<int64_t>{1, 2, 3, 1});
  CHECK(u.f == std::vector<float>{1, 2, 3, 4, 5, 6});
  CHECK(eval(node("Unsqueeze"), {F({}, {7}), I1({0})}).shape == std::vector<int64_t>{1});
  CHECK(eval(node("Unsqueeze"), {F({2}, {1, 2}), I1({1, 0})}).shape == std::vector<int64_t>{1, 1, 2});
  eval_error(node("Unsqueeze"), {F({2}, {1, 2}), I1({0, -3})}, "listed twice");
  eval_error(node("Unsqueeze"), {F({2}, {1, 2}), I1({3})}, "axis 3 is out of range for the rank-2 output");
}

TEST_CASE("evaluate: Transpose, default and explicit perm") {
  std::vector<int64_t> d(24);
  for (int64_t k = 0; k < 24; ++k) d[size_t(k)] = k;
  const Tensor x = I({2, 3, 4}, d);
  check_ints(eval(node("Transpose", {{"perm", Attr::Ints({2, 0, 1})}}), {x}), DType::kInt64, {4, 2, 3},
             {0, 4, 8, 12, 16, 20, 1, 5, 9, 13, 17, 21, 2, 6, 10, 14, 18, 22, 3, 7, 11, 15, 19, 23});
  check_floats(eval(node("Transpose"), {F({2, 3}, {1, 2, 3, 4, 5, 6})}), {3, 2}, {1, 4, 2, 5, 3, 6});
  eval_error(node("Transpose", {{"perm", Attr::Ints({0, 0, 1})}}), {x}, "is not a permutation");
  eval_error(node("Transpose", {{"perm", Attr::Ints({1, 0})}}), {x}, "has 2 entries for a rank-3 input");
}

TEST_CASE("evaluate: Expand broadcasts both ways, Tile repeats") {
  check_floats(eval(node("Expand"), {F({3, 1}, {1, 2, 3}), I1({2, 1, 4})}), {2, 3, 4},
               {1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3});
  check_ints(eval(node("Expand"), {I({2}, {5, 6}), I1({1})}), DType::kInt64, {2}, {5, 6});  // shape smaller: kept
  eval_error(node("Expand"), {F({3}, {1, 2, 3}), I1({2})}, "cannot be broadcast together");
  check_ints(eval(node("Tile"), {I({2, 2}, {1, 2, 3, 4}), I1({2, 3})}), DType::kInt64, {4, 6},
             {1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4, 1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4});
  check_floats(eval(node("Tile"), {F({3}, {1, 2, 3}), I1({0})}), {0}, {});
  eval_error(node("Tile"), {F({3}, {1, 2, 3}), I1({2, 2})}, "repeats has 2 entries for a rank-1 input");
  eval_error(node("Tile"), {F({3}, {1, 2, 3}), I1({kI64Max})}, "more than 2^28 elements");
}

TEST_CASE("evaluate: Flatten") {
  const Tensor x = F({2, 3, 4}, std::vector<float>(24, 2));
  CHECK(eval(node("Flatten"), {x}).shape == std::vector<int64_t>{2, 12});
  CHECK(eval(node("Flatten", {{"axis", Attr::Int(0)}}), {x}).shape == std::vector<int64_t>{1, 24});
  CHECK(eval(node("Flatten", {{"axis", Attr::Int(-1)}}), {x}).shape == std::vector<int64_t>{6, 4});
  CHECK(eval(node("Flatten", {{"axis", Attr::Int(3)}}), {x}).shape == std::vector<int64_t>{24, 1});
  eval_error(node("Flatten", {{"axis", Attr::Int(4)}}), {x}, "axis 4 is out of range");
}

// ReCU's quantiles: torch.sort of the weights exports as TopK (largest, sorted), then a Gather.
TEST_CASE("evaluate: TopK, largest and smallest, ties in index order, along any axis") {
  const Tensor x = F({2, 4}, {3, 1, 3, 2, -1, 5, 0, 5}), k2 = I1({2}), k4 = I1({4});
  const std::vector<Tensor> top = eval_all_p(node("TopK", {}, 2), {&x, &k2});
  check_floats(top[0], {2, 2}, {3, 3, 5, 5});
  check_ints(top[1], DType::kInt64, {2, 2}, {0, 2, 1, 3});  // equal values: the lower index first
  const std::vector<Tensor> low = eval_all_p(node("TopK", {{"largest", Attr::Int(0)}}, 2), {&x, &k4});
  check_floats(low[0], {2, 4}, {1, 2, 3, 3, -1, 0, 5, 5});
  check_ints(low[1], DType::kInt64, {2, 4}, {1, 3, 0, 2, 0, 2, 1, 3});
  const Tensor k1 = I1({1});
  const std::vector<Tensor> col = eval_all_p(node("TopK", {{"axis", Attr::Int(0)}}, 2), {&x, &k1});
  check_floats(col[0], {1, 4}, {3, 5, 3, 5});
  check_ints(col[1], DType::kInt64, {1, 4}, {0, 1, 0, 1});
  const Tensor k5 = I1({5});
  eval_error_p(node("TopK", {}, 2), {&x, &k5}, "K must be one value in 0..4");
}

TEST_CASE("evaluate: Split by sizes or into equal parts") {
  const Tensor x = F({2, 5}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}), sizes = I1({2, 3});
  const std::vector<Tensor> o = eval_all_p(node("Split", {{"axis", Attr::Int(1)}}, 2), {&x, &sizes});
  check_floats(o[0], {2, 2}, {0, 1, 5, 6});
  check_floats(o[1], {2, 3}, {2, 3, 4, 7, 8, 9});
  const std::vector<Tensor> e = eval_all(node("Split", {}, 2), {x});
  check_floats(e[0], {1, 5}, {0, 1, 2, 3, 4});
  check_floats(e[1], {1, 5}, {5, 6, 7, 8, 9});
  eval_error(node("Split", {{"axis", Attr::Int(1)}}, 2), {x}, "does not split into 2 equal parts");
  const Tensor wrong = I1({2, 2});
  eval_error_p(node("Split", {{"axis", Attr::Int(1)}}, 2), {&x, &wrong}, "sums to 4");
}

TEST_CASE("evaluate: ConstantOfShape and its element limit") {
  check_floats(eval(node("ConstantOfShape"), {I1({2, 3})}), {2, 3}, {0, 0, 0, 0, 0, 0});
  Attr v;
  v.kind = Attr::Kind::kTensor;
  v.t = I({1}, {7});
  check_ints(eval(node("ConstantOfShape", {{"value", v}}), {I1({3})}), DType::kInt64, {3}, {7, 7, 7});
  v.t = F({1}, {0.5f});
  check_floats(eval(node("ConstantOfShape", {{"value", v}}), {I({0}, {})}), {}, {0.5f});
  eval_error(node("ConstantOfShape"), {I1({65536, 65536})}, "more than 2^28 elements");
  eval_error(node("ConstantOfShape"), {I1({kI64Max, kI64Max})}, "more than 2^28 elements");
  eval_error(node("ConstantOfShape"), {I1({2, -1})}, "negative dim");
  v.t = F({2}, {1, 2});
  eval_error(node("ConstantOfShape", {{"value", v}}), {I1({3})}, "one-element tensor");
}

TEST_CASE("evaluate: Range") {
  check_ints(eval(node("Range"), {I({}, {10}), I({}, {1}), I({}, {-3})}), DType::kInt64, {3}, {10, 7, 4});
  check_ints(eval(node("Range"), {I({}, {0}), I({}, {5}), I({}, {1})}), DType::kInt64, {5}, {0, 1, 2, 3, 4});
  check_ints(eval(node("Range"), {I({}, {5}), I({}, {0}), I({}, {1})}), DType::kInt64, {0}, {});
  check_floats(eval(node("Range"), {F({}, {1}), F({}, {2}), F({}, {0.3f})}), {4}, {1, 1.3f, 1.6f, 1.9f});
  eval_error(node("Range"), {I({}, {0}), I({}, {5}), I({}, {0})}, "nonzero delta");
  eval_error(node("Range"), {I({}, {kI64Min}), I({}, {kI64Max}), I({}, {1})}, "more than 2^28 elements");
  eval_error(node("Range"), {I({}, {0}), F({}, {5}), I({}, {1})}, "limit (input 1) must be int64");
}

TEST_CASE("evaluate: Cast truncates float to int, rounds to float16, wraps narrow ints") {
  const Tensor x = F({6}, {-2.7f, -0.5f, 0, 0.9f, 2.7f, 1e9f});
  check_ints(eval(node("Cast", {{"to", Attr::Int(7)}}), {x}), DType::kInt64, {6}, {-2, 0, 0, 0, 2, 1000000000});
  check_ints(eval(node("Cast", {{"to", Attr::Int(9)}}), {x}), DType::kBool, {6}, {1, 1, 0, 1, 1, 1});
  check_floats(eval(node("Cast", {{"to", Attr::Int(1)}}), {I({2}, {-3, 5})}), {2}, {-3, 5});
  check_floats(eval(node("Cast", {{"to", Attr::Int(1)}}), {B({2}, {1, 0})}), {2}, {1, 0});
  // float16: values from numpy.float16
  check_floats(eval(node("Cast", {{"to", Attr::Int(10)}}), {F({5}, {0.1f, 65519, 1e-7f, 2049, 2051})}), {5},
               {0.0999755859375f, 65504, 1.1920928955078125e-07f, 2048, 2052}, 0);
  check_floats(eval(node("Cast", {{"to", Attr::Int(10)}}), {F({1}, {70000})}), {1}, {INFINITY});
  check_floats(eval(node("Cast", {{"to", Attr::Int(16)}}), {F({2}, {1.00390625f, 1.01171875f})}), {2}, {1, 1.015625f}, 0);
  check_ints(eval(node("Cast", {{"to", Attr::Int(3)}}), {I({3}, {200, -129, 127})}), DType::kInt64, {3}, {-56, 127, 127});
  check_ints(eval(node("Cast", {{"to", Attr::Int(2)}}), {I({2}, {-1, 256})}), DType::kInt64, {2}, {255, 0});
  eval_error(node("Cast", {{"to", Attr::Int(6)}}), {F({1}, {3e9f})}, "does not fit the target integer type 6");
  eval_error(node("Cast", {{"to", Attr::Int(7)}}), {F({1}, {NAN})}, "does not fit");
  eval_error(node("Cast", {{"to", Attr::Int(8)}}), {x}, "cannot cast to ONNX data type 8");
  check_ints(eval(node("CastLike"), {x, I({}, {0})}), DType::kInt64, {6}, {-2, 0, 0, 0, 2, 1000000000});
  check_floats(eval(node("CastLike"), {I({1}, {4}), F({}, {0})}), {1}, {4});
  check_ints(eval(node("CastLike"), {I({2}, {4, 0}), B({}, {0})}), DType::kBool, {2}, {1, 0});
}

TEST_CASE("evaluate: Identity and Dropout (inference)") {
  const Tensor x = F({2}, {1.5f, -2});
  check_floats(eval(node("Identity"), {x}), {2}, {1.5f, -2});
  check_ints(eval(node("Identity"), {I({1}, {3})}), DType::kInt64, {1}, {3});
  const std::vector<Tensor> o = eval_all(node("Dropout", {}, 2), {x});
  check_floats(o[0], {2}, {1.5f, -2});
  check_ints(o[1], DType::kBool, {2}, {1, 1});
  check_floats(eval(node("Dropout"), {x}), {2}, {1.5f, -2});
  const Tensor ratio = F({}, {0.3f}), off = B({}, {0}), on = B({}, {1});
  check_floats(eval_p(node("Dropout"), {&x, &ratio, &off}), {2}, {1.5f, -2});
  eval_error_p(node("Dropout"), {&x, &ratio, &on}, "training_mode is true");
}

TEST_CASE("evaluate: malformed inputs are errors, not crashes") {
  Tensor broken = F({2, 2}, {1, 2, 3});  // data does not match the shape
  eval_error(node("Relu"), {broken}, "input 0 holds 3 elements, its shape [2, 2] implies 4");
  eval_error(node("Not"), {B({1}, {2})}, "input 0 is bool but holds 2");
  const Tensor x = F({1}, {1});
  eval_error_p(node("Add"), {&x, nullptr}, "input 1 is required but omitted");
  eval_error_p(node("Add"), {&x}, "has 1 inputs, expected 2");
  eval_error_p(node("Sum"), {&x, nullptr}, "input 1 is required");
  Tensor bits = x;
  bits.dtype = DType::kBits;
  eval_error(node("Relu"), {bits}, "binary (bits) value");
  std::vector<Tensor> out;
  Node n = node("Relu");
  n.inputs = {0, 1};  // two input ids, one tensor
  const Status st = evaluate_node(n, {&x}, &out);
  CHECK(!st.ok());
  CHECK(st.message().find("given 1 input tensors for 2 inputs") != std::string::npos);
}
