// Internal to converter/ops: what the family files (ops/<family>.cc) share - the attribute-spec shorthands
// their rows use, the shape-function and zero-fact helpers more than one family needs, and the list each
// family hands to the registry (ops/registry.cc).
#pragma once

#include <string>
#include <vector>

#include "emit/emitter.h"
#include "onebit/core/shape_math.h"
#include "ops/op_def.h"
#include "rules/zero_analysis.h"

namespace onebit::converter::opdefs {

// Attribute specs: I(nt), F(loat), Is (int list), S(tring), T(ensor) with their defaults.
AttrSpec I(const char* name, int64_t default_value);
AttrSpec F(const char* name, float default_value);
AttrSpec Is(const char* name);
AttrSpec S(const char* name, const char* default_value);
AttrSpec T(const char* name, Tensor default_value);
AttrSpec Req(AttrSpec a);
/// Value range of a kInt / kInts attribute, checked on import.
AttrSpec Ranged(AttrSpec a, int64_t lo, int64_t hi);
/// A per-spatial-axis list: when given, one value per axis, each in [lo, 2^31 - 1].
AttrSpec Axes(const char* name, int64_t lo);
/// An annotation a rule or convert.cc sets (never read from a file; `default_value` when absent).
AttrSpec Note(AttrSpec a);
/// Arity shorthands.
constexpr Arity In(int n) { return {n, n, 1, 1}; }
constexpr Arity In(int lo, int hi) { return {lo, hi, 1, 1}; }

// Families (one file each).
std::vector<OpDef> elementwise_ops();    // ops/elementwise.cc
std::vector<OpDef> shape_ops();          // ops/shape.cc
std::vector<OpDef> conv_pool_ops();      // ops/conv_pool.cc: Conv, pools, Gemm, MatMul
std::vector<OpDef> reduce_ops();         // ops/reduce.cc: Reduce*, Softmax, BatchNormalization
std::vector<OpDef> quantize_ops();       // ops/quantize.cc: ONNX and onebit (de)quantizers
std::vector<OpDef> binary_layer_ops();   // ops/binary_layers.cc: onebit.Binary*

// Shape-function helpers.
/// "node 'x' (Op): <why>".
Status shape_error(const Node& n, const std::string& why);
/// `a` in [0, rank) for a in [-rank, rank); other values come back unchanged (callers range-check).
int64_t norm_axis(int64_t a, int64_t rank);
/// Every output has input 0's shape (dtype: input 0's).
Status infer_same_shape(const Graph& g, const Node& n, InferredShapes* out);
/// Every output has input 0's shape and dtype `kOut`.
template <DType kOut>
Status infer_same_shape_as(const Graph& g, const Node& n, InferredShapes* out) {
  out->dtype = kOut;
  return infer_same_shape(g, n, out);
}
/// Fails unless the input `x` of window op `n` has spatial axes (rank >= 3).
Status window_input(const Node& n, const std::vector<int64_t>& x);
/// Output channels of a conv (input 1 holds the kernel [O, I / group, k...]), after checking the ranks of input
/// and weights and that `group` fits the channel counts.
Status conv_out_channels(const Graph& g, const Node& n, int64_t group, int64_t* out_c);
/// Shape of the ONNX window ops (Conv, MaxPool, AveragePool): `weights` for a conv (input 1 holds the kernel).
Status infer_window(const Graph& g, const Node& n, bool weights, InferredShapes* out);
/// [N, out_c, H', W'] of a 2-D window with explicit geometry `p` (the builder's Conv2DParams or Pool2DParams:
/// kernel, stride, pads) over NCHW input `x`.
template <class Params>
std::vector<int64_t> window_2d_shape(const std::vector<int64_t>& x, int64_t out_c, const Params& p, int dilation_h,
                                     int dilation_w) {
  return {x[0], out_c, core::window_output_size(x[2], p.pad_top, p.pad_bottom, p.kernel_h, p.stride_h, dilation_h),
          core::window_output_size(x[3], p.pad_left, p.pad_right, p.kernel_w, p.stride_w, dilation_w)};
}

// Zero-fact helpers.
/// Facts of a node that introduces zeros (when `zeros`), naming it as their origin.
ValueFacts zeros_from(const Node& n, bool zeros);
/// Never exactly 0 for finite inputs (Sigmoid, Exp, Softmax, ...).
ValueFacts zero_free(const Graph& g, const Node& n, const std::vector<ValueFacts>& in);
/// A conv / FC / matmul: zeros come through (or arise from a discrete input) unless a constant bias input
/// (slot `bias_slot`) is nonzero everywhere.
ValueFacts linear_zero_facts(const Graph& g, const Node& n, const std::vector<ValueFacts>& in, size_t bias_slot);

/// An Emitter member as a table's EmitFn.
template <Status (Emitter::*M)(const Node&)>
Status emit_by(Emitter& e, const Node& n) {
  return (e.*M)(n);
}
// The float emitters more than one family uses.
inline constexpr EmitFn kEmitActivation = emit_by<&Emitter::emit_activation>;  // Relu, PRelu, Clip, BN, ...
inline constexpr EmitFn kEmitMisc = emit_by<&Emitter::emit_misc>;              // Softmax, Concat, Pad

}  // namespace onebit::converter::opdefs
