// Convolution, pooling and the matrix products (Gemm, MatMul): emitted as onebit float Conv2D / pools /
// FullyConnected; rules turn the binarized ones into onebit.BinaryConv2D / BinaryFullyConnected.
#include <cmath>

#include "evaluator/eval_util.h"
#include "ir/shape_inference.h"
#include "ops/family.h"

namespace onebit::converter::opdefs {
namespace {

using namespace eval;

Status infer_conv(const Graph& g, const Node& n, InferredShapes* out) { return infer_window(g, n, true, out); }
Status infer_pool(const Graph& g, const Node& n, InferredShapes* out) { return infer_window(g, n, false, out); }

Status infer_global_pool(const Graph& g, const Node& n, InferredShapes* out) {
  std::vector<int64_t> s = g.value(n.in(0)).shape;
  for (size_t d = 2; d < s.size(); ++d) s[d] = 1;
  out->shapes.assign(1, s);
  return Status::Ok();
}

Status infer_gemm(const Graph& g, const Node& n, InferredShapes* out) {
  const std::vector<int64_t>& x = g.value(n.in(0)).shape;
  const std::vector<int64_t>& b = g.value(n.in(1)).shape;
  if (x.size() != 2 || b.size() != 2) return shape_error(n, "Gemm needs rank-2 A and B, got " + shape_str(x) + " and " + shape_str(b));
  const int64_t m = n.i("transA") ? x[1] : x[0], ka = n.i("transA") ? x[0] : x[1];
  const int64_t kb = n.i("transB") ? b[1] : b[0], nn = n.i("transB") ? b[0] : b[1];
  if (ka != kb) return shape_error(n, "A " + shape_str(x) + " and B " + shape_str(b) + " disagree on K");
  out->shapes.assign(1, {m, nn});
  return Status::Ok();
}

Status infer_matmul(const Graph& g, const Node& n, InferredShapes* out) {
  std::vector<int64_t> a = g.value(n.in(0)).shape, b = g.value(n.in(1)).shape;
  if (a.empty() || b.empty()) return shape_error(n, "MatMul of a scalar");
  const bool a1 = a.size() == 1, b1 = b.size() == 1;
  if (a1) a.insert(a.begin(), 1);
  if (b1) b.push_back(1);
  if (a.back() != b[b.size() - 2])
    return shape_error(n, "operands " + shape_str(g.value(n.in(0)).shape) + " and " + shape_str(g.value(n.in(1)).shape) +
                              " disagree on K");
  std::vector<int64_t> batch;
  if (!broadcast_shapes({a.begin(), a.end() - 2}, {b.begin(), b.end() - 2}, &batch))
    return shape_error(n, "batch dims do not broadcast");
  if (!a1) batch.push_back(a[a.size() - 2]);
  if (!b1) batch.push_back(b.back());
  out->shapes.assign(1, batch);
  return Status::Ok();
}

ValueFacts layer_zeros(const Graph& g, const Node& n, const std::vector<ValueFacts>& in) {
  return linear_zero_facts(g, n, in, 2);
}

constexpr EmitFn kConv = emit_by<&Emitter::emit_conv>;
constexpr EmitFn kPool = emit_by<&Emitter::emit_pool>;
constexpr EmitFn kFullyConnected = emit_by<&Emitter::emit_fully_connected>;

// What rules and convert.cc may set on a float layer: 1-bit weights (rules/lowbit_weights.cc), a fused
// output clamp (rules/float_fusion.cc), int8 or float16 weight storage and the int8 activation grids.
std::vector<AttrSpec> layer(std::vector<AttrSpec> attrs) {
  for (AttrSpec a : {I("binary_weights", 0), F("clamp_min", -INFINITY), F("clamp_max", INFINITY), I("int8", 0),
                     F("int8_input_scale", 1.0f), I("int8_input_zero_point", 0), F("int8_output_scale", 1.0f),
                     I("int8_output_zero_point", 0), I("float16_weights", 0)})
    attrs.push_back(Note(a));
  return attrs;
}

}  // namespace

std::vector<OpDef> conv_pool_ops() {
  const std::vector<AttrSpec> none;
  const AttrSpec auto_pad = S("auto_pad", "NOTSET"), pads = Axes("pads", 0), strides = Axes("strides", 1),
                 dilations = Axes("dilations", 1), ceil_mode = Ranged(I("ceil_mode", 0), 0, 1);
  return {
      // op               arity          attributes                                       shape              evaluate     zero facts   emit
      {"Conv",            In(2, 3),      layer({auto_pad, Axes("kernel_shape", 1), pads, strides, dilations,
                                                Ranged(I("group", 1), 1, std::numeric_limits<int32_t>::max())}),
                                                                                          infer_conv,        nullptr,     layer_zeros, kConv},
      {"Gemm",            In(2, 3),      layer({F("alpha", 1.0f), F("beta", 1.0f), I("transA", 0), I("transB", 0)}),
                                                                                          infer_gemm,        eval_gemm,   layer_zeros, kFullyConnected},
      {"MatMul",          In(2),         layer({}),                                       infer_matmul,      eval_matmul, layer_zeros, kFullyConnected},
      {"MaxPool",         {1, 1, 1, 2},  {auto_pad, Req(Axes("kernel_shape", 1)), pads, strides, dilations, ceil_mode,
                                          Ranged(I("storage_order", 0), 0, 1)},           infer_pool,        nullptr,     nullptr,     kPool},
      {"AveragePool",     In(1),         {auto_pad, Req(Axes("kernel_shape", 1)), pads, strides, dilations, ceil_mode,
                                          Ranged(I("count_include_pad", 0), 0, 1)},       infer_pool,        nullptr,     nullptr,     kPool},
      {"GlobalAveragePool", In(1),       none,                                            infer_global_pool, nullptr,     nullptr,     kPool},
      {"GlobalMaxPool",   In(1),         none,                                            infer_global_pool},
  };
}

}  // namespace onebit::converter::opdefs
