// Binary max pool against a float max pool on ±1 data (padding ignored, as -inf padding), for every ukernel
// of the bpool list (bpool/bpool.h) the CPU runs, by name; selection.
#include <cmath>
#include <string>
#include <vector>

#include "kernels/test_util.h"
#include "onebit/kernels/bpool.h"

using namespace onebit::kernels;

TEST_CASE("bpool: binary max pool equals float max pool on ±1") {
  uint32_t seed = 40;
  struct Case { int k, s, pad; };
  for (int channels : {1, 5, 31, 32, 33, 64, 65, 129, 300})
    for (Case c : {Case{2, 2, 0}, Case{3, 2, 1}, Case{3, 1, 1}, Case{1, 1, 0}, Case{3, 3, 2}}) {
      BPoolGeometry g;
      g.batch = 2; g.in_h = 7; g.in_w = 5; g.channels = channels;
      g.kernel_h = g.kernel_w = c.k; g.stride_h = g.stride_w = c.s;
      g.pad_top = g.pad_left = c.pad; g.pad_bottom = g.pad_right = c.pad;
      std::mt19937 rng(seed++);
      std::vector<float> x(size_t(g.batch) * g.in_h * g.in_w * channels);
      for (float& v : x) v = (rng() % 4 != 0) ? -1.0f : 1.0f;  // mostly -1 so that ANDs are not all 0
      const std::vector<uint32_t> xp = onebit::test::pack_rows(x, channels);
      const int oh = g.out_h(), ow = g.out_w();
      std::vector<float> ref(size_t(g.batch) * oh * ow * channels, -INFINITY);
      for (int n = 0; n < g.batch; ++n)
        for (int oy = 0; oy < oh; ++oy)
          for (int ox = 0; ox < ow; ++ox)
            for (int ch = 0; ch < channels; ++ch) {
              float& r = ref[((size_t(n) * oh + oy) * ow + ox) * channels + ch];
              for (int ky = 0; ky < c.k; ++ky)
                for (int kx = 0; kx < c.k; ++kx) {
                  const int iy = oy * c.s - c.pad + ky, ix = ox * c.s - c.pad + kx;
                  if (iy < 0 || iy >= g.in_h || ix < 0 || ix >= g.in_w) continue;
                  r = std::fmax(r, x[((size_t(n) * g.in_h + iy) * g.in_w + ix) * channels + ch]);
                }
            }
      const std::vector<uint32_t> expect = onebit::test::pack_rows(ref, channels);
      onebit::test::for_each_runnable_ukernel("bpool", bpool_ukernels, [&](const BPoolUkernel& k) {
        INFO("ukernel=", std::string(k.name), " channels=", channels, " kernel=", c.k, " stride=", c.s,
             " pad=", c.pad, " seed=", seed - 1);
        std::vector<uint32_t> out(expect.size(), 0x12345678u);
        binary_max_pool(k, g, xp.data(), out.data());
        CHECK(out == expect);
      });
    }
}

TEST_CASE("bpool: selection picks the best listed ukernel the CPU runs, for every requested ISA") {
  size_t count = 0;
  const BPoolUkernel* table = bpool_ukernels(&count);
  onebit::test::check_selection(table, count, [](Isa isa) -> const BPoolUkernel& { return bpool_select(isa); });
}
