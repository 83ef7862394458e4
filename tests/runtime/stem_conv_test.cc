// Conv2D with few input channels (kernels::stem_supported) runs onebit's stem ukernel on the desktop when
// this CPU has a vector one (else XNNPACK), whatever ISA the interpreter asks for (that picks the binary
// kernels): through the runtime, on every ISA this CPU runs, it agrees with the portable kernels (the
// reference), every ISA gives the same bits (the fuzz target's cross-ISA check), and two threads the bits of
// one.
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
