// Binary GEMM micro-kernels against a naive XOR-popcount, over M/N/K tails and rows given as segment
// pointers scattered through memory (as in-place conv windows are), every ISA: the packed-weight ukernels
// and the row-weight ones (weights read where they lie, at a row stride wider than K).
#include <algorithm>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "../../kernels/bgemm/bgemm.h"  // internal ukernel API (tests reach it by path)
#include "kernels/test_util.h"

using namespace onebit::kernels;

namespace {

int naive_popcount(uint32_t x) {
  int n = 0;
  for (; x != 0; x &= x - 1) ++n;
  return n;
}

class BgemmTester {
 public:
  size_t m = 1, n = 1, segs = 1, seg_words = 1, a_pad = 0, w_pad = 0;
  uint32_t seed = 1;

  void test(const BgemmConfig& cfg) const {
    const size_t kw = segs * seg_words;
    INFO("ukernel=", std::string(cfg.name), " m=", m, " n=", n, " segs=", segs,
         " seg_words=", seg_words, " a_pad=", a_pad, " w_pad=", w_pad, " seed=", seed);
    std::mt19937 rng(seed);
    // Segment s of row i lives at a_store[(s * m + i) * seg_stride]: segments of one row are far apart.
    const size_t seg_stride = seg_words + a_pad;
    // Weight row j at w[j * w_stride]: the words between rows are never read.
    const size_t w_stride = kw + w_pad;
    std::vector<uint32_t> a_store(segs * m * seg_stride), w(n * w_stride);
    for (uint32_t& v : a_store) v = rng();
    for (uint32_t& v : w) v = rng();
    std::vector<const uint32_t*> pointers(m * segs);
    std::vector<uint32_t> a(m * kw);  // the same rows, contiguous, for the reference
    for (size_t i = 0; i < m; ++i)
      for (size_t s = 0; s < segs; ++s) {
        pointers[i * segs + s] = a_store.data() + (s * m + i) * seg_stride;
        for (size_t k = 0; k < seg_words; ++k) a[i * kw + s * seg_words + k] = pointers[i * segs + s][k];
      }
    std::vector<uint64_t> packed(cfg.ukernel != nullptr ? bgemm_packed_chunks(cfg.nr, n, segs, seg_words) : 0);
    if (cfg.ukernel != nullptr) bgemm_pack_weights(cfg.nr, n, segs, seg_words, w.data(), w_stride, packed.data());
    const size_t c_stride = n + 3;
    std::vector<int32_t> c(m * c_stride, -7);
    for (size_t m0 = 0; m0 < m; m0 += cfg.mr) {
      const size_t mr = std::min(cfg.mr, m - m0);
      if (cfg.ukernel != nullptr) {
        cfg.ukernel(mr, n, segs, seg_words, pointers.data() + m0 * segs, packed.data(), c.data() + m0 * c_stride,
                    c_stride * 4);
      } else {
        REQUIRE((cfg.rows_ukernel != nullptr));
        cfg.rows_ukernel(mr, n, segs, seg_words, pointers.data() + m0 * segs, w.data(), w_stride,
                         c.data() + m0 * c_stride, c_stride * 4);
      }
    }
    for (size_t i = 0; i < m; ++i)
      for (size_t j = 0; j < c_stride; ++j) {
        int32_t expect = -7;
        if (j < n) {
          expect = 0;
          for (size_t k = 0; k < kw; ++k) expect += naive_popcount(a[i * kw + k] ^ w[j * w_stride + k]);
        }
        if (c[i * c_stride + j] == expect) continue;
        INFO("row=", i, " col=", j);
        REQUIRE(c[i * c_stride + j] == expect);
      }
  }
};

}  // namespace

// Every ukernel of the lists (bgemm-ukernels.h: packed and row-weight) by name, wherever the CPU runs it,
// not only the selected one.
template <typename F>
void for_each_runnable_ukernel(F f) {
  onebit::test::for_each_runnable_ukernel("bgemm", bgemm_ukernels, f);
  onebit::test::for_each_runnable_ukernel("bgemm rows", bgemm_rows_ukernels, f);
}

BgemmTester case_of(size_t m, size_t n, size_t segs, size_t seg_words, uint32_t seed) {
  BgemmTester t;
  t.m = m; t.n = n; t.segs = segs; t.seg_words = seg_words; t.a_pad = (m + n) % 3; t.w_pad = seed % 3;
  t.seed = seed;
  return t;
}

// K tails: 1, 2, 3 words, odd and even segments, 1 / 3 / 9 segments (9: a 3x3 window as 9 taps).
const size_t kSegs[] = {1, 3, 9};
const size_t kSegWords[] = {1, 2, 3, 5, 8, 9, 16, 17, 36};

TEST_CASE("bgemm: every ukernel over M 1..2MR+1, N 1..2NR+1 and K tails") {
  for_each_runnable_ukernel([](const BgemmConfig& cfg) {
    uint32_t seed = 50;
    const size_t ks = std::size(kSegs) * std::size(kSegWords);
    for (size_t m = 1; m <= 2 * cfg.mr + 1; ++m)
      for (size_t n = 1; n <= 2 * cfg.nr + 1; ++n) {
        const size_t k = (m * 7 + n) % ks;  // a K per (M, N), cycling through all of them
        case_of(m, n, kSegs[k / std::size(kSegWords)], kSegWords[k % std::size(kSegWords)], seed++).test(cfg);
      }
    for (size_t segs : kSegs)  // every K at the tile's corners
      for (size_t seg_words : kSegWords)
        for (size_t m : {size_t{1}, cfg.mr, 2 * cfg.mr + 1})
          for (size_t n : {size_t{1}, cfg.nr, cfg.nr + 1, 2 * cfg.nr + 1}) case_of(m, n, segs, seg_words, seed++).test(cfg);
  });
}

// K across every widening / flush boundary of every kernel: the AVX2 byte counters (runs of 30 64-bit
// steps, full adders over 3), the NEON 4x4 byte counters (31 steps) and 4x8 u16 counters (4095 steps),
// the row-weight byte lanes (folded every 31 32-bit words) and run lists (12 runs: 13 segments, or
// 12 * 31 = 372 words, take two), with the boundary inside a segment and between segments, odd and even
// seg_words.
TEST_CASE("bgemm: every ukernel with K across the widening and flush boundaries") {
  struct K { size_t segs, seg_words; };
  const K ks[] = {{1, 59}, {1, 60}, {1, 61}, {1, 62}, {1, 63}, {1, 64}, {1, 65}, {1, 121}, {3, 21}, {3, 40},
                  {2, 61}, {1, 8189}, {1, 8190}, {1, 8191}, {1, 8192}, {1, 8193}, {3, 2731}, {2, 8190}, {1, 16383},
                  {1, 30}, {1, 31}, {1, 32}, {1, 93}, {31, 1}, {32, 1}, {3, 11}, {12, 3}, {13, 3}, {12, 31},
                  {1, 371}, {1, 372}, {1, 373}, {12, 32}, {25, 2}};
  for_each_runnable_ukernel([&](const BgemmConfig& cfg) {
    uint32_t seed = 900;
    for (const K& k : ks) case_of(2 * cfg.mr + 1, cfg.nr + 1, k.segs, k.seg_words, seed++).test(cfg);
  });
}

// Bit-serial ukernels (bgemm.h's third ABI) by name: terms of up to 4 activation planes x 2 weight planes
// with Horner shifts 0..2, against the sum of naive popcounts weighted by 2^e; M, N tails and K tails.
TEST_CASE("bgemm: every bit-serial ukernel against weighted naive popcounts") {
  onebit::test::for_each_runnable_ukernel("bgemm serial", bgemm_serial_ukernels, [](const BgemmConfig& cfg) {
    REQUIRE((cfg.serial_ukernel != nullptr));
    uint32_t seed = 300;
    struct Case { size_t m, n, segs, seg_words, a_planes, w_planes; };
    const Case cases[] = {{1, 1, 1, 1, 1, 1},  {2 * cfg.mr + 1, 2 * cfg.nr + 1, 3, 5, 2, 1},
                          {cfg.mr, cfg.nr, 1, 8, 2, 2}, {cfg.mr + 1, cfg.nr - 1, 9, 3, 4, 1},
                          {3, 2 * cfg.nr, 3, 2, 4, 2}, {2 * cfg.mr, 1, 1, 17, 1, 2}};
    for (const Case& k : cases) {
      INFO("ukernel=", std::string(cfg.name), " m=", k.m, " n=", k.n, " segs=", k.segs, " seg_words=", k.seg_words,
           " planes=", k.a_planes, "x", k.w_planes);
      std::mt19937 rng(seed++);
      const size_t kw = k.segs * k.seg_words, w_stride = kw + 1;
      // Activation plane i: rows i * m + r, segment s at a_store[((i * m + r) * segs + s) * (seg_words + 2)].
      std::vector<uint32_t> a_store(k.a_planes * k.m * k.segs * (k.seg_words + 2)), w(k.w_planes * k.n * w_stride);
      for (uint32_t& v : a_store) v = rng();
      for (uint32_t& v : w) v = rng();
      std::vector<const uint32_t*> pointers(k.a_planes * k.m * k.segs);
      for (size_t i = 0; i < pointers.size(); ++i) pointers[i] = a_store.data() + i * (k.seg_words + 2);
      const size_t plane_chunks = bgemm_packed_chunks(cfg.nr, k.n, k.segs, k.seg_words);
      std::vector<uint64_t> packed(k.w_planes * plane_chunks);
      for (size_t j = 0; j < k.w_planes; ++j)
        bgemm_pack_weights(cfg.nr, k.n, k.segs, k.seg_words, w.data() + j * k.n * w_stride, w_stride,
                           packed.data() + j * plane_chunks);
      // Terms (i, j) in a shuffled order with random shifts; weight of term t: 2^(shifts after it).
      onebit_bgemm_terms terms{};
      std::vector<std::pair<size_t, size_t>> pairs;
      for (size_t i = 0; i < k.a_planes; ++i)
        for (size_t j = 0; j < k.w_planes; ++j) pairs.push_back({i, j});
      std::shuffle(pairs.begin(), pairs.end(), rng);
      terms.count = pairs.size();
      for (size_t t = 0; t < terms.count; ++t) {
        terms.a_offset[t] = pairs[t].first * k.m * k.segs;  // pointers of plane i, row 0 (the tile adds m0)
        terms.w_offset[t] = pairs[t].second * plane_chunks;
        terms.shift[t] = t == 0 ? 0 : rng() % 3;
      }
      const size_t c_stride = k.n + 2;
      std::vector<int32_t> c(k.m * c_stride, -7);
      for (size_t m0 = 0; m0 < k.m; m0 += cfg.mr) {
        cfg.serial_ukernel(std::min(cfg.mr, k.m - m0), k.n, k.segs, k.seg_words, pointers.data() + m0 * k.segs,
                           packed.data(), c.data() + m0 * c_stride, c_stride * 4, &terms);
      }
      for (size_t r = 0; r < k.m; ++r)
        for (size_t col = 0; col < c_stride; ++col) {
          int64_t expect = -7;
          if (col < k.n) {
            expect = 0;
            for (size_t t = 0; t < terms.count; ++t) {
              expect <<= terms.shift[t];
              const uint32_t* const* row = pointers.data() + terms.a_offset[t] + r * k.segs;
              const uint32_t* wrow = w.data() + (pairs[t].second * k.n + col) * w_stride;
              for (size_t s = 0; s < k.segs; ++s)
                for (size_t x = 0; x < k.seg_words; ++x)
                  expect += naive_popcount(row[s][x] ^ wrow[s * k.seg_words + x]);
            }
          }
          INFO("row=", r, " col=", col);
          REQUIRE(c[r * c_stride + col] == expect);
        }
    }
  });
}

TEST_CASE("bgemm: row-weight selection picks a listed row-weight ukernel the CPU runs, for every ISA") {
  size_t count = 0;
  const BgemmConfig* ukernels = bgemm_rows_ukernels(&count);
  for (Isa isa : kAllIsas) {
    const BgemmConfig cfg = bgemm_rows_select(isa, {3136, 64, 18});
    INFO("requested=", std::string(isa_name(isa)), " selected=", std::string(cfg.name));
    CHECK((cfg.ukernel == nullptr));
    CHECK(isa_allows(isa, cfg.isa));
    CHECK(isa_supported(cfg.isa));
    bool listed = false;
    for (size_t i = 0; i < count; ++i) listed |= ukernels[i].rows_ukernel == cfg.rows_ukernel && ukernels[i].mr == cfg.mr;
    CHECK(listed);
  }
}

TEST_CASE("bgemm: selection picks a listed ukernel the CPU runs, for every requested ISA and shape") {
  size_t count = 0;
  const BgemmConfig* ukernels = bgemm_ukernels(&count);
  for (Isa isa : kAllIsas)
    for (size_t n : {1, 8, 24, 64, 100, 512}) {
      const BgemmConfig cfg = bgemm_select(isa, {3136, n, 18});
      INFO("requested=", std::string(isa_name(isa)), " n=", n, " selected=", std::string(cfg.name));
      CHECK(isa_allows(isa, cfg.isa));
      CHECK(isa_supported(cfg.isa));
      bool listed = false;
      for (size_t i = 0; i < count; ++i) listed |= ukernels[i].ukernel == cfg.ukernel && ukernels[i].mr == cfg.mr;
      CHECK(listed);
    }
}
