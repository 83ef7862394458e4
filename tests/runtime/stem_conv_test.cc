// Conv2D with few input channels (kernels::stem_supported) runs onebit's stem ukernel on the desktop when
// this CPU has a vector one (else XNNPACK), whatever ISA the interpreter asks for (that picks the binary
// kernels): through the runtime, on every ISA this CPU runs, it agrees with the portable kernels (the
// reference), every ISA gives the same bits (the fuzz target's cross-ISA check), and two threads the bits of
// one. Followed by a MaxPool2D alone, the stem takes the pool over: the same bits as the two apart.
#include "onebit/kernels/isa.h"
#include "onebit/kernels/stem.h"
#include "runtime_test_util.h"

using namespace onebit;
using namespace onebit::test;

TEST_CASE("Conv2D with C_in <= 4: the stem path agrees with the portable kernels, alike on every ISA; 2 threads = 1") {
  struct Case {
    int h, w, c, out_c, k, stride, pad;
    float lo, hi;
  };
  const Case cases[] = {
      {17, 15, 3, 70, 7, 2, 3, 0.0f, INFINITY},  // Bi-Real-like 7x7 / 2 + ReLU, out_c 64 + 6
      {12, 13, 1, 32, 3, 1, 1, -INFINITY, INFINITY},
      {9, 10, 4, 20, 5, 1, 2, -0.25f, 0.5f},
  };
  uint32_t seed = 9100;
  for (const Case& t : cases) {
    INFO("in " << t.h << "x" << t.w << "x" << t.c << " out_c " << t.out_c << " k " << t.k << " stride " << t.stride);
    Conv2DParams p;
    p.kernel_h = p.kernel_w = t.k;
    p.stride_h = p.stride_w = t.stride;
    p.pad_top = p.pad_left = p.pad_right = t.pad;
    p.pad_bottom = t.pad + 1;  // asymmetric
    p.clamp_min = t.lo, p.clamp_max = t.hi;
    const int batch = 2;
    const std::vector<float> x = uniform(size_t(batch) * t.h * t.w * t.c, seed++);
    const std::vector<float> w = uniform(size_t(t.out_c) * t.c * t.k * t.k, seed++);
    const std::vector<float> bias = uniform(size_t(t.out_c), seed++);
    ModelBuilder b;
    b.mark_output(b.conv2d("stem", b.add_input("x", {batch, t.h, t.w, t.c}), t.out_c, Weights::float32(w), bias, p));
    InterpreterOptions portable;
    portable.portable_float_kernels = true;
    const std::vector<float> want = run(b, {x}, portable);
    std::vector<float> first;
    for (kernels::Isa isa : kernels::kAllIsas) {
      if (!kernels::isa_supported(isa)) continue;
      INFO("isa " << std::string(kernels::isa_name(isa)) << " (stem ukernel "
                  << std::string(kernels::stem_select(kernels::best_isa()).name) << ")");
      InterpreterOptions o;
      o.isa = kernels::isa_name(isa);
      const std::vector<float> one = run(b, {x}, o);
      check_close(one, want, 1e-4f);
      if (first.empty()) first = one;
      CHECK(one == first);
      o.threads = 2;
      CHECK(run(b, {x}, o) == one);
    }
  }
}

TEST_CASE("Conv2D stem then MaxPool2D: fused, the bits of the two apart; 1, 2 and 3 threads; the map not stored") {
  struct Case {
    int h, w, c, out_c, k, stride, pad, pool_k, pool_stride, pool_pad;
    float lo, hi;
  };
  const Case cases[] = {
      {19, 17, 3, 70, 7, 2, 3, 3, 2, 1, 0.0f, INFINITY},         // ResNet's stem: 7x7 / 2 + ReLU, 3x3 / 2 pad 1
      {11, 13, 1, 16, 3, 1, 1, 2, 2, 0, -INFINITY, INFINITY},    // stride 1, 2x2 / 2 over odd sizes
      {9, 12, 4, 24, 5, 1, 2, 3, 2, 1, -0.25f, 0.5f},            // a clamp before the pool
  };
  uint32_t seed = 9200;
  for (const Case& t : cases) {
    INFO("in " << t.h << "x" << t.w << "x" << t.c << " k " << t.k << " / " << t.stride << ", pool " << t.pool_k << " / "
               << t.pool_stride << " pad " << t.pool_pad);
    const int batch = 2;
    const std::vector<float> x = uniform(size_t(batch) * t.h * t.w * t.c, seed++);
    const std::vector<float> w = uniform(size_t(t.out_c) * t.c * t.k * t.k, seed++);
    const std::vector<float> bias = uniform(size_t(t.out_c), seed++);
    // The pool is output 0; with the convolution's output a graph output too, nothing is fused.
    const auto model = [&](bool conv_output, ModelBuilder* b) {
      Conv2DParams p;
      p.kernel_h = p.kernel_w = t.k;
      p.stride_h = p.stride_w = t.stride;
      p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = t.pad;
      p.clamp_min = t.lo, p.clamp_max = t.hi;
      const int conv = b->conv2d("stem", b->add_input("x", {batch, t.h, t.w, t.c}), t.out_c, Weights::float32(w), bias, p);
      Pool2DParams q;
      q.kernel_h = q.kernel_w = t.pool_k;
      q.stride_h = q.stride_w = t.pool_stride;
      q.pad_top = q.pad_left = q.pad_bottom = q.pad_right = t.pool_pad;
      b->mark_output(b->max_pool("pool", conv, q));
      if (conv_output) b->mark_output(conv);
    };
    ModelBuilder fused_model, apart_model;
    model(false, &fused_model);
    model(true, &apart_model);
    InterpreterOptions portable;
    portable.portable_float_kernels = true;
    const std::vector<float> reference = run(fused_model, {x}, portable);
    const std::vector<float> apart = run(apart_model, {x});
    check_close(apart, reference, 1e-4f);
    const bool stem = kernels::stem_select(kernels::best_isa()).isa != kernels::Isa::kScalar;
    for (int threads : {1, 2, 3}) {
      INFO(threads << " thread(s)");
      InterpreterOptions o;
      o.threads = threads;
      Loaded l = load(fused_model, o);
      CHECK(run(*l.interp, {x}) == apart);
      if (!stem) continue;  // (XNNPACK's convolution: nothing fused)
      CHECK(std::string(l.interp->profile().at(0).route.c_str()) == "stem + MaxPool2D");
      CHECK(std::string(l.interp->profile().at(1).route.c_str()) == "fused into the operator before");
      Loaded a = load(apart_model, o);  // holds the map (and the pool's output too)
      CHECK(l.interp->arena_bytes() < a.interp->arena_bytes());
    }
  }
}
