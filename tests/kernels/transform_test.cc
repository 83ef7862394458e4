// Bitpacked-output thresholds agree exactly with the float expression fl(fl(m * dot) + b) < 0 at every dot.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "kernels/test_util.h"
#include "../../kernels/transform/transform.h"  // internal ukernel API (tests reach it by path)

using namespace onebit::kernels;

namespace {

bool float_negative(float m, float b, int32_t d) {
  const float product = m * static_cast<float>(d);
  const float y = product + b;
  return y < 0.0f;
}

void check_exhaustive(int32_t taps, const std::vector<float>& m, const std::vector<float>& b) {
  std::vector<int32_t> t(m.size()), s(m.size());
  bits_transform_thresholds(m.size(), taps, m.data(), b.data(), t.data(), s.data());
  for (size_t c = 0; c < m.size(); ++c) {
    INFO("taps=", taps, " m=", m[c], " b=", b[c], " T=", t[c], " sign_mask=", s[c]);
    for (int32_t d = -taps; d <= taps; ++d) {
      const bool kernel = ((d ^ s[c]) - s[c]) < t[c];
      if (kernel != float_negative(m[c], b[c], d)) {
        INFO("dot=", d);
        REQUIRE(kernel == float_negative(m[c], b[c], d));
      }
    }
  }
}

}  // namespace

TEST_CASE("transform: integer thresholds equal the float expression (random, ties, special values)") {
  std::mt19937 rng(30);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  for (int32_t taps : {1, 9, 63, 576, 4608}) {
    std::vector<float> m, b;
    for (int i = 0; i < 200; ++i) {
      const float mi = u(rng) * std::pow(10.0f, float(int(rng() % 9) - 4));
      const int32_t d0 = int32_t(rng() % uint32_t(2 * taps + 1)) - taps;
      m.push_back(mi);
      b.push_back(i % 2 ? -mi * float(d0) : u(rng) * float(taps) * std::fabs(mi));
      m.push_back(mi);  // near-tie: one ulp either side of -m*d0
      b.push_back(std::nextafter(-mi * float(d0), i % 4 < 2 ? inf : -inf));
    }
    for (float mi : {0.0f, -0.0f, 1.0f, -1.0f, 1e-30f, -1e-30f, 1e30f, -1e30f, inf, -inf, nan})
      for (float bi : {0.0f, -0.0f, 0.5f, -0.5f, 3.0f, -3.0f, 1e-45f, -1e-45f, inf, -inf, nan}) {
        m.push_back(mi);
        b.push_back(bi);
      }
    check_exhaustive(taps, m, b);
  }
}

TEST_CASE("transform: ukernels of every ISA equal the scalar ones") {
  std::mt19937 rng(31);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (size_t n : {1, 7, 8, 9, 16, 17, 31, 32, 33, 64, 65, 100}) {
    const int32_t taps = 300;
    std::vector<int32_t> pc(n), corr(n);
    std::vector<float> m(n), b(n);
    for (size_t c = 0; c < n; ++c) {
      pc[c] = int32_t(rng() % 301);
      corr[c] = int32_t(rng() % 41) - 20;
      m[c] = (rng() % 5 == 0) ? 0.0f : u(rng);
      b[c] = u(rng) * 50.0f;
    }
    std::vector<int32_t> t(n), s(n);
    bits_transform_thresholds(n, taps, m.data(), b.data(), t.data(), s.data());
    FloatTransform ft;
    ft.taps = taps; ft.multiplier = m.data(); ft.bias = b.data(); ft.clamp_min = -20.0f; ft.clamp_max = 30.0f;
    BitsTransform bt;
    bt.taps = taps; bt.threshold = t.data(); bt.sign_mask = s.data();
    for (const int32_t* correction : {static_cast<const int32_t*>(nullptr), static_cast<const int32_t*>(corr.data())}) {
      std::vector<float> ref_f(n);
      std::vector<uint32_t> ref_b((n + 31) / 32);
      onebit_transform_f32_ukernel__scalar(n, pc.data(), correction, &ft, ref_f.data());
      onebit_transform_bits_ukernel__scalar(n, pc.data(), correction, &bt, ref_b.data());
      for (Isa isa : onebit::test::runnable_isas()) {
        INFO("isa=", std::string(isa_name(isa)), " n=", n, " correction=", correction != nullptr);
        const TransformConfig cfg = transform_select(isa);
        std::vector<float> f(n, NAN);
        std::vector<uint32_t> bits(ref_b.size(), 0xFFFFFFFFu);
        cfg.f32(n, pc.data(), correction, &ft, f.data());
        cfg.bits(n, pc.data(), correction, &bt, bits.data());
        CHECK(f == ref_f);
        CHECK(bits == ref_b);
      }
    }
  }
}
