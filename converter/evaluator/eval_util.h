// Helpers shared by the evaluator's op families (evaluate.cc dispatches to them): error messages, output
// allocation with the element limit, broadcasting and strided iteration, axis and index-list checks.
// Internal to converter/eval.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "ir/tensor.h"
#include "onebit/status.h"

namespace onebit::converter::eval {

/// Largest element count of one output (and of any temporary the evaluator allocates).
constexpr int64_t kMaxElements = int64_t(1) << 28;
/// Largest number of multiply-adds one MatMul/Gemm may cost (about ten seconds at worst).
constexpr int64_t kMaxWork = int64_t(1) << 32;

using Inputs = std::vector<const Tensor*>;
using Outputs = std::vector<Tensor>;

/// "node 'x' (Op): cannot evaluate at conversion time: <what>".
Status fail(const Node& n, const std::string& what);

template <class T> std::vector<T>& data(Tensor& t);
template <> inline std::vector<float>& data<float>(Tensor& t) { return t.f; }
template <> inline std::vector<int64_t>& data<int64_t>(Tensor& t) { return t.i; }
template <class T> const std::vector<T>& data(const Tensor& t);
template <> inline const std::vector<float>& data<float>(const Tensor& t) { return t.f; }
template <> inline const std::vector<int64_t>& data<int64_t>(const Tensor& t) { return t.i; }
/// Runs go(float()) or go(int64_t()), the storage type of `t`: one generic body for both. Returns Ok.
template <class F>
Status by_storage(const Tensor& t, F&& go) {
  if (t.is_float())
    go(float());
  else
    go(int64_t());
  return Status::Ok();
}

/// An error when a dim of an output shape is negative or the output would hold more than kMaxElements elements.
Status check_output_shape(const Node& n, const std::vector<int64_t>& shape);
/// A tensor of `dtype` and `shape` with zeroed data, after check_output_shape.
Status make_output(const Node& n, DType dtype, const std::vector<int64_t>& shape, Tensor* t);

/// Multidirectional (numpy) broadcast of `shapes` (ir/shape_inference.h broadcast_shapes, the converter's one
/// copy, pairwise); an error names the incompatible shapes.
Status broadcast_shapes(const Node& n, const std::vector<std::vector<int64_t>>& shapes,
                        std::vector<int64_t>* out);

/// Row-major element strides of `shape`.
std::vector<int64_t> strides(const std::vector<int64_t>& shape);
/// Strides of `in` read as broadcast to `out` (right-aligned, 0 on broadcast dims); size out.size().
/// `in` must be broadcastable to `out`.
std::vector<int64_t> broadcast_strides(const std::vector<int64_t>& in, const std::vector<int64_t>& out);

/// Calls f(k, off) for every element k of `shape` in row-major order, where off[j] is
/// base[j] + sum_d index[d] * st[j][d]: the element offset in input j read with strides st[j].
template <class F>
void for_each_strided(const std::vector<int64_t>& shape, const std::vector<std::vector<int64_t>>& st,
                      const std::vector<int64_t>& base, F&& f) {
  const size_t r = shape.size(), m = st.size();
  const int64_t total = shape_elements(shape);
  std::vector<int64_t> idx(r, 0), off = base;
  for (int64_t k = 0; k < total; ++k) {
    f(k, off.data());
    for (size_t d = r; d-- > 0;) {
      if (++idx[d] < shape[d]) {
        for (size_t j = 0; j < m; ++j) off[j] += st[j][d];
        break;
      }
      for (size_t j = 0; j < m; ++j) off[j] -= st[j][d] * (shape[d] - 1);
      idx[d] = 0;
    }
  }
}

/// Fills y (already allocated with its shape and x's dtype) from x read with strides `st` from offset `base`.
void copy_strided(const Tensor& x, const std::vector<int64_t>& st, int64_t base, Tensor* y);

/// Accepts axis in [-rank, rank - 1] and returns it in [0, rank); else an error such as
/// "axis 5 is out of range for a rank-4 input". `what` names the axis in the message.
Status normalize_axis(const Node& n, int64_t axis, int64_t rank, int64_t* out, const std::string& what = "axis");

/// Reads an int64 tensor of rank 0 or 1 as a list (`what` names it in errors: "axes (input 1)").
Status read_int_list(const Node& n, const Tensor& t, const std::string& what, std::vector<int64_t>* out);
/// Reads a one-element tensor of rank 0 or 1 (a "scalar" input such as Clip's min) of dtype `dtype`.
Status check_scalar(const Node& n, const Tensor& t, DType dtype, const std::string& what);

/// Range's element count, max(ceil((limit - start) / delta), 0) as ONNX defines it, for scalar inputs of one
/// numeric dtype (checked); an error for a zero or non-finite delta or more than kMaxElements elements.
Status range_count(const Node& n, const Tensor& start, const Tensor& limit, const Tensor& delta, int64_t* count);

/// Error unless t's dtype is kFloat (or, with allow_int, kInt64).
Status need_numeric(const Node& n, const Tensor& t, bool allow_int, const std::string& what);
/// Error unless a and b have the same dtype (ONNX type constraints tie them).
Status need_same_dtype(const Node& n, const Tensor& a, const Tensor& b, const std::string& what_a,
                       const std::string& what_b);

/// "input 0", "input 1", ...
std::string input_name(size_t k);

// Op families (one file each).
Status eval_unary(const Node& n, const Inputs& in, Outputs* out);        // elementwise.cc
Status eval_leaky_relu(const Node& n, const Inputs& in, Outputs* out);   // elementwise.cc
Status eval_hard_sigmoid(const Node& n, const Inputs& in, Outputs* out); // elementwise.cc
Status eval_binary(const Node& n, const Inputs& in, Outputs* out);       // elementwise.cc
Status eval_variadic(const Node& n, const Inputs& in, Outputs* out);     // elementwise.cc: Min Max Sum Mean
Status eval_compare(const Node& n, const Inputs& in, Outputs* out);      // elementwise.cc
Status eval_logical(const Node& n, const Inputs& in, Outputs* out);      // elementwise.cc: And Or Xor Not
Status eval_where(const Node& n, const Inputs& in, Outputs* out);        // elementwise.cc
Status eval_clip(const Node& n, const Inputs& in, Outputs* out);         // elementwise.cc
Status eval_prelu(const Node& n, const Inputs& in, Outputs* out);        // elementwise.cc
Status eval_reduce(const Node& n, const Inputs& in, Outputs* out);       // reduce.cc
Status eval_softmax(const Node& n, const Inputs& in, Outputs* out);      // reduce.cc: Softmax LogSoftmax
Status eval_batchnorm(const Node& n, const Inputs& in, Outputs* out);    // reduce.cc
Status eval_matmul(const Node& n, const Inputs& in, Outputs* out);       // matmul.cc
Status eval_gemm(const Node& n, const Inputs& in, Outputs* out);         // matmul.cc
Status eval_shape(const Node& n, const Inputs& in, Outputs* out);        // shape_ops.cc
Status eval_size(const Node& n, const Inputs& in, Outputs* out);         // shape_ops.cc
Status eval_reshape(const Node& n, const Inputs& in, Outputs* out);      // shape_ops.cc
Status eval_squeeze(const Node& n, const Inputs& in, Outputs* out);      // shape_ops.cc
Status eval_unsqueeze(const Node& n, const Inputs& in, Outputs* out);    // shape_ops.cc
Status eval_flatten(const Node& n, const Inputs& in, Outputs* out);      // shape_ops.cc
Status eval_transpose(const Node& n, const Inputs& in, Outputs* out);    // shape_ops.cc
Status eval_expand(const Node& n, const Inputs& in, Outputs* out);       // shape_ops.cc
Status eval_tile(const Node& n, const Inputs& in, Outputs* out);         // shape_ops.cc
Status eval_constant_of_shape(const Node& n, const Inputs& in, Outputs* out);  // shape_ops.cc
Status eval_range(const Node& n, const Inputs& in, Outputs* out);        // shape_ops.cc
Status eval_gather(const Node& n, const Inputs& in, Outputs* out);       // index_ops.cc
Status eval_slice(const Node& n, const Inputs& in, Outputs* out);        // index_ops.cc
Status eval_concat(const Node& n, const Inputs& in, Outputs* out);       // index_ops.cc
Status eval_split(const Node& n, const Inputs& in, Outputs* out);        // index_ops.cc
Status eval_topk(const Node& n, const Inputs& in, Outputs* out);         // index_ops.cc
Status eval_cast(const Node& n, const Inputs& in, Outputs* out);         // cast.cc: Cast CastLike
Status eval_identity(const Node& n, const Inputs& in, Outputs* out);     // cast.cc
Status eval_dropout(const Node& n, const Inputs& in, Outputs* out);      // cast.cc

}  // namespace onebit::converter::eval
