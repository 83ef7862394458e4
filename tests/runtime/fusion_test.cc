// BinaryConv2D fusions (issue 12): the same network built unfused (conv, Add, Quantize as separate operators)
// and fused (binary_conv2d with a BinaryConv2DFusion: residual input, FloatAndBitPacked output) gives
// byte-identical outputs - the float stream, the bits (through a Dequantize) and the next block's output - on
// several shapes, channel counts that are not multiples of 32, plain sign and thresholds with flips and
// constants, k-bit inputs, strided convs with a separate residual, one and two threads; and (issue 20) the
// FloatAndLevels form, whose second output is a QuantizeLevels of y (Unipolar, Bipolar, Ternary).
#include <cstring>

#include "runtime_test_util.h"
#include "synth/bireal.h"

using namespace onebit;
using namespace onebit::test;

namespace {

struct FusionCase {
  int n, h, w, c, stride;
  bool thresholds;  // else the Quantize is a plain sign
  bool kbit;        // first conv reads 2-bit Unipolar levels of x
  float clamp_min, clamp_max;
  // Issue 20: b1 is a QuantizeLevels of y1 with these levels (FloatAndLevels when fused) instead of a
  // Quantize; kBinary: the Quantize.
  LevelKind next = LevelKind::kBinary;
  int next_bits = 1;
};

/// Per-channel Quantize options: thresholds around 0, every 5th channel flipped, every 7th constant.
struct QuantizeSpec {
  std::vector<float> threshold;
  std::vector<bool> flip;
  std::vector<int8_t> constant;
};
QuantizeSpec quantize_spec(int c, bool thresholds, uint32_t seed) {
  QuantizeSpec q;
  if (!thresholds) return q;
  q.threshold = uniform(size_t(c), seed, -2.0f, 2.0f);
  q.flip.assign(size_t(c), false);
  q.constant.assign(size_t(c), -1);
  for (int i = 0; i < c; ++i) {
    q.flip[size_t(i)] = i % 5 == 1;
    if (i % 7 == 3) q.constant[size_t(i)] = int8_t(i % 2);
  }
  return q;
}

/// Two Bi-Real blocks: y1 = Add(conv1(sign x), r1), b1 = Quantize(y1), y2 = Add(conv2(b1), y1); outputs y1,
/// Dequantize(b1), y2. r1 is x (stride 1) or a separate input of y1's shape (stride 2).
std::vector<std::vector<float>> run_blocks(const FusionCase& t, bool fuse, int threads) {
  ModelBuilder b;
  const int x = b.add_input("x", {t.n, t.h, t.w, t.c});
  BinaryConv2DParams p;
  p.kernel_h = p.kernel_w = 3;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 1;
  p.stride_h = p.stride_w = t.stride;
  const int oh = (t.h - 1) / t.stride + 1, ow = (t.w - 1) / t.stride + 1;
  const int r1 = t.stride == 1 ? x : b.add_input("r1", {t.n, oh, ow, t.c});
  Levels levels;
  levels.kind = LevelKind::kUnipolar;
  levels.bits = 2;
  levels.scale = 0.5f;
  const int q0 = t.kbit ? b.quantize_levels("q0", x, levels, std::vector<float>(size_t(t.c), 1.5f),
                                            std::vector<float>(size_t(t.c), 1.0f))
                        : b.quantize("q0", x);
  const std::vector<float> w1 = signs(size_t(t.c) * t.c * 9, 11), w2 = signs(size_t(t.c) * t.c * 9, 12);
  const std::vector<float> m1 = uniform(size_t(t.c), 13, -0.2f, 0.2f), m2 = uniform(size_t(t.c), 14, -0.2f, 0.2f);
  const std::vector<float> c1 = uniform(size_t(t.c), 15, -1.0f, 1.0f), c2 = uniform(size_t(t.c), 16, -1.0f, 1.0f);
  const QuantizeSpec q = quantize_spec(t.c, t.thresholds, 17);
  Levels next;
  next.kind = t.next;
  next.bits = t.next_bits;
  next.scale = 0.25f;
  // Scales of both signs and a zero (a channel that rounds one constant level), shifts across the levels.
  std::vector<float> level_scale = uniform(size_t(t.c), 18, -1.5f, 1.5f);
  const std::vector<float> level_shift = uniform(size_t(t.c), 19, -1.0f, 3.0f);
  level_scale[0] = 0.0f;
  int y1, b1, y2;
  if (!fuse) {
    y1 = b.add("add1", b.binary_conv2d("conv1", q0, t.c, w1, m1, c1, p), r1, t.clamp_min, t.clamp_max);
    b1 = t.next == LevelKind::kBinary ? b.quantize("q1", y1, q.threshold, q.flip, q.constant)
                                      : b.quantize_levels("q1", y1, next, level_scale, level_shift);
    BinaryConv2DParams p2 = p;
    p2.stride_h = p2.stride_w = 1;
    // The Add's operands the other way round: float addition is commutative, the fusion must not care.
    y2 = b.add("add2", y1, b.binary_conv2d("conv2", b1, t.c, w2, m2, c2, p2));
  } else {
    BinaryConv2DFusion f1;
    f1.residual = r1;
    if (t.next == LevelKind::kBinary) {
      f1.quantize = true;
      f1.threshold = q.threshold;
      f1.flip = q.flip;
      f1.constant = q.constant;
    } else {
      f1.quantize_levels = true;
      f1.levels = next;
      f1.level_scale = level_scale;
      f1.level_shift = level_shift;
    }
    BinaryConv2DParams p1 = p;
    p1.clamp_min = t.clamp_min;
    p1.clamp_max = t.clamp_max;
    y1 = b.binary_conv2d("conv1", q0, t.c, w1, m1, c1, p1, f1, &b1);
    BinaryConv2DFusion f2;
    f2.residual = y1;
    BinaryConv2DParams p2 = p;
    p2.stride_h = p2.stride_w = 1;
    y2 = b.binary_conv2d("conv2", b1, t.c, w2, m2, c2, p2, f2);
  }
  b.mark_output(y1);
  b.mark_output(b.dequantize("bits1", b1));
  b.mark_output(y2);
  InterpreterOptions o;
  o.threads = threads;
  Loaded l = load(b, o);
  std::vector<std::vector<float>> inputs = {uniform(count({t.n, t.h, t.w, t.c}), 21, -3.0f, 3.0f)};
  if (t.stride != 1) inputs.push_back(uniform(count({t.n, oh, ow, t.c}), 22, -3.0f, 3.0f));
  std::vector<std::vector<float>> outputs;
  for (size_t k = 0; k < 3; ++k) outputs.push_back(run(*l.interp, inputs, k));
  return outputs;
}

}  // namespace

TEST_CASE("fusion: residual + FloatAndBitPacked / FloatAndLevels BinaryConv2D equals the separate ops byte for byte") {
  const float inf = __builtin_huge_valf();
  const FusionCase cases[] = {
      {1, 5, 6, 20, 1, false, false, -inf, inf}, {2, 7, 7, 45, 1, true, false, -inf, inf},
      {1, 4, 9, 64, 1, true, false, -1.0f, 2.5f}, {1, 3, 3, 33, 1, true, false, 0.0f, inf},
      {1, 8, 6, 31, 2, true, false, -inf, inf},  {1, 6, 5, 70, 1, true, true, -inf, inf},
      {2, 5, 5, 9, 1, false, true, -0.5f, 0.75f}, {1, 9, 7, 40, 2, true, true, -inf, inf},
      // FloatAndLevels (issue 20): the next block's k-bit quantizer written by the conv.
      {1, 6, 5, 70, 1, false, true, -inf, inf, LevelKind::kUnipolar, 2},
      {2, 5, 7, 33, 1, false, false, -1.0f, 2.5f, LevelKind::kUnipolar, 4},
      {1, 8, 6, 40, 2, false, true, -inf, inf, LevelKind::kBipolar, 3},
      {1, 7, 7, 64, 1, false, false, -inf, inf, LevelKind::kTernary, 2},
  };
  for (const FusionCase& t : cases)
    for (int threads : {1, 2}) {
      CAPTURE(t.n); CAPTURE(t.h); CAPTURE(t.w); CAPTURE(t.c); CAPTURE(t.stride); CAPTURE(t.thresholds);
      CAPTURE(t.kbit); CAPTURE(t.clamp_min); CAPTURE(t.clamp_max); CAPTURE(int(t.next)); CAPTURE(t.next_bits);
      CAPTURE(threads);
      const auto unfused = run_blocks(t, false, threads), fused = run_blocks(t, true, threads);
      for (size_t k = 0; k < 3; ++k) {
        CAPTURE(k);
        REQUIRE(unfused[k].size() == fused[k].size());
        CHECK(std::memcmp(unfused[k].data(), fused[k].data(), fused[k].size() * sizeof(float)) == 0);
      }
      // Not trivially equal: the bits / levels are not all one value.
      size_t other = 0;
      for (float v : fused[1]) other += v != fused[1][0];
      CHECK(other > 0);
    }
}

TEST_CASE("fusion: synthetic Bi-Real-18, fused (one op per block) and unfused, give the same bytes") {
  for (int bits : {1, 2}) {
    CAPTURE(bits);
    std::vector<float> outs[2];
    size_t ops[2] = {0, 0};
    for (int fuse = 0; fuse < 2; ++fuse) {
      synth::BiRealOptions o = bireal_options(64, bits);
      o.fuse = fuse != 0;
      const std::unique_ptr<Model> model = load_model(bireal_bytes(o));
      ops[fuse] = model->operators().size();
      std::unique_ptr<Interpreter> interp;
      REQUIRE(Interpreter::create(*model, {}, &interp).ok());
      outs[fuse] = run(*interp, {uniform(64 * 64 * 3, 31, -2.0f, 2.0f)});
    }
    REQUIRE(outs[0].size() == outs[1].size());
    CHECK(std::memcmp(outs[0].data(), outs[1].data(), outs[0].size() * sizeof(float)) == 0);
    // Unfused: 16 blocks of Sign (or QuantizeLevels) + BinaryConv2D + Add; fused: 16 BinaryConv2D (+ the first
    // Sign or QuantizeLevels: each block writes the next block's, FloatAndBitPacked / FloatAndLevels).
    CHECK(ops[0] - ops[1] == 31u);
  }
}
