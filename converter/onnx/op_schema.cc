#include "onnx/op_schema.h"

#include <limits>
#include <map>

namespace onebit::converter {
namespace {

using K = Attr::Kind;
AttrSpec I(const char* n, int64_t d) { return {n, K::kInt, false, Attr::Int(d)}; }
AttrSpec F(const char* n, float d) { return {n, K::kFloat, false, Attr::Float(d)}; }
AttrSpec Is(const char* n) { return {n, K::kInts, false, Attr::Ints({})}; }
AttrSpec S(const char* n, const char* d) { return {n, K::kString, false, Attr::String(d)}; }
AttrSpec Req(AttrSpec a) { a.required = true; return a; }
constexpr int64_t kDimMax = std::numeric_limits<int32_t>::max();
// A per-spatial-axis list: when given, one value per axis, each in [lo, 2^31 - 1].
AttrSpec Axes(const char* n, int64_t lo) {
  AttrSpec a = Is(n);
  a.min = lo;
  a.max = kDimMax;
  a.nonempty = true;
  return a;
}
AttrSpec Ranged(AttrSpec a, int64_t lo, int64_t hi) { a.min = lo; a.max = hi; return a; }
AttrSpec T(const char* n, Tensor d) {
  AttrSpec a{n, K::kTensor, false, Attr()};
  a.default_value.kind = K::kTensor;
  a.default_value.t = std::move(d);
  return a;
}

constexpr int kMany = std::numeric_limits<int>::max();

std::vector<OpSchema> make_table() {
  const std::vector<AttrSpec> none;
  std::vector<OpSchema> t = {
      // Activation ops (emitted as onebit operators) that may also fold.
      {"Conv", 2, 3, 1, 1, {S("auto_pad", "NOTSET"), Axes("kernel_shape", 1), Axes("pads", 0), Axes("strides", 1), Axes("dilations", 1), Ranged(I("group", 1), 1, kDimMax)}},
      {"Gemm", 2, 3, 1, 1, {F("alpha", 1.0f), F("beta", 1.0f), I("transA", 0), I("transB", 0)}},
      {"MatMul", 2, 2, 1, 1, none},
      {"MaxPool", 1, 1, 1, 2, {S("auto_pad", "NOTSET"), Req(Axes("kernel_shape", 1)), Axes("pads", 0), Axes("strides", 1), Axes("dilations", 1), Ranged(I("ceil_mode", 0), 0, 1), Ranged(I("storage_order", 0), 0, 1)}},
      {"AveragePool", 1, 1, 1, 1, {S("auto_pad", "NOTSET"), Req(Axes("kernel_shape", 1)), Axes("pads", 0), Axes("strides", 1), Axes("dilations", 1), Ranged(I("ceil_mode", 0), 0, 1), Ranged(I("count_include_pad", 0), 0, 1)}},
      {"GlobalAveragePool", 1, 1, 1, 1, none},
      {"GlobalMaxPool", 1, 1, 1, 1, none},
      {"BatchNormalization", 5, 5, 1, 3, {F("epsilon", 1e-5f), F("momentum", 0.9f), I("training_mode", 0), I("spatial", 1)}},
      {"Relu", 1, 1, 1, 1, none},
      {"PRelu", 2, 2, 1, 1, none},
      {"LeakyRelu", 1, 1, 1, 1, {F("alpha", 0.01f)}},
      {"Clip", 1, 3, 1, 1, none},
      {"Sign", 1, 1, 1, 1, none},
      // Fake quantization (torch.ao exports): recognized by rules/lowbit_activation.cc, never evaluated.
      {"QuantizeLinear", 2, 3, 1, 1, {I("axis", 1)}},
      {"DequantizeLinear", 2, 3, 1, 1, {I("axis", 1)}},
      {"Softmax", 1, 1, 1, 1, {I("axis", -1)}},     // default is opset-dependent: the importer sets it
      {"LogSoftmax", 1, 1, 1, 1, {I("axis", -1)}},  // likewise
      {"Flatten", 1, 1, 1, 1, {I("axis", 1)}},
      {"Reshape", 2, 2, 1, 1, {I("allowzero", 0)}},
      {"Squeeze", 1, 2, 1, 1, none},
      {"Unsqueeze", 2, 2, 1, 1, none},
      {"Concat", 1, kMany, 1, 1, {Req(I("axis", 0))}},
      {"Pad", 2, 4, 1, 1, {S("mode", "constant")}},
      {"Slice", 3, 5, 1, 1, none},
      {"Transpose", 1, 1, 1, 1, {Is("perm")}},
      {"Identity", 1, 1, 1, 1, none},
      {"Dropout", 1, 3, 1, 2, {I("seed", 0), F("ratio", 0.5f)}},
      {"Add", 2, 2, 1, 1, none},
      {"Sub", 2, 2, 1, 1, none},
      {"Mul", 2, 2, 1, 1, none},
      {"Div", 2, 2, 1, 1, none},
      // Elementwise math (folded; not emitted).
      {"Abs", 1, 1, 1, 1, none},
      {"Neg", 1, 1, 1, 1, none},
      {"Sqrt", 1, 1, 1, 1, none},
      {"Exp", 1, 1, 1, 1, none},
      {"Log", 1, 1, 1, 1, none},
      {"Pow", 2, 2, 1, 1, none},
      {"Round", 1, 1, 1, 1, none},
      {"Floor", 1, 1, 1, 1, none},
      {"Ceil", 1, 1, 1, 1, none},
      {"Reciprocal", 1, 1, 1, 1, none},
      {"Tanh", 1, 1, 1, 1, none},
      {"Sigmoid", 1, 1, 1, 1, none},
      {"HardSigmoid", 1, 1, 1, 1, {F("alpha", 0.2f), F("beta", 0.5f)}},
      {"Erf", 1, 1, 1, 1, none},
      {"Min", 1, kMany, 1, 1, none},
      {"Max", 1, kMany, 1, 1, none},
      {"Sum", 1, kMany, 1, 1, none},
      {"Mean", 1, kMany, 1, 1, none},
      {"Mod", 2, 2, 1, 1, {I("fmod", 0)}},
      {"Where", 3, 3, 1, 1, none},
      {"Equal", 2, 2, 1, 1, none},
      {"Less", 2, 2, 1, 1, none},
      {"LessOrEqual", 2, 2, 1, 1, none},
      {"Greater", 2, 2, 1, 1, none},
      {"GreaterOrEqual", 2, 2, 1, 1, none},
      {"And", 2, 2, 1, 1, none},
      {"Or", 2, 2, 1, 1, none},
      {"Xor", 2, 2, 1, 1, none},
      {"Not", 1, 1, 1, 1, none},
      // Reductions: axes are input 1 in canonical form (empty/absent = all axes unless noop_with_empty_axes).
      {"ReduceMean", 1, 2, 1, 1, {I("keepdims", 1), I("noop_with_empty_axes", 0)}},
      {"ReduceSum", 1, 2, 1, 1, {I("keepdims", 1), I("noop_with_empty_axes", 0)}},
      {"ReduceMax", 1, 2, 1, 1, {I("keepdims", 1), I("noop_with_empty_axes", 0)}},
      {"ReduceMin", 1, 2, 1, 1, {I("keepdims", 1), I("noop_with_empty_axes", 0)}},
      {"ReduceProd", 1, 2, 1, 1, {I("keepdims", 1), I("noop_with_empty_axes", 0)}},
      {"ReduceL1", 1, 2, 1, 1, {I("keepdims", 1), I("noop_with_empty_axes", 0)}},
      {"ReduceL2", 1, 2, 1, 1, {I("keepdims", 1), I("noop_with_empty_axes", 0)}},
      {"ReduceSumSquare", 1, 2, 1, 1, {I("keepdims", 1), I("noop_with_empty_axes", 0)}},
      // Shape ops.
      {"Shape", 1, 1, 1, 1, {I("start", 0), I("end", std::numeric_limits<int64_t>::max())}},
      {"Size", 1, 1, 1, 1, none},
      {"Gather", 2, 2, 1, 1, {I("axis", 0)}},
      {"Expand", 2, 2, 1, 1, none},
      {"Tile", 2, 2, 1, 1, none},
      {"Split", 1, 2, 1, kMany, {I("axis", 0)}},
      {"ConstantOfShape", 1, 1, 1, 1, {T("value", Tensor::floats({1}, {0.0f}))}},
      {"Range", 3, 3, 1, 1, none},
      {"Cast", 1, 1, 1, 1, {Req(I("to", 1))}},
      {"CastLike", 2, 2, 1, 1, none},
  };
  return t;
}

}  // namespace

const OpSchema* find_schema(const std::string& op) {
  static const std::map<std::string, OpSchema> table = [] {
    std::map<std::string, OpSchema> m;
    for (OpSchema& s : make_table()) m.emplace(s.op, s);
    return m;
  }();
  auto it = table.find(op);
  return it == table.end() ? nullptr : &it->second;
}

}  // namespace onebit::converter
