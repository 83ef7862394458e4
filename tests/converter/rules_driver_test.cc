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
  const auto bn = [&](const std::string& name, const std::string& in, const std::string& out) {
    add_bn(t, r, name, in, out, C);
  };
  add_binary_residual_block(t, r, bn, "b0", "r1", C, 0.05f, 0.2f);
  // Block 2: Sign -> Pad(+1) -> stride-2 binary conv -> BN -> Sign -> binary MaxPool -> 1x1 binary conv.
  t.node("Sign", {"r1"}, {"b.s"}, "b.sign");
  add_pad(t, "b.pad", "b.s", "b.p", 1.0f);
  t.initializer("b.w", {C, C, 3, 3}, r.signs(size_t(C * C * 9)));
  add_conv(t, "b.conv", {"b.p", "b.w"}, "b.c", 3, 2, 0);
  bn("b.bn", "b.c", "b.bnout");
  Attrs mp = pool_attrs(3, 1);
  mp.push_back({"pads", {1, 1, 1, 1}});
  add_chain(t, "b.bnout", {{"Sign", "b.sign2", "b.s2"}, {"MaxPool", "b.maxpool", "b.mp", {}, mp}});
  t.initializer("b.w2", {C, C, 1, 1}, r.signs(size_t(C * C)));
  add_conv(t, "b.conv2", {"b.mp", "b.w2"}, "b.c2", 1, 1, 0);
  bn("b.bn2", "b.c2", "b.out");
  // Head.
  add_chain(t, "b.out", {{"GlobalAveragePool", "gap", "gap"}, {"Flatten", "flatten", "flat"}});
  add_fc(t, "fc", "flat", "logits", 10, C, r.normal(size_t(10 * C), 0.3f));
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
