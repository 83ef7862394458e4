#include "synth/bireal.h"

#include <cmath>
#include <random>
#include <string>

#include "onebit/builder/model_builder.h"

namespace onebit::synth {
namespace {

/// The random weights of the synthetic network (fixed seed).
class RandomWeights {
 public:
  explicit RandomWeights(uint64_t seed) : rng_(seed) {}
  std::vector<float> normal(size_t n, float stddev) {
    std::normal_distribution<float> d(0.0f, stddev);
    std::vector<float> v(n);
    for (float& x : v) x = d(rng_);
    return v;
  }
  std::vector<float> uniform(size_t n, float lo, float hi) {
    std::uniform_real_distribution<float> d(lo, hi);
    std::vector<float> v(n);
    for (float& x : v) x = d(rng_);
    return v;
  }
  std::vector<float> signs(size_t n) {
    std::vector<float> v(n);
    for (float& x : v) x = (rng_() & 1) ? 1.0f : -1.0f;
    return v;
  }

 private:
  std::mt19937_64 rng_;
};

struct Net {
  ModelBuilder& b;
  RandomWeights& w;
  bool float_reference;
  int activation_bits;
  bool fuse;

  // Sign -> binary 3x3 conv (zero padding) with output transform y = multiplier * dot + bias, where the
  // multiplier stands for alpha * gamma / sigma of a folded BatchNorm, then + shortcut. Fused: one op, reading
  // `bits` (x's Sign or k-bit levels written by the previous block, or -1) and writing *bits_out (next_sign:
  // the next block's Sign or QuantizeLevels) itself.
  int binary_block(const std::string& name, int x, int out_c, int stride, int shortcut, int bits, bool next_sign,
                   int* bits_out) {
    const int in_c = b.shape(x)[3];
    const size_t taps = size_t(9) * in_c;
    std::vector<float> wts = w.signs(size_t(out_c) * taps);
    const float levels = float((1 << activation_bits) - 1);  // max |L_x|: 1 for Sign, n for k-bit
    std::vector<float> mult = w.uniform(out_c, 0.5f, 1.5f);
    for (float& m : mult) m /= std::sqrt(float(taps)) * levels;
    std::vector<float> bias = w.normal(out_c, 0.1f);
    BinaryConv2DParams p;
    p.kernel_h = p.kernel_w = 3;
    p.stride_h = p.stride_w = stride;
    p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 1;
    p.pad_mode = BinaryPadding::kZero;
    int q = bits;  // fused: x's Sign came with x (the previous block's FloatAndBitPacked output)
    if (q < 0 && activation_bits == 1) {
      q = b.quantize(name + "/sign", x);
    } else if (q < 0) {
      Levels lv;
      lv.kind = LevelKind::kUnipolar;
      lv.bits = activation_bits;
      const std::vector<float> half(size_t(in_c), levels / 2.0f);
      q = b.quantize_levels(name + "/quantize", x, lv, half, half);
    }
    if (!float_reference && fuse) {
      BinaryConv2DFusion f;
      f.residual = shortcut;
      f.quantize = next_sign && activation_bits == 1;
      f.quantize_levels = next_sign && activation_bits > 1;  // FloatAndLevels: the next block's quantizer
      if (f.quantize_levels) {
        f.levels.kind = LevelKind::kUnipolar;
        f.levels.bits = activation_bits;
        f.level_scale = f.level_shift = std::vector<float>(size_t(out_c), levels / 2.0f);
      }
      return b.binary_conv2d(name + "/bconv", q, out_c, wts, mult, bias, p, f, bits_out);
    }
    if (!float_reference)
      return b.add(name + "/residual", b.binary_conv2d(name + "/bconv", q, out_c, wts, mult, bias, p), shortcut);
    // Reference twin: the same arithmetic in float (levels as floats; zero padding is the float conv's own).
    const int pm1 = b.dequantize(name + "/levels", q);
    const int dot = b.conv2d(name + "/conv", pm1, out_c, Weights::float32(wts), std::vector<float>(out_c, 0.0f), p);
    return b.add(name + "/residual", b.channel_affine(name + "/bn", dot, mult, bias), shortcut);
  }

  int float_conv(const std::string& name, int x, int out_c, int k, int stride, int pad) {
    const int in_c = b.shape(x)[3];
    Conv2DParams p;
    p.kernel_h = p.kernel_w = k;
    p.stride_h = p.stride_w = stride;
    p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = pad;
    const float stddev = std::sqrt(2.0f / float(in_c * k * k));
    return b.conv2d(name, x, out_c, Weights::float32(w.normal(size_t(out_c) * in_c * k * k, stddev)),
                    w.normal(out_c, 0.05f), p);
  }
};

}  // namespace

Status build_bireal18(const BiRealOptions& o, std::vector<uint8_t>* model_bytes) {
  if (o.input_h < 32 || o.input_w < 32 || o.input_c < 1 || o.classes < 1)
    return Status::Error("bireal18: input must be at least 32x32 with >= 1 channel and >= 1 class");
  if (o.activation_bits < 1 || o.activation_bits > 4)
    return Status::Error("bireal18: activation bits must be 1..4, not " + std::to_string(o.activation_bits));
  ModelBuilder b;
  RandomWeights w(o.seed);
  Net net{b, w, o.float_reference, o.activation_bits, o.fuse};

  int x = b.add_input("input", {1, o.input_h, o.input_w, o.input_c});
  x = net.float_conv("stem/conv7x7", x, 64, 7, 2, 3);
  Pool2DParams mp;
  mp.kernel_h = mp.kernel_w = 3;
  mp.stride_h = mp.stride_w = 2;
  mp.pad_top = mp.pad_left = mp.pad_bottom = mp.pad_right = 1;
  x = b.max_pool("stem/maxpool", x, mp);

  const int widths[4] = {64, 128, 256, 512};
  int bits = -1;  // fused: the Sign of x, written by the block that wrote x
  for (int stage = 0; stage < 4; ++stage) {
    for (int block = 0; block < 4; ++block) {
      const std::string name = "stage" + std::to_string(stage + 1) + "/block" + std::to_string(block + 1);
      const bool down = stage > 0 && block == 0;
      int shortcut = x;
      if (down) {
        Pool2DParams ap;
        ap.kernel_h = ap.kernel_w = 2;
        ap.stride_h = ap.stride_w = 2;
        shortcut = b.avg_pool(name + "/shortcut/avgpool", x, ap);
        shortcut = net.float_conv(name + "/shortcut/conv1x1", shortcut, widths[stage], 1, 1, 0);
      }
      const bool next_sign = o.fuse && !o.float_reference && !(stage == 3 && block == 3);
      int bits_out = -1;
      x = net.binary_block(name, x, widths[stage], down ? 2 : 1, shortcut, bits, next_sign, &bits_out);
      bits = bits_out;
    }
  }
  x = b.global_avg_pool("head/global_pool", x);
  const int c = b.shape(x)[1];
  x = b.fully_connected("head/fc", x, o.classes,
                        Weights::float32(w.normal(size_t(o.classes) * c, 1.0f / std::sqrt(float(c)))),
                        w.normal(o.classes, 0.01f));
  b.mark_output(x);

  ModelMetadata meta;
  meta.producer = "onebit-synth";
  meta.source = std::string("bireal18") + (o.activation_bits > 1 ? " W1A" + std::to_string(o.activation_bits) : "") +
                (o.float_reference ? " (float reference)" : "") + (o.fuse || o.float_reference ? "" : " (unfused)");
  meta.input_shape = {1, o.input_h, o.input_w, o.input_c};
  b.set_metadata(meta);
  return b.finish(model_bytes);
}

}  // namespace onebit::synth
