// Bitpacked-output thresholds agree exactly with the float expression fl(fl(m * dot) + b) < 0 at every dot;
// every ukernel pair of the transform list (transform.h) the CPU runs, by name, equals the plain
// expression; selection.
#include <algorithm>
#include <cmath>
#include <cstring>
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

TEST_CASE("transform: every ukernel pair equals the plain expression (blocks of pixels, some corrected)") {
  std::mt19937 rng(31);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  const float inf = std::numeric_limits<float>::infinity();
  for (size_t n : {1, 7, 8, 9, 16, 17, 31, 32, 33, 47, 64, 65, 100})
    for (size_t pixels : {1, 3, 7}) {
      const int32_t taps = 300;
      std::vector<int32_t> pc(pixels * n), corr(pixels * n);
      std::vector<float> m(n), b(n);
      for (int32_t& v : pc) v = 10 + int32_t(rng() % 281);  // with corrections, dot stays in [-taps, taps]
      for (int32_t& v : corr) v = int32_t(rng() % 41) - 20;
      for (size_t c = 0; c < n; ++c) {
        m[c] = (rng() % 5 == 0) ? 0.0f : u(rng);
        b[c] = u(rng) * 50.0f;
      }
      if (n > 2) m[2] = std::numeric_limits<float>::quiet_NaN();  // NaN passes through unclamped
      std::vector<int32_t> t(n), s(n);
      bits_transform_thresholds(n, taps, m.data(), b.data(), t.data(), s.data());
      // Every other pixel corrected (pixel 0 always), so blocks mix corrected and plain pixels.
      std::vector<const int32_t*> mixed(pixels);
      for (size_t i = 0; i < pixels; ++i) mixed[i] = i % 2 == 0 ? corr.data() + i * n : nullptr;
      BitsTransform bt;
      bt.taps = taps; bt.threshold = t.data(); bt.sign_mask = s.data();
      for (const int32_t* const* correction : {static_cast<const int32_t* const*>(nullptr), static_cast<const int32_t* const*>(mixed.data())})
        for (bool clamp : {true, false}) {
          FloatTransform ft;
          ft.taps = taps; ft.multiplier = m.data(); ft.bias = b.data();
          ft.clamp_min = clamp ? -20.0f : -inf;
          ft.clamp_max = clamp ? 30.0f : inf;
          // Reference: the plain expression per value, written here.
          const size_t words = (n + 31) / 32;
          std::vector<float> ref_f(pixels * n);
          std::vector<uint32_t> ref_b(pixels * words, 0);
          for (size_t i = 0; i < pixels; ++i)
            for (size_t c = 0; c < n; ++c) {
              const int32_t* ci = correction != nullptr ? correction[i] : nullptr;
              const int32_t dot = taps - 2 * pc[i * n + c] - (ci != nullptr ? ci[c] : 0);
              const float product = m[c] * float(dot);
              const float y = product + b[c];
              ref_f[i * n + c] = std::min(std::max(y, ft.clamp_min), ft.clamp_max);
              if (y < 0.0f) ref_b[i * words + c / 32] |= uint32_t{1} << (c % 32);
            }
          onebit::test::for_each_runnable_ukernel("transform", transform_ukernels, [&](const TransformConfig& cfg) {
            INFO("ukernel=", std::string(cfg.name), " n=", n, " pixels=", pixels,
                 " correction=", correction != nullptr, " clamp=", clamp);
            std::vector<float> f(pixels * n, 12345.0f);
            std::vector<uint32_t> bits(ref_b.size(), 0xFFFFFFFFu);
            cfg.f32(pixels, n, pc.data(), correction, &ft, f.data());
            cfg.bits(pixels, n, pc.data(), correction, &bt, bits.data());
            for (size_t k = 0; k < f.size(); ++k) {
              INFO("index=", k, " got=", f[k], " want=", ref_f[k]);
              CHECK(std::memcmp(&f[k], &ref_f[k], sizeof(float)) == 0);  // bit-exact, NaN included
            }
            CHECK(bits == ref_b);
          });
        }
    }
}

// Residual fusion (issue 12): y = clamp(fl(fl(fl(m * dot) + b) + r)), the Add of r folded into the conv.
// Residuals include the values where SIMD and scalar arithmetic could part: -0, denormals, infinities, NaN,
// exact cancellations (r = -(m * dot + b)) and sums that underflow to denormals.
TEST_CASE("transform: f32 ukernels with a residual, each by name, equal the plain expression") {
  std::mt19937 rng(32);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const float specials[] = {0.0f, -0.0f, 1e-40f, -1e-40f, 1.17549435e-38f, inf, -inf, nan, 3.0f};
  for (size_t n : {1, 3, 4, 7, 8, 9, 15, 16, 17, 31, 32, 33, 64, 65, 100})
    for (size_t pixels : {1, 2, 5}) {
      const int32_t taps = 200;
      std::vector<int32_t> pc(pixels * n), corr(pixels * n);
      std::vector<float> m(n), b(n), r(pixels * n);
      for (int32_t& v : pc) v = 10 + int32_t(rng() % 181);
      for (int32_t& v : corr) v = int32_t(rng() % 21) - 10;
      for (size_t c = 0; c < n; ++c) {
        m[c] = (rng() % 7 == 0) ? 0.0f : u(rng);
        b[c] = u(rng) * 30.0f;
      }
      std::vector<const int32_t*> mixed(pixels);
      for (size_t i = 0; i < pixels; ++i) mixed[i] = i % 2 == 0 ? corr.data() + i * n : nullptr;
      for (size_t i = 0; i < pixels; ++i)
        for (size_t c = 0; c < n; ++c) {
          float& ri = r[i * n + c];
          const int32_t dot = taps - 2 * pc[i * n + c] - (mixed[i] != nullptr ? mixed[i][c] : 0);
          const float y = m[c] * float(dot) + b[c];
          switch (rng() % 6) {
            case 0: ri = specials[rng() % (sizeof(specials) / sizeof(specials[0]))]; break;
            case 1: ri = -y; break;                                       // exact cancellation
            case 2: ri = std::nextafter(-y, rng() % 2 ? inf : -inf); break;  // tiny or denormal sum
            default: ri = u(rng) * 40.0f;
          }
        }
      for (bool clamp : {true, false}) {
        FloatTransform ft;
        ft.taps = taps; ft.multiplier = m.data(); ft.bias = b.data(); ft.residual = r.data();
        ft.clamp_min = clamp ? -15.0f : -inf;
        ft.clamp_max = clamp ? 25.0f : inf;
        std::vector<float> want(pixels * n);
        for (size_t i = 0; i < pixels; ++i)
          for (size_t c = 0; c < n; ++c) {
            const int32_t dot = taps - 2 * pc[i * n + c] - (mixed[i] != nullptr ? mixed[i][c] : 0);
            const float product = m[c] * float(dot);
            const float y = product + b[c];
            const float with_residual = y + r[i * n + c];
            want[i * n + c] = std::min(std::max(with_residual, ft.clamp_min), ft.clamp_max);
          }
        onebit::test::for_each_runnable_ukernel("transform", transform_ukernels, [&](const TransformConfig& k) {
          INFO("onebit_transform_f32_ukernel_", std::string(k.name), " n=", n, " pixels=", pixels, " clamp=", clamp);
          std::vector<float> got(pixels * n, 12345.0f);
          k.f32(pixels, n, pc.data(), mixed.data(), &ft, got.data());
          for (size_t q = 0; q < got.size(); ++q) {
            INFO("index=", q, " got=", got[q], " want=", want[q], " residual=", r[q]);
            CHECK(std::memcmp(&got[q], &want[q], sizeof(float)) == 0);  // bit-exact, NaN and -0 included
          }
        });
      }
    }
}

// FloatAndBitPacked in one pass: each float-and-bits ukernel by name writes the floats of the plain
// expression and the bits Quantize makes of them: (y < t), or (y > t) on flipped channels, constant bits
// where const_mask is set, or plain sign without thresholds. Thresholds equal to some outputs (ties), NaN
// outputs (multiplier NaN), -0 thresholds; with and without residual, clamp, corrections.
TEST_CASE("transform: float-and-bits ukernels, each by name, equal the floats and Quantize's bits of them") {
  std::mt19937 rng(33);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  const float inf = std::numeric_limits<float>::infinity();
  for (size_t n : {1, 16, 17, 32, 33, 64, 100})
    for (size_t pixels : {1, 4}) {
      const int32_t taps = 200;
      const size_t words = (n + 31) / 32;
      std::vector<int32_t> pc(pixels * n), corr(pixels * n);
      std::vector<float> m(n), b(n), r(pixels * n), t(n);
      std::vector<uint32_t> flip(words), cmask(words), cbits(words);
      for (int32_t& v : pc) v = 10 + int32_t(rng() % 181);
      for (int32_t& v : corr) v = int32_t(rng() % 21) - 10;
      for (float& v : r) v = u(rng) * 10.0f;
      for (size_t c = 0; c < n; ++c) {
        m[c] = (rng() % 7 == 0) ? 0.0f : u(rng);
        b[c] = u(rng) * 30.0f;
        t[c] = c % 5 == 0 ? m[c] * float(taps - 2 * pc[c]) + b[c] : c % 5 == 1 ? -0.0f : u(rng) * 10.0f;  // ties
      }
      if (n > 3) m[3] = std::numeric_limits<float>::quiet_NaN();
      for (size_t w = 0; w < words; ++w) {
        flip[w] = rng(), cmask[w] = rng() & rng() & rng(), cbits[w] = rng();
        cmask[w] |= ~onebit::channel_mask(n, w);  // padding channels: const_mask 1, const_bits 0 (pack.h)
        cbits[w] &= onebit::channel_mask(n, w);
      }
      QuantizeThresholds q;
      q.threshold = t.data(); q.flip = flip.data(); q.const_mask = cmask.data(); q.const_bits = cbits.data();
      std::vector<const int32_t*> mixed(pixels);
      for (size_t i = 0; i < pixels; ++i) mixed[i] = i % 2 == 0 ? corr.data() + i * n : nullptr;
      for (int variant = 0; variant < 8; ++variant) {
        const bool clamp = variant & 1, residual = variant & 2, thresholds = variant & 4;
        FloatTransform ft;
        ft.taps = taps; ft.multiplier = m.data(); ft.bias = b.data();
        ft.residual = residual ? r.data() : nullptr;
        ft.clamp_min = clamp ? -15.0f : -inf;
        ft.clamp_max = clamp ? 25.0f : inf;
        std::vector<float> want(pixels * n);
        std::vector<uint32_t> want_bits(pixels * words, 0);
        for (size_t i = 0; i < pixels; ++i)
          for (size_t c = 0; c < n; ++c) {
            const int32_t dot = taps - 2 * pc[i * n + c] - (mixed[i] != nullptr ? mixed[i][c] : 0);
            const float product = m[c] * float(dot);
            float y = product + b[c];
            if (residual) y = y + r[i * n + c];
            y = std::min(std::max(y, ft.clamp_min), ft.clamp_max);
            want[i * n + c] = y;
            const uint32_t bit = uint32_t{1} << (c % 32);
            bool neg = y < 0.0f;
            if (thresholds) {
              neg = (flip[c / 32] & bit) ? y > t[c] : y < t[c];
              if (cmask[c / 32] & bit) neg = (cbits[c / 32] & bit) != 0;
            }
            if (neg) want_bits[i * words + c / 32] |= bit;
          }
        onebit::test::for_each_runnable_ukernel(
            "transform f32-bits", transform_f32_bits_ukernels, [&](const TransformF32BitsConfig& k) {
              INFO("onebit_transform_f32_bits_ukernel_", std::string(k.name), " n=", n, " pixels=", pixels,
                   " clamp=", clamp, " residual=", residual, " thresholds=", thresholds);
              std::vector<float> got(pixels * n, 12345.0f);
              std::vector<uint32_t> got_bits(pixels * words, 0xFFFFFFFFu);
              k.fn(pixels, n, pc.data(), mixed.data(), &ft, got.data(), thresholds ? &q : nullptr, got_bits.data());
              for (size_t e = 0; e < got.size(); ++e) {
                INFO("index=", e, " got=", got[e], " want=", want[e]);
                CHECK(std::memcmp(&got[e], &want[e], sizeof(float)) == 0);  // bit-exact, NaN and -0 included
              }
              CHECK(got_bits == want_bits);
            });
      }
    }
}

TEST_CASE("transform: selection picks the best listed ukernel pair the CPU runs, for every requested ISA") {
  size_t count = 0;
  const TransformConfig* table = transform_ukernels(&count);
  onebit::test::check_selection(table, count, [](Isa isa) -> const TransformConfig& { return transform_select(isa); });
}
