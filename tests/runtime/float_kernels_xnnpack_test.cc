// The desktop's XNNPACK path against the portable float kernels (onebit/kernels/float.h), which are the
// reference it is tested against: one-op models built with the builder and run by the runtime (XNNPACK by
// default) agree with the kernel on the same data within float tolerance (XNNPACK sums in its own order,
// with FMA where the CPU has it).
#include <cstring>

#include "onebit/kernels/float.h"
#include "runtime_test_util.h"

using namespace onebit;
using namespace onebit::test;

namespace {

/// The floats of constant input `k` of the model's first operator, as the file stores them (a conv's
/// weights OHWI, as the kernel reads them).
std::vector<float> first_op_constant(const Model& model, int k) {
  const fb::Model& m = rt::model_flatbuffer(model);
  const fb::Tensor* t = m.tensors()->Get(flatbuffers::uoffset_t(m.operators()->Get(0)->inputs()->Get(flatbuffers::uoffset_t(k))));
  REQUIRE(t->buffer() >= 0);
  const flatbuffers::Vector<uint8_t>* data = m.buffers()->Get(flatbuffers::uoffset_t(t->buffer()))->data();
  std::vector<float> v(data->size() / sizeof(float));
  std::memcpy(v.data(), data->data(), v.size() * sizeof(float));
  return v;
}

}  // namespace

TEST_CASE("XNNPACK Conv2D agrees with the portable conv2d_f32") {
  struct Case { int h, w, c, out_c, k, stride, dilation, pad, groups; bool clamp; };
  const Case cases[] = {
      {28, 28, 1, 32, 3, 1, 1, 1, 1, false}, {30, 29, 3, 16, 7, 2, 1, 3, 1, true},  {9, 10, 4, 12, 5, 1, 2, 2, 1, false},
      {8, 9, 16, 20, 1, 2, 1, 0, 1, true},   {9, 10, 6, 10, 3, 1, 1, 1, 2, false}, {9, 10, 7, 7, 3, 2, 1, 1, 7, true},
      {9, 9, 4, 8, 3, 1, 1, 1, 4, false},
  };
  uint32_t seed = 7000;
  for (const Case& t : cases) {
    INFO("in " << t.h << "x" << t.w << "x" << t.c << " out_c " << t.out_c << " k " << t.k << " stride " << t.stride
               << " dilation " << t.dilation << " pad " << t.pad << " groups " << t.groups << " clamp " << t.clamp);
    Conv2DParams p;
    p.kernel_h = p.kernel_w = t.k;
    p.stride_h = p.stride_w = t.stride;
    p.dilation_h = p.dilation_w = t.dilation;
    p.pad_top = p.pad_left = t.pad;
    p.pad_bottom = t.pad + (t.pad > 0 ? 1 : 0);  // asymmetric
    p.pad_right = t.pad;
    p.groups = t.groups;
    if (t.clamp) p.clamp_min = -0.25f, p.clamp_max = 0.5f;
    const int in_g = t.c / t.groups, batch = 2;
    const std::vector<float> x = uniform(size_t(batch) * t.h * t.w * t.c, seed++);
    const std::vector<float> w = uniform(size_t(t.out_c) * in_g * t.k * t.k, seed++);
    const std::vector<float> bias = uniform(size_t(t.out_c), seed++);
    ModelBuilder b;
    b.mark_output(b.conv2d("conv", b.add_input("x", {batch, t.h, t.w, t.c}), t.out_c, Weights::float32(w), bias, p));
    Loaded l = load(b);
    const std::vector<float> got = run(*l.interp, {x});
    const std::vector<int>& ys = l.interp->output_info(0).shape;
    kernels::FloatConv2D g{batch,     t.h,       t.w,        t.c,        ys[1],      ys[2],      t.out_c,
                           t.k,       t.k,       t.stride,   t.stride,   t.dilation, t.dilation, t.pad,
                           t.pad,     t.groups,  p.clamp_min, p.clamp_max};
    std::vector<float> want(got.size());
    const std::vector<float> w_ohwi = first_op_constant(*l.model, 1);
    REQUIRE(w_ohwi.size() == w.size());
    kernels::conv2d_f32(g, x.data(), w_ohwi.data(), bias.data(), want.data(), 0, batch * ys[1]);
    check_close(got, want, 1e-4f);
  }
}

TEST_CASE("XNNPACK FullyConnected agrees with the portable fully_connected_f32") {
  for (int in_c : {7, 512})
    for (bool clamp : {false, true}) {
      INFO("in " << in_c << " clamp " << clamp);
      const int batch = 3, out_c = 10;
      const float lo = clamp ? -0.5f : -INFINITY, hi = clamp ? 0.5f : INFINITY;
      const std::vector<float> x = uniform(size_t(batch) * in_c, 7100 + in_c);
      const std::vector<float> w = uniform(size_t(out_c) * in_c, 7200 + in_c);
      const std::vector<float> bias = uniform(size_t(out_c), 7300 + in_c);
      ModelBuilder b;
      b.mark_output(b.fully_connected("fc", b.add_input("x", {batch, in_c}), out_c, Weights::float32(w), bias, lo, hi));
      std::vector<float> want(size_t(batch) * out_c);
      kernels::fully_connected_f32(batch, in_c, out_c, x.data(), w.data(), bias.data(), lo, hi, want.data(), 0, batch);
      check_close(run(b, {x}), want, 1e-4f);
    }
}

TEST_CASE("XNNPACK pools agree with the portable max / avg / global average pools") {
  struct Case { int k, stride, pad_tl, pad_br; };
  const Case cases[] = {{3, 2, 1, 1}, {2, 2, 0, 0}, {3, 1, 1, 2}, {1, 1, 0, 0}, {3, 3, 0, 2}};
  uint32_t seed = 7400;
  for (const Case& t : cases)
    for (int mode = 0; mode < 3; ++mode) {  // 0 max, 1 avg excluding the pads, 2 avg including them
      INFO("k " << t.k << " stride " << t.stride << " pads " << t.pad_tl << "/" << t.pad_br << " mode " << mode);
      const Pool2DParams p{t.k, t.k, t.stride, t.stride, t.pad_tl, t.pad_tl, t.pad_br, t.pad_br, mode == 2};
      const std::vector<float> x = uniform(size_t(2) * 7 * 6 * 5, seed++);
      ModelBuilder b;
      const int in = b.add_input("x", {2, 7, 6, 5});
      b.mark_output(mode == 0 ? b.max_pool("pool", in, p) : b.avg_pool("pool", in, p));
      Loaded l = load(b);
      const std::vector<float> got = run(*l.interp, {x});
      const std::vector<int>& ys = l.interp->output_info(0).shape;
      const kernels::FloatPool2D k{2, 7, 6, 5, ys[1], ys[2], t.k, t.k, t.stride, t.stride, t.pad_tl, t.pad_tl};
      std::vector<float> want(got.size());
      if (mode == 0) kernels::max_pool2d_f32(k, x.data(), want.data(), 0, 2 * ys[1]);
      else kernels::avg_pool2d_f32(k, mode == 2, x.data(), want.data(), 0, 2 * ys[1]);
      check_close(got, want, 1e-5f);
    }
  const std::vector<float> x = uniform(size_t(2) * 7 * 7 * 64, seed);
  ModelBuilder b;
  b.mark_output(b.global_avg_pool("gap", b.add_input("x", {2, 7, 7, 64})));
  std::vector<float> want(size_t(2) * 64);
  kernels::global_avg_pool_f32(2, 49, 64, x.data(), want.data());
  check_close(run(b, {x}), want, 1e-5f);
}

TEST_CASE("XNNPACK Add (broadcast, clamp), ReLU, Clamp and PReLU agree with the portable kernels") {
  const std::vector<int> shape = {2, 3, 5, 7};
  const size_t total = 2 * 3 * 5 * 7;
  const std::vector<float> x = uniform(total, 7500, -2.0f, 2.0f);
  const std::vector<float> slope = uniform(7, 7501, -0.5f, 0.5f);
  struct AddCase { std::vector<int> a, b; };
  const AddCase adds[] = {{shape, shape}, {shape, {7}}, {{7}, shape}, {shape, {2, 1, 1, 7}}, {{2, 1, 5, 1}, {3, 1, 7}}};
  uint32_t seed = 7502;
  for (const AddCase& t : adds) {
    INFO("add ranks " << t.a.size() << " and " << t.b.size());
    const std::vector<float> a = uniform(count(t.a), seed++), bv = uniform(count(t.b), seed++);
    ModelBuilder b;
    const int ia = b.add_input("a", t.a);  // inputs in order (argument evaluation order is unspecified)
    const int ib = b.add_input("b", t.b);
    b.mark_output(b.add("add", ia, ib, -0.75f, 1.0f));
    kernels::FloatAdd g{};
    REQUIRE(kernels::float_add_shape(int(t.a.size()), t.a.data(), int(t.b.size()), t.b.data(), -0.75f, 1.0f, &g));
    std::vector<float> want(kernels::float_add_rows(g) * size_t(g.out[g.rank - 1]));
    kernels::add_f32(g, a.data(), bv.data(), want.data(), 0, kernels::float_add_rows(g));
    check_close(run(b, {a, bv}), want, 1e-6f);
  }
  for (int which = 0; which < 3; ++which) {
    INFO("relu / clamp / prelu: " << which);
    ModelBuilder b;
    const int in = b.add_input("x", shape);
    b.mark_output(which == 0 ? b.relu("relu", in) : which == 1 ? b.clamp("clamp", in, -1.0f, 1.0f)
                                                              : b.prelu("prelu", in, slope));
    std::vector<float> want(total);
    if (which == 0) kernels::clamp_f32(total, x.data(), 0.0f, INFINITY, want.data());
    if (which == 1) kernels::clamp_f32(total, x.data(), -1.0f, 1.0f, want.data());
    if (which == 2) kernels::prelu_f32(total / 7, 7, x.data(), slope.data(), want.data());
    check_close(run(b, {x}), want, 1e-6f);
  }
}

// Mul with NumPy broadcasting (issue 21): XNOR-Net's feature map times its run-time scale K [N, H, W, 1] (two
// activations), XNOR-Net++'s constant [1, H, W, C], and the per-channel scale [C] every older file holds. A
// product is one float operation, so XNNPACK, the portable kernel and a plain a * b loop agree exactly.
TEST_CASE("Mul broadcasts (activation x per-position scale, x constant [1, H, W, C], x per-channel) on both float paths") {
  const std::vector<int> x_shape = {2, 5, 3, 6};
  struct MulCase { std::vector<int> b; bool constant; };
  const MulCase cases[] = {{{2, 5, 3, 1}, false}, {{1, 5, 3, 6}, true}, {{6}, true}, {{2, 5, 3, 6}, false}};
  uint32_t seed = 7600;
  for (const MulCase& t : cases) {
    INFO("b " << t.b.size() << "-d, last dim " << t.b.back() << ", constant " << t.constant);
    const std::vector<float> a = uniform(count(x_shape), seed++, -2.0f, 2.0f), bv = uniform(count(t.b), seed++, -2.0f, 2.0f);
    // want[n, h, w, c] = a[n, h, w, c] * b[...] with b's dimensions of 1 (or missing) stretched
    std::vector<float> want(a.size());
    const int rank_b = int(t.b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      size_t rest = i, bi = 0, stride = 1;
      for (int d = 3; d >= 0; --d) {
        const size_t idx = rest % size_t(x_shape[size_t(d)]);
        rest /= size_t(x_shape[size_t(d)]);
        const int db = d - (4 - rank_b);
        if (db < 0) continue;
        if (t.b[size_t(db)] != 1) bi += idx * stride;
        stride *= size_t(t.b[size_t(db)]);
      }
      want[i] = a[i] * bv[bi];
    }
    for (bool portable : {false, true}) {
      CAPTURE(portable);
      ModelBuilder b;
      const int ia = b.add_input("a", x_shape);
      if (t.b.size() == 1) {
        b.mark_output(b.mul("mul", ia, bv));  // the per-channel form the converter writes for constants [C]
      } else {
        const int ib = t.constant ? b.float_constant("k", t.b, bv) : b.add_input("k", t.b);
        b.mark_output(b.mul("mul", ia, ib));
      }
      InterpreterOptions o;
      o.portable_float_kernels = portable;
      const std::vector<std::vector<float>> inputs =
          t.constant || t.b.size() == 1 ? std::vector<std::vector<float>>{a} : std::vector<std::vector<float>>{a, bv};
      const std::vector<float> got = run(b, inputs, o);
      REQUIRE(got.size() == want.size());
      CHECK(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)) == 0);
    }
  }
}
