// MatMul (numpy matmul: batched, broadcasting batch dims, 1-D operands) and Gemm. Dot products accumulate
// in double (float inputs) and round once; int64 wraps.
#include <string>

#include "evaluator/eval_util.h"

namespace onebit::converter::eval {
namespace {

Status check_work(const Node& n, double macs) {
  if (macs > double(kMaxWork))
    return fail(n, "the product needs " + std::to_string(int64_t(macs)) + " multiply-adds, more than 2^32");
  return Status::Ok();
}

// C[m][n] = sum_k A[m*ars + k*acs] * B[k*brs + n*bcs] for one matrix pair.
template <class T>
void matmul_one(const T* a, int64_t ars, int64_t acs, const T* b, int64_t brs, int64_t bcs, int64_t M, int64_t N,
                int64_t K, T* c) {
  for (int64_t m = 0; m < M; ++m)
    for (int64_t j = 0; j < N; ++j) {
      if constexpr (std::is_same_v<T, float>) {
        double acc = 0;
        for (int64_t k = 0; k < K; ++k) acc += double(a[m * ars + k * acs]) * double(b[k * brs + j * bcs]);
        c[m * N + j] = float(acc);
      } else {
        uint64_t acc = 0;
        for (int64_t k = 0; k < K; ++k) acc += uint64_t(a[m * ars + k * acs]) * uint64_t(b[k * brs + j * bcs]);
        c[m * N + j] = int64_t(acc);
      }
    }
}

}  // namespace

Status eval_matmul(const Node& n, const Inputs& in, Outputs* out) {
  const Tensor &a = *in[0], &b = *in[1];
  ONEBIT_RETURN_IF_ERROR(need_numeric(n, a, true, "input 0"));
  ONEBIT_RETURN_IF_ERROR(need_same_dtype(n, a, b, "input 0", "input 1"));
  if (a.shape.empty() || b.shape.empty()) return fail(n, "MatMul operands must have rank >= 1, not be scalars");
  std::vector<int64_t> as = a.shape, bs = b.shape;
  const bool a_vec = as.size() == 1, b_vec = bs.size() == 1;
  if (a_vec) as.insert(as.begin(), 1);
  if (b_vec) bs.push_back(1);
  const int64_t M = as[as.size() - 2], K = as.back(), N = bs.back();
  if (bs[bs.size() - 2] != K)
    return fail(n, "inner dimensions differ: " + shape_str(a.shape) + " times " + shape_str(b.shape));
  const std::vector<int64_t> abatch(as.begin(), as.end() - 2), bbatch(bs.begin(), bs.end() - 2);
  std::vector<int64_t> batch;
  if (Status st = broadcast_shapes(n, {abatch, bbatch}, &batch); !st.ok())
    return fail(n, "batch dimensions of " + shape_str(a.shape) + " and " + shape_str(b.shape) +
                       " cannot be broadcast together");
  std::vector<int64_t> shape = batch;
  if (!a_vec) shape.push_back(M);
  if (!b_vec) shape.push_back(N);
  // The work first: nothing is allocated for a product too costly to compute.
  ONEBIT_RETURN_IF_ERROR(check_work(n, double(shape_elements(batch)) * double(M) * double(N) * double(K)));
  Tensor* y = &(*out)[0];
  ONEBIT_RETURN_IF_ERROR(make_output(n, a.dtype, shape, y));
  // Batch strides in elements: broadcast strides of the batch dims scaled by the matrix size.
  std::vector<int64_t> sa = broadcast_strides(abatch, batch), sb = broadcast_strides(bbatch, batch);
  for (int64_t& s : sa) s *= M * K;
  for (int64_t& s : sb) s *= K * N;
  auto go = [&](auto tag) {
    using T = decltype(tag);
    const std::vector<T>&da = data<T>(a), &db = data<T>(b);
    std::vector<T>& dy = data<T>(*y);
    for_each_strided(batch, {sa, sb}, {0, 0}, [&](int64_t k, const int64_t* o) {
      matmul_one(da.data() + o[0], K, 1, db.data() + o[1], N, 1, M, N, K, dy.data() + k * M * N);
    });
  };
  return by_storage(a, go);
}

Status eval_gemm(const Node& n, const Inputs& in, Outputs* out) {
  const Tensor &a = *in[0], &b = *in[1];
  const Tensor* c = in.size() > 2 ? in[2] : nullptr;
  for (size_t k = 0; k < in.size(); ++k)
    if (in[k])
      ONEBIT_RETURN_IF_ERROR(need_numeric(n, *in[k], false, input_name(k)));
  if (a.shape.size() != 2 || b.shape.size() != 2)
    return fail(n, "A and B must be 2-D, got " + shape_str(a.shape) + " and " + shape_str(b.shape));
  const bool ta = n.i("transA") != 0, tb = n.i("transB") != 0;
  const int64_t M = ta ? a.shape[1] : a.shape[0], K = ta ? a.shape[0] : a.shape[1];
  const int64_t Kb = tb ? b.shape[1] : b.shape[0], N = tb ? b.shape[0] : b.shape[1];
  if (K != Kb)
    return fail(n, "inner dimensions differ: A " + shape_str(a.shape) + (ta ? " transposed" : "") + " times B " +
                       shape_str(b.shape) + (tb ? " transposed" : ""));
  const std::vector<int64_t> shape = {M, N};
  if (c) {
    std::vector<int64_t> bc;
    if (Status st = broadcast_shapes(n, {c->shape, shape}, &bc); !st.ok() || bc != shape)
      return fail(n, "C of shape " + shape_str(c->shape) + " does not broadcast to the output's shape " +
                         shape_str(shape));
  }
  ONEBIT_RETURN_IF_ERROR(check_work(n, double(M) * double(N) * double(K)));
  Tensor* y = &(*out)[0];
  ONEBIT_RETURN_IF_ERROR(make_output(n, DType::kFloat, shape, y));
  const int64_t ars = ta ? 1 : K, acs = ta ? M : 1, brs = tb ? 1 : N, bcs = tb ? K : 1;
  const double alpha = n.f("alpha"), beta = n.f("beta");
  std::vector<int64_t> cst = c ? broadcast_strides(c->shape, shape) : std::vector<int64_t>{0, 0};
  for (int64_t m = 0; m < M; ++m)
    for (int64_t j = 0; j < N; ++j) {
      double acc = 0;
      for (int64_t k = 0; k < K; ++k) acc += double(a.f[size_t(m * ars + k * acs)]) * double(b.f[size_t(k * brs + j * bcs)]);
      double v = alpha * acc;
      if (c) v += beta * double(c->f[size_t(m * cst[0] + j * cst[1])]);
      y->f[size_t(m * N + j)] = float(v);
    }
  return Status::Ok();
}

}  // namespace onebit::converter::eval
