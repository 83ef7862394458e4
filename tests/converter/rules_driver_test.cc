// Rewrite-rule tests: the rewrite driver (rewrite.cc).
// Helpers and conventions: rules_test_util.h.
#include "rules_test_util.h"

using namespace rules_test;

// =========================================================================================================
// The driver (rewrite.cc)

TEST_CASE("rules: rewrite_to_fixed_point reaches a fixed point on a small binary ResNet") {
  const int64_t C = 8;
  Rng r(20);
  OnnxTestGraph t;
  t.input("x", {1, 3, 8, 8});
  t.initializer("stem.w", {C, 3, 3, 3}, r.normal(size_t(C * 27), 0.3f));
  add_conv(t, "stem", {"x", "stem.w"}, "c0", 3, 1, 1);
  add_bn(t, r, "bn0", "c0", "b0", C);
  // Block 1: BN -> Sign -> binary conv (zero pad) x alpha -> BN, + residual.
  add_bn(t, r, "a.bn_in", "b0", "a.pre", C);
  t.node("Sign", {"a.pre"}, {"a.s"}, "a.sign");
  t.initializer("a.w", {C, C, 3, 3}, r.signs(size_t(C * C * 9)));
  add_conv(t, "a.conv", {"a.s", "a.w"}, "a.c", 3, 1, 1);
  t.initializer("a.alpha", {1, C, 1, 1}, r.uniform(size_t(C), 0.05f, 0.2f));
  t.node("Mul", {"a.c", "a.alpha"}, {"a.m"}, "a.mul");
  add_bn(t, r, "a.bn", "a.m", "a.bnout", C);
  t.node("Add", {"a.bnout", "b0"}, {"r1"}, "a.add");
  // Block 2: Sign -> Pad(+1) -> stride-2 binary conv -> BN -> Sign -> binary MaxPool -> 1x1 binary conv.
  t.node("Sign", {"r1"}, {"b.s"}, "b.sign");
  add_pad(t, "b.pad", "b.s", "b.p", 1.0f);
  t.initializer("b.w", {C, C, 3, 3}, r.signs(size_t(C * C * 9)));
  add_conv(t, "b.conv", {"b.p", "b.w"}, "b.c", 3, 2, 0);
  add_bn(t, r, "b.bn", "b.c", "b.bnout", C);
  t.node("Sign", {"b.bnout"}, {"b.s2"}, "b.sign2");
  auto& mp = add_pool(t, "MaxPool", "b.maxpool", "b.s2", "b.mp", 3, 1);
  attr_ints(mp, "pads", {1, 1, 1, 1});
  t.initializer("b.w2", {C, C, 1, 1}, r.signs(size_t(C * C)));
  add_conv(t, "b.conv2", {"b.mp", "b.w2"}, "b.c2", 1, 1, 0);
  add_bn(t, r, "b.bn2", "b.c2", "b.out", C);
  // Head.
  t.node("GlobalAveragePool", {"b.out"}, {"gap"}, "gap");
  t.node("Flatten", {"gap"}, {"flat"}, "flatten");
  t.initializer("fc.w", {10, C}, r.normal(size_t(10 * C), 0.3f));
  auto& fc = t.node("Gemm", {"flat", "fc.w"}, {"logits"}, "fc");
  OnnxTestGraph::attr(fc, "transB", int64_t(1));
  t.output("logits");

  Rewritten rw = rewrite(t);
  CHECK(rw.count(cv::ops::kBinaryConv2D) == 3);
  CHECK(rw.count(cv::ops::kBinaryMaxPool2D) == 1);
  CHECK(rw.count("Sign") == 0);
  CHECK(rw.count("Mul") == 0);
  CHECK(rw.fired("bitpacked_output") >= 1);
  bool changed = true;
  cv::RewriteLog again;
  Status s = cv::rewrite_once(&rw.g, {}, &again, &changed);
  REQUIRE_MESSAGE(s.ok(), s.message());
  CHECK_FALSE(changed);
  CHECK(again.fired.empty());
  check_end_to_end(t, RefTensor{{1, 3, 8, 8}, r.normal(192)}, "logits", {}, 1e-3);
}
