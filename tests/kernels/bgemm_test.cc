// Binary GEMM micro-kernels against a naive XOR-popcount, over M/N/K tails and rows given as segment
// pointers scattered through memory (as in-place conv windows are), every ISA.
#include <string>
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
  size_t m = 1, n = 1, segs = 1, seg_words = 1, a_pad = 0;
  uint32_t seed = 1;

  void test(const BgemmConfig& cfg) const {
    const size_t kw = segs * seg_words;
    INFO("isa=", std::string(isa_name(cfg.isa)), " tile=", cfg.mr, "x", cfg.nr, " m=", m, " n=", n, " segs=", segs,
         " seg_words=", seg_words, " a_pad=", a_pad, " seed=", seed);
    std::mt19937 rng(seed);
    // Segment s of row i lives at a_store[(s * m + i) * seg_stride]: segments of one row are far apart.
    const size_t seg_stride = seg_words + a_pad;
    std::vector<uint32_t> a_store(segs * m * seg_stride), w(n * kw);
    for (uint32_t& v : a_store) v = rng();
    for (uint32_t& v : w) v = rng();
    std::vector<const uint32_t*> pointers(m * segs);
    std::vector<uint32_t> a(m * kw);  // the same rows, contiguous, for the reference
    for (size_t i = 0; i < m; ++i)
      for (size_t s = 0; s < segs; ++s) {
        pointers[i * segs + s] = a_store.data() + (s * m + i) * seg_stride;
        for (size_t k = 0; k < seg_words; ++k) a[i * kw + s * seg_words + k] = pointers[i * segs + s][k];
      }
    std::vector<uint64_t> packed(bgemm_packed_chunks(cfg.nr, n, segs, seg_words));
    bgemm_pack_weights(cfg.nr, n, segs, seg_words, w.data(), kw, packed.data());
    const size_t c_stride = n + 3;
    std::vector<int32_t> c(m * c_stride, -7);
    for (size_t m0 = 0; m0 < m; m0 += cfg.mr) {
      cfg.ukernel(std::min(cfg.mr, m - m0), n, segs, seg_words, pointers.data() + m0 * segs, packed.data(),
                  c.data() + m0 * c_stride, c_stride * 4);
    }
    for (size_t i = 0; i < m; ++i)
      for (size_t j = 0; j < c_stride; ++j) {
        int32_t expect = -7;
        if (j < n) {
          expect = 0;
          for (size_t k = 0; k < kw; ++k) expect += naive_popcount(a[i * kw + k] ^ w[j * kw + k]);
        }
        INFO("row=", i, " col=", j);
        REQUIRE(c[i * c_stride + j] == expect);
      }
  }
};

}  // namespace

TEST_CASE("bgemm: micro-kernels of every ISA over M/N/K tails") {
  uint32_t seed = 50;
  for (Isa isa : onebit::test::runnable_isas()) {
    const BgemmConfig cfg = bgemm_select(isa);
    for (size_t segs : {1, 2, 3})
      for (size_t kw : {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 18, 31, 32, 33, 36, 63, 65, 144})
        for (size_t m : {1, 2, 3, 4, 5, 6, 7, 13})
          for (size_t n : {1, 3, 4, 5, 8, 15, 16, 17, 31, 33, 64, 70}) {
            if ((kw + m + n + segs) % 3 != 0 && kw > 9) continue;  // thin the sweep for long K
            if (segs > 1 && (m + n) % 2 != 0) continue;
            BgemmTester t;
            t.m = m; t.n = n; t.segs = segs; t.seg_words = kw; t.a_pad = (m + n) % 3; t.seed = seed++;
            t.test(cfg);
          }
  }
}
