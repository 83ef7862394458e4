// The portable float kernels with 1-bit weights (conv2d_binary_weights_f32, fully_connected_binary_weights_f32)
// against references written here:
//  - a double-precision reference of sum x * scale * (1 - 2 * bit) + bias, within the rounding bound of a
//    float sum of n terms (float_test_util.h);
//  - a naive float loop in the order float.h documents (acc + (bit ? -x : x) over the taps, then * scale,
//    + bias, clamp), which the kernels must match bit for bit (the Cortex-M build relies on that order);
//  - conv2d_f32 / fully_connected_f32 on the same weights expanded to ±1.0f, with scale 1: the same sums in
//    the same order, so the same bits (a check of the packed layout against the float kernels' indexing);
//  - row ranges that split the work, which must give the same bits as the whole range.
// The bits are packed here, independently of kernels/pack, as the model stores them: rows (o, ky, kx) of
// in_c / groups bits, each row starting on a 32-bit word; the unused bits of a row's last word are set to
// garbage, which the kernels must never read.
#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include <doctest/doctest.h>

#include "common/conv_reference.h"
#include "kernels/float_test_util.h"
#include "onebit/kernels/float.h"

using namespace onebit::kernels;
using namespace onebit::test;

namespace {

/// Random 1-bit weights: `rows` rows of `row` bits, each row on its own words, garbage past `row`.
struct PackedBits {
  size_t row, words_per_row;
  std::vector<uint32_t> words;
  int bit(size_t r, size_t i) const { return int(words[r * words_per_row + i / 32] >> (i % 32)) & 1; }
  float sign(size_t r, size_t i) const { return bit(r, i) ? -1.0f : 1.0f; }
};

PackedBits random_bits(size_t rows, size_t row, uint32_t seed) {
  PackedBits b{row, (row + 31) / 32, {}};
  std::mt19937 rng(seed);
  b.words.resize(rows * b.words_per_row);
  for (uint32_t& w : b.words) w = uint32_t(rng());
  return b;
}

/// Runs the case through conv2d_binary_weights_f32, or (as_fc, for 1x1 images and kernels) through
/// fully_connected_binary_weights_f32, and checks it against the references.
void check_binary(const ConvCase& t, bool clamp, bool with_bias, uint32_t seed, bool as_fc) {
  const FloatConv2D g = geometry(t, clamp);
  const int cin_g = t.c / t.groups, taps = t.kh * t.kw * cin_g;
  const std::vector<float> x = uniform(size_t(t.batch) * t.h * t.w * t.c, seed);
  const PackedBits w = random_bits(size_t(t.out_c) * t.kh * t.kw, size_t(cin_g), seed + 1);
  const std::vector<float> scale = uniform(size_t(t.out_c), seed + 2, 0.01f, 2.0f);
  const std::vector<float> bias_v = uniform(size_t(t.out_c), seed + 3);
  const float* bias = with_bias ? bias_v.data() : nullptr;
  const int rows = g.batch * g.out_h;
  // The kernel under test on scale s: rows [begin, end) into out.
  auto run = [&](const std::vector<float>& s, float* out, int begin, int end) {
    if (as_fc)
      fully_connected_binary_weights_f32(g.batch, g.in_c, g.out_c, x.data(), w.words.data(), s.data(), bias,
                                         g.clamp_min, g.clamp_max, out, begin, end);
    else
      conv2d_binary_weights_f32(g, x.data(), w.words.data(), s.data(), bias, out, begin, end);
  };
  std::vector<float> y(size_t(rows) * g.out_w * g.out_c, NAN);
  run(scale, y.data(), 0, rows);

  auto row_of = [&](int o, int ky, int kx) { return (size_t(o) * t.kh + size_t(ky)) * t.kw + size_t(kx); };
  // Double reference within the rounding bound: the sum of ±x, times scale, plus bias.
  const auto sums =
      onebit::testing::direct_conv<double>(conv_shape(g), [&](std::ptrdiff_t xi, int o, int ky, int kx, int i) {
        return xi < 0 ? 0.0 : double(x[size_t(xi)]) * double(scale[size_t(o)]) * w.sign(row_of(o, ky, kx), size_t(i));
      });
  const auto mags = onebit::testing::direct_conv<double>(conv_shape(g), [&](std::ptrdiff_t xi, int o, int, int, int) {
    return xi < 0 ? 0.0 : std::fabs(double(x[size_t(xi)]) * double(scale[size_t(o)]));
  });
  check_conv_within(g, y, sums, mags, bias, taps);

  // The documented order in plain float: acc + (bit ? -x : x) over (ky, kx, i) (a padded tap adds +0,
  // which leaves a sum that started at +0 unchanged), then * scale, + bias, clamp.
  std::vector<float> ordered =
      onebit::testing::direct_conv<float>(conv_shape(g), [&](std::ptrdiff_t xi, int o, int ky, int kx, int i) {
        if (xi < 0) return 0.0f;
        const float v = x[size_t(xi)];
        return w.bit(row_of(o, ky, kx), size_t(i)) ? -v : v;
      });
  for (size_t i = 0; i < ordered.size(); ++i) {
    const size_t o = i % size_t(g.out_c);
    float v = ordered[i] * scale[o];
    if (bias != nullptr) v = v + bias[o];
    ordered[i] = clamp_ref(v, g.clamp_min, g.clamp_max);
  }
  CHECK_MESSAGE(same_bits(y, ordered), "not the documented order of operations");

  // Scale 1: the float kernel on the ±1.0f expansion sums the same values in the same order.
  std::vector<float> expanded(size_t(t.out_c) * size_t(taps));
  for (size_t r = 0; r < size_t(t.out_c) * t.kh * t.kw; ++r)
    for (size_t i = 0; i < size_t(cin_g); ++i) expanded[r * size_t(cin_g) + i] = w.sign(r, i);
  const std::vector<float> ones(size_t(t.out_c), 1.0f);
  std::vector<float> unit(y.size(), NAN), unit_float(y.size(), NAN);
  run(ones, unit.data(), 0, rows);
  if (as_fc)
    fully_connected_f32(g.batch, g.in_c, g.out_c, x.data(), expanded.data(), bias, g.clamp_min, g.clamp_max,
                        unit_float.data(), 0, rows);
  else
    conv2d_f32(g, x.data(), expanded.data(), bias, unit_float.data(), 0, rows);
  CHECK_MESSAGE(same_bits(unit, unit_float), "scale 1 differs from the float kernel on the +-1 weights");

  check_row_splits(rows, y, [&](float* out, int begin, int end) { run(scale, out, begin, end); });
}

}  // namespace

TEST_CASE("float conv2d, 1-bit weights: the float conv's shapes, rows of 32..80 bits, the BWN model's layers") {
  std::vector<ConvCase> cases = conv_cases();
  const std::vector<ConvCase> wide = {
      // batch, h, w, c, out_c, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, groups
      {2, 6, 7, 32, 10, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},  // one full word per row
      {2, 6, 9, 33, 13, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},  // a word and one bit
      {1, 7, 9, 80, 12, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 2},  // groups 2 of 40: rows of 2 words, the second partial
      {1, 9, 8, 70, 9, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1},   // dilation 2, 3 words per row
      {1, 5, 6, 64, 16, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1},  // 1x1 shortcut-like
      {1, 7, 7, 128, 128, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},  // the shipped BWN model's last layers
      {1, 14, 14, 64, 128, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},
  };
  cases.insert(cases.end(), wide.begin(), wide.end());
  for_each_conv_run(cases, 6000, 4, [](const ConvCase& t, bool clamp, bool with_bias, uint32_t seed) {
    check_binary(t, clamp, with_bias, seed, false);
  });
}

TEST_CASE("float fully connected, 1-bit weights: batch, rows of 1..512 bits, bias, clamp, order, row split") {
  // A batch of 1x1 images through 1x1 kernels: the references above apply as they are.
  std::vector<ConvCase> cases;
  for (int batch : {1, 3})
    for (int in_c : {1, 7, 32, 33, 512})
      for (int out_c : {1, 10, 13}) cases.push_back({batch, 1, 1, in_c, out_c, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1});
  for_each_conv_run(cases, 7000, 4, [](const ConvCase& t, bool clamp, bool with_bias, uint32_t seed) {
    check_binary(t, clamp, with_bias, seed, true);
  });
}
