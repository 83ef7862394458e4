// Layer ops of the reference (reference.h), each the ONNX definition as plain loops in double: direct Conv,
// Max / Average / Global pools, Gemm, MatMul, BatchNormalization (inference), Softmax / LogSoftmax, Reduce*
// (Sum, Mean, Max, Min, L1, L2, Prod).
#include <algorithm>
#include <cmath>

#include "verify/reference_ops.h"

namespace onebit::converter {
namespace {

// Geometry of a 2-D window op over NCHW: kernel, stride, dilation, pads (begin, end) and sizes per axis.
struct Window {
  int64_t k[2], s[2], d[2], pb[2], pe[2], in[2], out[2];
};

Status window_geometry(const RefNode& n, const RefTensor& x, const std::vector<int64_t>& kernel, bool ceil_mode,
                       Window* w) {
  if (x.shape.size() != 4 || kernel.size() != 2) return n.error("only 2-D windows over NCHW are evaluated");
  const std::vector<int64_t> s = n.ints("strides", {1, 1}), d = n.ints("dilations", {1, 1});
  const std::vector<int64_t> pads = n.ints("pads", {0, 0, 0, 0});
  const std::string auto_pad = n.s("auto_pad", "NOTSET");
  if (s.size() != 2 || d.size() != 2 || pads.size() != 4) return n.error("strides / dilations / pads are not 2-D");
  for (int a = 0; a < 2; ++a) {
    w->k[a] = kernel[size_t(a)];
    w->s[a] = s[size_t(a)];
    w->d[a] = d[size_t(a)];
    w->in[a] = x.shape[size_t(2 + a)];
    if (w->k[a] < 1 || w->s[a] < 1 || w->d[a] < 1) return n.error("kernel, strides and dilations must be positive");
    const int64_t span = (w->k[a] - 1) * w->d[a] + 1;
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      w->out[a] = (w->in[a] + w->s[a] - 1) / w->s[a];
      const int64_t total = std::max<int64_t>(0, (w->out[a] - 1) * w->s[a] + span - w->in[a]);
      w->pb[a] = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      w->pe[a] = total - w->pb[a];
      continue;
    }
    w->pb[a] = auto_pad == "VALID" ? 0 : pads[size_t(a)];
    w->pe[a] = auto_pad == "VALID" ? 0 : pads[size_t(a + 2)];
    const int64_t room = w->in[a] + w->pb[a] + w->pe[a] - span;
    if (room < 0) return n.error("the window is larger than the padded input");
    w->out[a] = (ceil_mode ? (room + w->s[a] - 1) / w->s[a] : room / w->s[a]) + 1;
    // ceil_mode: a last window that would start in the end padding is dropped (PyTorch's rule).
    if (ceil_mode && (w->out[a] - 1) * w->s[a] >= w->in[a] + w->pb[a]) --w->out[a];
  }
  return Status::Ok();
}

Status conv(RefNode& n) {
  const RefTensor *x, *wt;
  ONEBIT_RETURN_IF_ERROR(n.input(0, &x));
  ONEBIT_RETURN_IF_ERROR(n.input(1, &wt));
  const RefTensor* bias = n.in.size() > 2 ? n.in[2] : nullptr;
  if (wt->shape.size() != 4) return n.error("only 2-D convolutions are evaluated");
  const int64_t groups = n.i("group", 1), M = wt->shape[0], Cg = wt->shape[1];
  const int64_t N = x->shape.at(0), C = x->shape.at(1);
  if (groups < 1 || C != Cg * groups || M % groups != 0) return n.error("channels do not match the groups");
  if (bias && int64_t(bias->size()) != M) return n.error("bias size differs from the output channels");
  Window w;
  ONEBIT_RETURN_IF_ERROR(window_geometry(n, *x, n.ints("kernel_shape", {wt->shape[2], wt->shape[3]}), false, &w));
  if (w.k[0] != wt->shape[2] || w.k[1] != wt->shape[3]) return n.error("kernel_shape differs from the weights");
  const int64_t H = w.in[0], W = w.in[1], OH = w.out[0], OW = w.out[1], Mg = M / groups;
  RefTensor& y = n.out[0];
  y.shape = {N, M, OH, OW};
  y.data.assign(size_t(N * M * OH * OW), 0.0);
  // y[b, m, oh, ow] = bias[m] + sum over c of m's group, kh, kw of
  //                   x[b, g*Cg + c, oh*s - pad + kh*d, ow*s - pad + kw*d] * w[m, c, kh, kw]; taps in padding are 0.
  // Summed tap by tap over whole output rows (the inner loop runs along a row, contiguous at stride 1).
  for (int64_t b = 0; b < N; ++b)
    for (int64_t m = 0; m < M; ++m) {
      const int64_t g = m / Mg;
      double* plane = &y.data[size_t((b * M + m) * OH * OW)];
      std::fill(plane, plane + OH * OW, bias ? bias->data[size_t(m)] : 0.0);
      for (int64_t c = 0; c < Cg; ++c) {
        const double* xp = &x->data[size_t((b * C + g * Cg + c) * H * W)];
        for (int64_t kh = 0; kh < w.k[0]; ++kh) {
          const int64_t dh = kh * w.d[0] - w.pb[0];  // h = oh * s + dh
          const int64_t oh0 = dh >= 0 ? 0 : (-dh + w.s[0] - 1) / w.s[0];
          const int64_t oh1 = H - dh <= 0 ? 0 : std::min(OH, (H - dh + w.s[0] - 1) / w.s[0]);
          for (int64_t kw = 0; kw < w.k[1]; ++kw) {
            const double wv = wt->data[size_t(((m * Cg + c) * w.k[0] + kh) * w.k[1] + kw)];
            const int64_t dw = kw * w.d[1] - w.pb[1], sw = w.s[1];
            const int64_t ow0 = dw >= 0 ? 0 : (-dw + sw - 1) / sw;
            const int64_t ow1 = W - dw <= 0 ? 0 : std::min(OW, (W - dw + sw - 1) / sw);
            for (int64_t oh = oh0; oh < oh1; ++oh) {
              const double* xr = xp + (oh * w.s[0] + dh) * W + dw;
              double* yr = plane + oh * OW;
              if (sw == 1) {  // the common case, as a loop the compiler vectorizes
                for (int64_t ow = ow0; ow < ow1; ++ow) yr[ow] += wv * xr[ow];
              } else {
                for (int64_t ow = ow0; ow < ow1; ++ow) yr[ow] += wv * xr[ow * sw];
              }
            }
          }
        }
      }
    }
  return Status::Ok();
}

Status pool(RefNode& n, bool max) {
  const RefTensor* x;
  ONEBIT_RETURN_IF_ERROR(n.input(0, &x));
  if (n.out.size() > 1 && !n.node.output(1).empty()) return n.error("MaxPool indices are not evaluated");
  Window w;
  ONEBIT_RETURN_IF_ERROR(window_geometry(n, *x, n.ints("kernel_shape", {}), n.i("ceil_mode", 0) != 0, &w));
  const bool include_pad = n.i("count_include_pad", 0) != 0;
  const int64_t NC = x->shape[0] * x->shape[1], H = w.in[0], W = w.in[1], OH = w.out[0], OW = w.out[1];
  RefTensor& y = n.out[0];
  y.shape = {x->shape[0], x->shape[1], OH, OW};
  y.data.resize(size_t(NC * OH * OW));
  for (int64_t i = 0; i < NC; ++i)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        double best = -INFINITY, sum = 0;
        int64_t inside = 0, padded = 0;  // taps in the image; taps in the image or its declared padding
        for (int64_t kh = 0; kh < w.k[0]; ++kh)
          for (int64_t kw = 0; kw < w.k[1]; ++kw) {
            const int64_t h = oh * w.s[0] - w.pb[0] + kh * w.d[0], ww = ow * w.s[1] - w.pb[1] + kw * w.d[1];
            if (h >= -w.pb[0] && h < H + w.pe[0] && ww >= -w.pb[1] && ww < W + w.pe[1]) ++padded;
            if (h < 0 || h >= H || ww < 0 || ww >= W) continue;
            const double v = x->data[size_t((i * H + h) * W + ww)];
            best = std::max(best, v);
            sum += v;
            ++inside;
          }
        y.data[size_t((i * OH + oh) * OW + ow)] = max ? best : sum / double(include_pad ? padded : inside);
      }
  return Status::Ok();
}

Status global_pool(RefNode& n, bool max) {
  const RefTensor* x;
  ONEBIT_RETURN_IF_ERROR(n.input(0, &x));
  if (x->shape.size() < 3) return n.error("needs a spatial input");
  const int64_t NC = x->shape[0] * x->shape[1], HW = NC ? int64_t(x->size()) / NC : 0;
  RefTensor& y = n.out[0];
  y.shape.assign(x->shape.size(), 1);
  y.shape[0] = x->shape[0];
  y.shape[1] = x->shape[1];
  y.data.resize(size_t(NC));
  for (int64_t i = 0; i < NC; ++i) {
    const auto b = x->data.begin() + long(i * HW), e = b + long(HW);
    double s = 0;
    for (auto it = b; it != e; ++it) s += *it;
    y.data[size_t(i)] = max ? *std::max_element(b, e) : s / double(HW);
  }
  return Status::Ok();
}

Status gemm(RefNode& n) {
  const RefTensor *a, *b;
  ONEBIT_RETURN_IF_ERROR(n.input(0, &a));
  ONEBIT_RETURN_IF_ERROR(n.input(1, &b));
  const RefTensor* c = n.in.size() > 2 ? n.in[2] : nullptr;
  if (a->shape.size() != 2 || b->shape.size() != 2) return n.error("A and B must be matrices");
  const bool ta = n.i("transA", 0) != 0, tb = n.i("transB", 0) != 0;
  const double alpha = n.f("alpha", 1.0), beta = n.f("beta", 1.0);
  const int64_t M = ta ? a->shape[1] : a->shape[0], K = ta ? a->shape[0] : a->shape[1];
  const int64_t N = tb ? b->shape[0] : b->shape[1];
  if ((tb ? b->shape[1] : b->shape[0]) != K) return n.error("inner dimensions differ");
  int64_t cm = 0, cn = 0;  // C's strides over the output's rows and columns (0: broadcast)
  if (c) {
    const std::vector<int64_t> cs = c->shape;
    const int64_t rows = cs.size() == 2 ? cs[0] : 1, cols = cs.empty() ? 1 : cs.back();
    if ((rows != 1 && rows != M) || (cols != 1 && cols != N) || cs.size() > 2) return n.error("C does not broadcast to [M, N]");
    cm = rows == 1 ? 0 : cols;
    cn = cols == 1 ? 0 : 1;
  }
  RefTensor& y = n.out[0];
  y.shape = {M, N};
  y.data.resize(size_t(M * N));
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double acc = 0;
      for (int64_t k = 0; k < K; ++k)
        acc += a->data[size_t(ta ? k * M + i : i * K + k)] * b->data[size_t(tb ? j * K + k : k * N + j)];
      y.data[size_t(i * N + j)] = alpha * acc + (c ? beta * c->data[size_t(i * cm + j * cn)] : 0.0);
    }
  return Status::Ok();
}

Status matmul(RefNode& n) {
  const RefTensor *a, *b;
  ONEBIT_RETURN_IF_ERROR(n.input(0, &a));
  ONEBIT_RETURN_IF_ERROR(n.input(1, &b));
  std::vector<int64_t> as = a->shape, bs = b->shape;
  const bool a_vec = as.size() == 1, b_vec = bs.size() == 1;
  if (a_vec) as.insert(as.begin(), 1);
  if (b_vec) bs.push_back(1);
  if (as.size() < 2 || bs.size() < 2) return n.error("scalar operand");
  const int64_t M = as[as.size() - 2], K = as.back(), N = bs.back();
  if (bs[bs.size() - 2] != K) return n.error("inner dimensions differ");
  const std::vector<int64_t> a_batch(as.begin(), as.end() - 2), b_batch(bs.begin(), bs.end() - 2);
  // Batches: B shared by every batch of A, or equal batch dims.
  if (!b_batch.empty() && element_count(b_batch) != 1 && b_batch != a_batch)
    return n.error("batch dimensions other than equal or a shared B are not evaluated");
  const int64_t batches = element_count(a_batch), b_step = element_count(b_batch) == 1 ? 0 : K * N;
  RefTensor& y = n.out[0];
  y.shape = a_batch;
  if (!a_vec) y.shape.push_back(M);
  if (!b_vec) y.shape.push_back(N);
  y.data.resize(size_t(batches * M * N));
  for (int64_t t = 0; t < batches; ++t)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        double acc = 0;
        for (int64_t k = 0; k < K; ++k) acc += a->data[size_t((t * M + i) * K + k)] * b->data[size_t(t * b_step + k * N + j)];
        y.data[size_t((t * M + i) * N + j)] = acc;
      }
  return Status::Ok();
}

Status batch_norm(RefNode& n) {
  const RefTensor *x, *g, *b, *mean, *var;
  ONEBIT_RETURN_IF_ERROR(n.input(0, &x));
  ONEBIT_RETURN_IF_ERROR(n.input(1, &g));
  ONEBIT_RETURN_IF_ERROR(n.input(2, &b));
  ONEBIT_RETURN_IF_ERROR(n.input(3, &mean));
  ONEBIT_RETURN_IF_ERROR(n.input(4, &var));
  if (x->shape.size() < 2) return n.error("needs [N, C, ...]");
  const int64_t C = x->shape[1], inner = element_count(std::vector<int64_t>(x->shape.begin() + 2, x->shape.end()));
  for (const RefTensor* p : {g, b, mean, var})
    if (int64_t(p->size()) != C) return n.error("parameters are not per channel");
  const double eps = n.f("epsilon", 1e-5);
  RefTensor& y = n.out[0];
  y.shape = x->shape;
  y.data.resize(x->size());
  for (size_t e = 0; e < x->size(); ++e) {
    const size_t c = size_t(int64_t(e) / inner % C);
    y.data[e] = (x->data[e] - mean->data[c]) / std::sqrt(var->data[c] + eps) * g->data[c] + b->data[c];
  }
  return Status::Ok();
}

Status softmax(RefNode& n, bool log) {
  const RefTensor* x;
  ONEBIT_RETURN_IF_ERROR(n.input(0, &x));
  size_t axis;
  ONEBIT_RETURN_IF_ERROR(normalize_axis(n, n.i("axis", n.opset >= 13 ? -1 : 1), x->shape.size(), &axis));
  // Opset 13 on: along `axis`. Before: over all dims from `axis` on (the input coerced to 2-D).
  int64_t len = 1, inner = 1;
  for (size_t k = axis; k < x->shape.size(); ++k) (n.opset >= 13 && k > axis ? inner : len) *= x->shape[k];
  RefTensor& y = n.out[0];
  y = *x;
  const int64_t outer = len * inner != 0 ? int64_t(x->size()) / (len * inner) : 0;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const auto at = [&](int64_t k) -> double& { return y.data[size_t((o * len + k) * inner + i)]; };
      double hi = -INFINITY, sum = 0;
      for (int64_t k = 0; k < len; ++k) hi = std::max(hi, at(k));
      for (int64_t k = 0; k < len; ++k) sum += std::exp(at(k) - hi);
      for (int64_t k = 0; k < len; ++k) at(k) = log ? at(k) - hi - std::log(sum) : std::exp(at(k) - hi) / sum;
    }
  return Status::Ok();
}

enum class Reduce { kSum, kMean, kMax, kMin, kL1, kL2, kProd };

Status reduce(RefNode& n, Reduce kind) {
  const RefTensor* x;
  ONEBIT_RETURN_IF_ERROR(n.input(0, &x));
  // Axes: an input for ReduceSum from opset 13 and the others from 18, an attribute before.
  const bool axes_input = n.opset >= (kind == Reduce::kSum ? 13 : 18);
  std::vector<int64_t> axes = n.ints("axes", {});
  if (axes_input) axes = n.in.size() > 1 && n.in[1] ? ints_of(*n.in[1]) : std::vector<int64_t>();
  const size_t rank = x->shape.size();
  std::vector<bool> reduced(rank, axes.empty() && n.i("noop_with_empty_axes", 0) == 0);
  for (int64_t a : axes) {
    size_t k;
    ONEBIT_RETURN_IF_ERROR(normalize_axis(n, a, rank, &k));
    reduced[k] = true;
  }
  std::vector<int64_t> kept(rank);  // output shape with reduced dims as 1
  for (size_t k = 0; k < rank; ++k) kept[k] = reduced[k] ? 1 : x->shape[k];
  const std::vector<int64_t> xs = strides_of(x->shape), ks = strides_of(kept);
  const int64_t outs = element_count(kept), per = outs ? int64_t(x->size()) / outs : 0;
  std::vector<double> acc(size_t(outs), kind == Reduce::kMax ? -INFINITY
                                        : kind == Reduce::kMin ? INFINITY : kind == Reduce::kProd ? 1.0 : 0.0);
  for (int64_t e = 0; e < int64_t(x->size()); ++e) {
    int64_t o = 0;
    for (size_t k = 0; k < rank; ++k)
      if (!reduced[k]) o += (e / xs[k] % x->shape[k]) * ks[k];
    const double v = x->data[size_t(e)];
    double& a = acc[size_t(o)];
    if (kind == Reduce::kMax) a = std::max(a, v);
    else if (kind == Reduce::kMin) a = std::min(a, v);
    else if (kind == Reduce::kL1) a += std::fabs(v);
    else if (kind == Reduce::kL2) a += v * v;
    else if (kind == Reduce::kProd) a *= v;
    else a += v;
  }
  for (double& a : acc) {
    if (kind == Reduce::kMean) a /= double(per);
    if (kind == Reduce::kL2) a = std::sqrt(a);
  }
  RefTensor& y = n.out[0];
  y.shape.clear();
  for (size_t k = 0; k < rank; ++k)
    if (!reduced[k] || n.i("keepdims", 1) != 0) y.shape.push_back(kept[k]);
  y.data = std::move(acc);
  return Status::Ok();
}

}  // namespace

void add_layer_ops(RefOpTable* t) {
  RefOpTable& m = *t;
  m["Conv"] = conv;
  m["MaxPool"] = [](RefNode& n) { return pool(n, true); };
  m["AveragePool"] = [](RefNode& n) { return pool(n, false); };
  m["GlobalAveragePool"] = [](RefNode& n) { return global_pool(n, false); };
  m["GlobalMaxPool"] = [](RefNode& n) { return global_pool(n, true); };
  m["Gemm"] = gemm;
  m["MatMul"] = matmul;
  m["BatchNormalization"] = batch_norm;
  m["Softmax"] = [](RefNode& n) { return softmax(n, false); };
  m["LogSoftmax"] = [](RefNode& n) { return softmax(n, true); };
  m["ReduceSum"] = [](RefNode& n) { return reduce(n, Reduce::kSum); };
  m["ReduceMean"] = [](RefNode& n) { return reduce(n, Reduce::kMean); };
  m["ReduceMax"] = [](RefNode& n) { return reduce(n, Reduce::kMax); };
  m["ReduceMin"] = [](RefNode& n) { return reduce(n, Reduce::kMin); };
  m["ReduceL1"] = [](RefNode& n) { return reduce(n, Reduce::kL1); };
  m["ReduceL2"] = [](RefNode& n) { return reduce(n, Reduce::kL2); };
  m["ReduceProd"] = [](RefNode& n) { return reduce(n, Reduce::kProd); };
}

}  // namespace onebit::converter
