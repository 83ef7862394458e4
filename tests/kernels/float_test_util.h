// Shared helpers of the portable float kernel tests (float_test.cc, float_binary_weights_test.cc): seeded
// random floats, bit-for-bit comparison, the rounding bound of a float sum, and the convolution shapes both
// convolutions run.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "common/conv_reference.h"
#include "common/rng.h"
#include "onebit/kernels/float.h"

namespace onebit::test {

using kernels::FloatConv2D;

using testing::uniform;  // common/rng.h

inline bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

inline float clamp_ref(float v, float lo, float hi) { return std::min(std::max(v, lo), hi); }

/// |got - want| <= (n + 2) * 2^-23 * magnitude for every element (the bound of a float sum of n products
/// and one bias, with a factor 2 of margin), reporting the first element outside.
inline void check_within(const std::vector<float>& got, const std::vector<double>& want,
                         const std::vector<double>& magnitude, int n) {
  REQUIRE(got.size() == want.size());
  const double u = std::ldexp(1.0, -23) * (n + 2);
  for (size_t i = 0; i < got.size(); ++i) {
    if (!(std::fabs(double(got[i]) - want[i]) <= u * magnitude[i] + 1e-30)) {
      INFO("element " << i << ": got " << got[i] << ", expected " << want[i] << " (magnitude " << magnitude[i] << ")");
      CHECK(false);
      return;
    }
  }
}

struct ConvCase {
  int batch, h, w, c, out_c, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, groups;
};

inline FloatConv2D geometry(const ConvCase& t, bool clamp) {
  FloatConv2D g{};
  g.batch = t.batch, g.in_h = t.h, g.in_w = t.w, g.in_c = t.c, g.out_c = t.out_c;
  g.kernel_h = t.kh, g.kernel_w = t.kw, g.stride_h = t.sh, g.stride_w = t.sw;
  g.dilation_h = t.dh, g.dilation_w = t.dw, g.pad_top = t.pt, g.pad_left = t.pl, g.groups = t.groups;
  g.out_h = (t.h + t.pt + t.pb - t.dh * (t.kh - 1) - 1) / t.sh + 1;
  g.out_w = (t.w + t.pl + t.pr - t.dw * (t.kw - 1) - 1) / t.sw + 1;
  g.clamp_min = clamp ? -0.25f : -INFINITY;
  g.clamp_max = clamp ? 0.5f : INFINITY;
  return g;
}

inline onebit::testing::ConvShape conv_shape(const FloatConv2D& g) {
  return {g.batch,    g.in_h,     g.in_w,     g.in_c,       g.out_h,      g.out_w,    g.out_c,    g.kernel_h,
          g.kernel_w, g.stride_h, g.stride_w, g.dilation_h, g.dilation_w, g.pad_top, g.pad_left, g.groups};
}

/// The convolution shapes both conv kernels run: stems, groups, depthwise, dilation, strides, pads.
inline const std::vector<ConvCase>& conv_cases() {
  static const std::vector<ConvCase> cases = {
      // batch, h, w, c, out_c, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, groups
      {2, 9, 11, 1, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},       // Fashion-MNIST-like stem, C = 1
      {2, 8, 10, 2, 13, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},      // C = 2, out_c 8 + 4 + 1
      {2, 15, 14, 3, 16, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3, 1},     // Bi-Real-like 7x7 / 2 stem
      {2, 10, 9, 4, 12, 5, 5, 1, 2, 1, 1, 2, 1, 3, 2, 1},      // C = 4, 5x5, asymmetric pads and strides
      {2, 7, 13, 16, 20, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1},     // 1x1
      {2, 8, 9, 16, 12, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, 1},      // 1x1 stride 2
      {2, 11, 12, 5, 9, 3, 3, 1, 1, 2, 2, 2, 1, 2, 3, 1},      // dilation 2, asymmetric pads
      {2, 10, 11, 3, 6, 3, 5, 1, 1, 2, 1, 0, 4, 1, 0, 1},      // 3x5, dilation 2x1
      {2, 9, 10, 6, 10, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2},      // groups 2
      {2, 9, 10, 8, 12, 3, 3, 2, 1, 1, 1, 1, 0, 2, 1, 4},      // groups 4, 2 in / 3 out per group
      {2, 9, 10, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 7},       // depthwise
      {2, 12, 11, 9, 9, 5, 5, 2, 2, 1, 1, 2, 2, 1, 2, 9},      // depthwise 5x5 / 2
      {2, 9, 9, 4, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 4},        // depthwise, multiplier 2
      {2, 9, 10, 17, 17, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 17},    // depthwise, channel blocks 8 + 8 + 1
      {2, 4, 5, 3, 5, 7, 7, 1, 1, 1, 1, 3, 3, 3, 3, 1},        // kernel larger than the image
      {2, 3, 4, 2, 3, 1, 1, 1, 1, 1, 1, 2, 1, 2, 1, 1},        // 1x1 with pads: rows and pixels of padding only
      {2, 6, 30, 3, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},      // long rows: many pixel tiles
  };
  return cases;
}

inline std::string describe(const ConvCase& t) {
  std::ostringstream s;
  s << "in " << t.batch << "x" << t.h << "x" << t.w << "x" << t.c << " out_c " << t.out_c << " kernel " << t.kh << "x"
    << t.kw << " stride " << t.sh << "x" << t.sw << " dilation " << t.dh << "x" << t.dw << " pads t" << t.pt << " l"
    << t.pl << " b" << t.pb << " r" << t.pr << " groups " << t.groups;
  return s.str();
}

/// Checks a convolution's y against the double reference: the window sums `sums` of each output plus its
/// bias (when not null), clamped, within the rounding bound of `taps` terms whose magnitudes sum to `mags`.
inline void check_conv_within(const FloatConv2D& g, const std::vector<float>& y, const std::vector<double>& sums,
                              const std::vector<double>& mags, const float* bias, int taps) {
  std::vector<double> want(sums.size()), mag(sums.size());
  for (size_t i = 0; i < sums.size(); ++i) {
    const double b = bias != nullptr ? bias[i % size_t(g.out_c)] : 0.0;
    want[i] = std::min(std::max(sums[i] + b, double(g.clamp_min)), double(g.clamp_max));
    mag[i] = mags[i] + std::fabs(b);
  }
  check_within(y, want, mag, taps);
}

/// Runs check(t, clamp, with_bias, seed) for every case, without and with a clamp, with and without a bias,
/// every parameter in INFO; the seed advances by `step` per run.
template <class Check>
void for_each_conv_run(const std::vector<ConvCase>& cases, uint32_t seed, uint32_t step, Check check) {
  for (const ConvCase& t : cases)
    for (bool clamp : {false, true})
      for (bool with_bias : {true, false}) {
        INFO(describe(t) << " clamp " << clamp << " bias " << with_bias << " seed " << seed);
        check(t, clamp, with_bias, seed);
        seed += step;
      }
}

/// Any split of the rows gives the same bits as the whole range: run(out, begin, end) computes rows
/// [split, rows) then [0, split) for split 1, rows / 2 and rows - 1, and each result must be y.
template <class Run>
void check_row_splits(int rows, const std::vector<float>& y, Run run) {
  for (int split : {1, rows / 2, rows - 1}) {
    if (split <= 0 || split >= rows) continue;
    std::vector<float> parts(y.size(), NAN);
    run(parts.data(), split, rows);
    run(parts.data(), 0, split);
    CHECK_MESSAGE(same_bits(parts, y), "split at row " << split);
  }
}

}  // namespace onebit::test
