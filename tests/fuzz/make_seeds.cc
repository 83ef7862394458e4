// Seed corpus of fuzz_model: small models written by ModelBuilder that together use every operator and
// option of schema v1 (float ops, quantize with thresholds / flips / constants, binary convs with each pad
// mode, stride, dilation, groups, float and bitpacked outputs, odd channel counts), and the shipped Fashion-MNIST model converted from its ONNX file.
// Usage: make_seeds OUT_DIR [REPO_ROOT]   (REPO_ROOT: converts models/fashion_mnist/bnn_resnet.onnx too)
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "convert.h"
#include "onebit/builder/model_builder.h"

namespace {

using onebit::ModelBuilder;
using onebit::Weights;

struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed * 0x9e3779b97f4a7c15ull + 1) {}
  uint32_t next() {
    s ^= s << 13; s ^= s >> 7; s ^= s << 17;
    return uint32_t(s >> 16);
  }
  float uniform(float lo, float hi) { return lo + (hi - lo) * float(next() & 0xffffff) / float(0x1000000); }
  std::vector<float> floats(size_t n, float lo = -1, float hi = 1) {
    std::vector<float> v(n);
    for (float& x : v) x = uniform(lo, hi);
    return v;
  }
};

int failures = 0;

void write(const std::string& dir, const std::string& name, ModelBuilder& b) {
  std::vector<uint8_t> bytes;
  onebit::Status s = b.finish(&bytes);
  if (!s.ok()) {
    std::fprintf(stderr, "make_seeds: %s: %s\n", name.c_str(), s.message().c_str());
    ++failures;
    return;
  }
  s = onebit::write_file_atomically(dir + "/" + name + ".fb", bytes);
  if (!s.ok()) {
    std::fprintf(stderr, "make_seeds: %s\n", s.message().c_str());
    ++failures;
  }
}

// Every float operator once.
void float_ops(const std::string& dir, int c, uint64_t seed) {
  Rng r(seed);
  ModelBuilder b;
  int x = b.add_input("input", {1, 8, 8, c});
  onebit::Conv2DParams cp;
  cp.kernel_h = cp.kernel_w = 3;
  cp.pad_top = cp.pad_left = cp.pad_bottom = cp.pad_right = 1;
  int y = b.conv2d("conv", x, 8, Weights::float32(r.floats(size_t(8) * c * 9)), r.floats(8), cp);
  y = b.relu("relu", y);
  onebit::Conv2DParams dw;
  dw.kernel_h = dw.kernel_w = 3;
  dw.stride_h = dw.stride_w = 2;
  dw.groups = 8;
  dw.pad_top = dw.pad_left = 1;
  dw.clamp_min = -1;
  dw.clamp_max = 1;
  int z = b.conv2d("depthwise", y, 8, Weights::float32(r.floats(8 * 9)), r.floats(8), dw);
  onebit::Pool2DParams mp;
  mp.kernel_h = mp.kernel_w = 2;
  mp.stride_h = mp.stride_w = 2;
  mp.pad_bottom = 1;
  int m = b.max_pool("maxpool", y, mp);
  onebit::Pool2DParams ap;
  ap.kernel_h = ap.kernel_w = 3;
  ap.stride_h = ap.stride_w = 2;
  ap.pad_top = ap.pad_left = ap.pad_bottom = ap.pad_right = 1;
  ap.count_include_pad = true;
  int a = b.avg_pool("avgpool", y, ap);
  int s = b.add("add", a, z, -3, 3);
  s = b.channel_affine("affine", s, r.floats(8), r.floats(8));
  s = b.prelu("prelu", s, r.floats(8, 0, 0.5f));
  s = b.mul("mul", s, r.floats(8));
  s = b.clamp("clamp", s, -2, 2);
  int cat = b.concat("concat", {s, m}, -1);
  cat = b.pad("pad", cat, {0, 1, 0, 0, 0, 2, 1, 0}, -0.5f);
  int g = b.global_avg_pool("gap", cat);
  g = b.reshape("reshape", g, {1, 16});
  int f = b.fully_connected("fc", g, 10, Weights::float32(r.floats(160)), r.floats(10));
  b.mark_output(b.softmax("softmax", f));
  b.mark_output(b.softmax("logsoftmax", f, true));
  write(dir, "float_ops_c" + std::to_string(c), b);
}

// Every binary operator and option: c input channels (odd counts exercise the padding bits).
void binary_ops(const std::string& dir, int c, int h, uint64_t seed) {
  Rng r(seed);
  ModelBuilder b;
  int x = b.add_input("input", {1, h, h, c});
  std::vector<bool> flip(static_cast<size_t>(c));
  std::vector<int8_t> constant(size_t(c), -1);
  for (int i = 0; i < c; ++i) flip[size_t(i)] = (i % 3) == 1;
  if (c > 2) constant[1] = 0, constant[2] = 1;
  int q = b.quantize("sign_bn", x, r.floats(size_t(c), -0.5f, 0.5f), flip, constant);

  onebit::BinaryConv2DParams p1;  // zero padding, float output with clamp
  p1.kernel_h = p1.kernel_w = 3;
  p1.pad_top = p1.pad_left = p1.pad_bottom = p1.pad_right = 1;
  p1.clamp_min = -20;
  p1.clamp_max = 20;
  const int o1 = 36;
  int y = b.binary_conv2d("bconv_zero", q, o1, r.floats(size_t(o1) * c * 9), r.floats(o1, 0.1f, 1),
                          r.floats(o1), p1);
  int res = y;
  y = b.quantize("sign", y);

  onebit::BinaryConv2DParams p2;  // +1 padding, stride 2, bitpacked output
  p2.kernel_h = p2.kernel_w = 3;
  p2.stride_h = p2.stride_w = 2;
  p2.pad_top = p2.pad_left = p2.pad_bottom = p2.pad_right = 1;
  p2.pad_mode = onebit::BinaryPadding::kOne;
  p2.bitpacked_output = true;
  const int o2 = 64;
  int z = b.binary_conv2d("bconv_one_s2", y, o2, r.floats(size_t(o2) * o1 * 9), r.floats(o2, -1, 1),
                          r.floats(o2), p2);

  onebit::BinaryConv2DParams p3;  // -1 padding, dilation 2, groups 2, float output
  p3.kernel_h = p3.kernel_w = 3;
  p3.dilation_h = p3.dilation_w = 2;
  p3.pad_top = p3.pad_left = p3.pad_bottom = p3.pad_right = 2;
  p3.pad_mode = onebit::BinaryPadding::kMinusOne;
  p3.groups = 2;
  const int o3 = 36;
  int w = b.binary_conv2d("bconv_minus_one_dil_g2", y, o3, r.floats(size_t(o3) * (o1 / 2) * 9),
                          r.floats(o3, 0.1f, 1), r.floats(o3), p3);
  w = b.add("residual", w, res);
  b.mark_output(w);

  onebit::Pool2DParams bp;
  bp.kernel_h = bp.kernel_w = 2;
  bp.stride_h = bp.stride_w = 2;
  int mp = b.binary_max_pool("bmaxpool", z, bp);
  int d = b.dequantize("dequantize", mp);
  const int hw = b.shape(d)[1] * b.shape(d)[2];
  int flat = b.reshape("flatten", d, {1, hw * o2});
  int fq = b.quantize("sign_fc", flat);
  const int k = hw * o2;
  int f1 = b.binary_fully_connected("bfc_bits", fq, 40, r.floats(size_t(40) * k), r.floats(40), r.floats(40), {true});
  int f2 = b.binary_fully_connected("bfc", f1, 10, r.floats(400), r.floats(10, 0.1f, 1), r.floats(10), {false, -5, 5});
  b.mark_output(f2);
  write(dir, "binary_ops_c" + std::to_string(c) + "_h" + std::to_string(h), b);
}

// The smallest binary model: one sign and one binary 1x1 conv.
void tiny(const std::string& dir) {
  Rng r(7);
  ModelBuilder b;
  int x = b.add_input("input", {1, 2, 2, 3});
  int q = b.quantize("sign", x);
  onebit::BinaryConv2DParams p;
  int y = b.binary_conv2d("bconv", q, 2, r.floats(6), {1, 1}, {0, 0}, p);
  b.mark_output(y);
  write(dir, "tiny", b);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: make_seeds OUT_DIR [REPO_ROOT]\n");
    return 2;
  }
  const std::string dir = argv[1];
  tiny(dir);
  float_ops(dir, 1, 1);
  float_ops(dir, 5, 2);
  binary_ops(dir, 3, 6, 3);
  binary_ops(dir, 33, 5, 4);
  binary_ops(dir, 64, 4, 5);

  onebit::Status s;
  if (argc > 2) {
    onebit::converter::ConvertResult result;
    s = onebit::converter::convert_onnx_file(std::string(argv[2]) + "/models/fashion_mnist/bnn_resnet.onnx", {},
                                             &result);
    if (s.ok()) s = onebit::write_file_atomically(dir + "/fashion_mnist_bnn_resnet.fb", result.model);
    if (!s.ok()) std::fprintf(stderr, "make_seeds: shipped model: %s\n", s.message().c_str()), ++failures;
  }
  return failures == 0 ? 0 : 1;
}
