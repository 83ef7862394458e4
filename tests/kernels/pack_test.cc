// Float -> bits packing (plain sign and per-channel thresholds) and unpacking, for every ukernel of the pack
// list (pack-ukernels.h) the CPU runs, by name; selection.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "kernels/test_util.h"
#include "onebit/kernels/pack.h"

using namespace onebit::kernels;

namespace {

class PackTester {
 public:
  size_t pixels = 3, channels = 1;
  uint32_t seed = 1;
  bool thresholds = false;

  void test(const PackUkernel& ukernel) const {
    INFO("ukernel=", std::string(ukernel.name), " pixels=", pixels, " channels=", channels, " thresholds=",
         thresholds, " seed=", seed);
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(-2.0f, 2.0f);
    std::vector<float> x(pixels * channels);
    for (size_t i = 0; i < x.size(); ++i) {
      switch (rng() % 8) {
        case 0: x[i] = 0.0f; break;
        case 1: x[i] = -0.0f; break;
        case 2: x[i] = std::numeric_limits<float>::quiet_NaN(); break;
        default: x[i] = u(rng);
      }
    }
    const size_t words = (channels + 31) / 32;
    std::vector<float> th(channels);
    std::vector<uint32_t> flip(words, 0), cmask(words, 0), cbits(words, 0);
    for (size_t c = 0; c < channels; ++c) {
      th[c] = (rng() % 4 == 0) ? 0.0f : u(rng);
      const uint32_t kind = rng() % 6;  // 0: constant bit, 1-2: flipped, else plain
      const uint32_t bit = uint32_t{1} << (c % 32);
      if (kind == 0) { cmask[c / 32] |= bit; if (rng() % 2) cbits[c / 32] |= bit; }
      if (kind == 1 || kind == 2) flip[c / 32] |= bit;
    }
    for (size_t c = channels; c < words * 32; ++c) cmask[c / 32] |= uint32_t{1} << (c % 32);  // padding
    QuantizeThresholds q{th.data(), flip.data(), cmask.data(), cbits.data()};

    std::vector<uint32_t> out(pixels * words, 0xA5A5A5A5u);
    pack_bits(ukernel, pixels, channels, x.data(), out.data(), thresholds ? &q : nullptr);
    for (size_t p = 0; p < pixels; ++p)
      for (size_t c = 0; c < words * 32; ++c) {
        const float v = c < channels ? x[p * channels + c] : 0.0f;
        bool expect = false;
        if (c < channels) {
          const uint32_t bit = uint32_t{1} << (c % 32);
          if (!thresholds) expect = v < 0.0f;  // -0.0 and NaN are +1
          else if (cmask[c / 32] & bit) expect = (cbits[c / 32] & bit) != 0;
          else if (flip[c / 32] & bit) expect = v > th[c];
          else expect = v < th[c];
        }
        INFO("pixel=", p, " channel=", c, " x=", v);
        REQUIRE(((out[p * words + c / 32] >> (c % 32)) & 1u) == uint32_t{expect});
      }
  }
};

}  // namespace

TEST_CASE("pack: sign and thresholds over channel counts, every ukernel") {
  uint32_t seed = 10;
  for (size_t channels : {1, 2, 3, 5, 7, 8, 9, 10, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 200})
    for (size_t pixels : {1, 4, 7})
      for (bool thresholds : {false, true}) {
        PackTester t;
        t.pixels = pixels;
        t.channels = channels;
        t.thresholds = thresholds;
        t.seed = seed++;
        onebit::test::for_each_runnable_ukernel("pack", pack_ukernels, [&](const PackUkernel& k) { t.test(k); });
      }
}

TEST_CASE("pack: zero and negative zero binarize to +1 (bit 0)") {
  const float x[4] = {0.0f, -0.0f, -1e-38f, 1e-38f};
  onebit::test::for_each_runnable_ukernel("pack", pack_ukernels, [&](const PackUkernel& k) {
    INFO("ukernel=", std::string(k.name));
    uint32_t out = 0xFFFFFFFFu;
    pack_bits(k, 1, 4, x, &out);
    CHECK(out == 0x4u);
  });
}

TEST_CASE("pack: unpack(pack(x)) round trip on ±1 data") {
  std::mt19937 rng(20);
  for (size_t channels : {1, 31, 32, 33, 64, 65, 100}) {
    INFO("channels=", channels);
    const std::vector<float> x = onebit::test::random_signs(5 * channels, rng);
    std::vector<uint32_t> bits(5 * ((channels + 31) / 32));
    pack_bits(pack_select(Isa::kScalar), 5, channels, x.data(), bits.data());
    CHECK(bits == onebit::test::pack_rows(x, channels));
    std::vector<float> back(x.size());
    unpack_bits(5, channels, bits.data(), back.data());
    CHECK(back == x);
  }
}

TEST_CASE("pack: selection picks the best listed ukernel the CPU runs, for every requested ISA") {
  size_t count = 0;
  const PackUkernel* table = pack_ukernels(&count);
  onebit::test::check_selection(table, count, [](Isa isa) -> const PackUkernel& { return pack_select(isa); });
}
