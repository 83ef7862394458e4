// Portable convolution and fully connected layer of float activations and 1-bit weights (BinaryConnect /
// BWN: weight = scale[o] * ±1), the weights read where the model stores them: bit rows of cin_g inputs,
// each row (o, ky, kx) starting on a 32-bit word (float.h). Order of operations: float.h.
//
// The math: sum_i x_i * scale * (1 - 2 b_i) = scale * sum_i x_i * (b_i ? -1 : +1). A product by ±1.0f is
// exact (it is x or -x), so each tap adds or subtracts its input, and the scale multiplies the whole sum
// once per output instead of every product.
//
// Same tiles as conv2d.cc (conv-walk.h): kTilePixels pixels x kTileOutputs output channels in local
// accumulators. A row's words are walked 4 taps at a time: the 4 weight bits of each output pick a row of
// kNibbleWeights (±1.0f x 4, 256 bytes of constants), which the tile's pixels multiply their inputs by;
// the real taps of a row's last word that do not fill 4 go one by one (a kernel row never runs into the
// next one: rows start on words). That is conv2d_f32's inner loop on weights looked up instead of loaded.
// Measured (bench/kernels/float_bench.cc; mcu_run on the shipped BWN model, 50 images under qemu):
//   x86-64 (SSE2): 0.9x conv2d_f32's speed on the BWN model's layers. Flipping the sign bit with an XOR
//                  instead (an integer op, then a move to the float unit) ran at half of it.
//   Cortex-M4, -Os: 130.8 M instructions per inference (the float path on the expanded weights: 127.8 M),
//                  the image's code 6.6 KB larger than with that path. Unrolling the 4 taps as well:
//                  122.6 M, but 8.6 KB; one loop for whole and partial nibbles: 5.6 KB, but 140.6 M.
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "float/conv-walk.h"
#include "float/float-common.h"
#include "onebit/kernels/float.h"

namespace onebit::kernels {
namespace {

constexpr int kBitsPerWord = 32;

/// The weights of 4 taps as floats: kNibbleWeights[n][k] = bit k of n ? -1.0f : 1.0f.
#define ONEBIT_W(n, k) ((n) >> (k) & 1 ? -1.0f : 1.0f)
#define ONEBIT_W4(n) {ONEBIT_W(n, 0), ONEBIT_W(n, 1), ONEBIT_W(n, 2), ONEBIT_W(n, 3)}
alignas(16) constexpr float kNibbleWeights[16][4] = {
    ONEBIT_W4(0), ONEBIT_W4(1), ONEBIT_W4(2),  ONEBIT_W4(3),  ONEBIT_W4(4),  ONEBIT_W4(5),
    ONEBIT_W4(6), ONEBIT_W4(7), ONEBIT_W4(8),  ONEBIT_W4(9),  ONEBIT_W4(10), ONEBIT_W4(11),
    ONEBIT_W4(12), ONEBIT_W4(13), ONEBIT_W4(14), ONEBIT_W4(15),
};
#undef ONEBIT_W4
#undef ONEBIT_W

/// The weight ±1.0f of one bit (0 or 1).
inline float unit_weight(uint32_t bit) { return kNibbleWeights[bit][0]; }

/// The 1-bit-weight layer: bit rows of row_words words, kernel_h * kernel_w rows per output channel.
struct BinaryWeightConv : ConvWalk {
  const uint32_t* bits;
  const float* scale;
  ptrdiff_t row_words;  // words per bit row: ceil(cin_g / 32)
  ptrdiff_t out_words;  // words per output channel: kernel_h * kernel_w * row_words

  BinaryWeightConv(const FloatConv2D& geometry, const float* input, const uint32_t* w_bits, const float* w_scale,
                   const float* bias_or_null)
      : ConvWalk(geometry, input, bias_or_null), bits(w_bits), scale(w_scale) {
    row_words = (cin_g + kBitsPerWord - 1) / kBitsPerWord;
    out_words = ptrdiff_t(g->kernel_h) * g->kernel_w * row_words;
  }

  /// acc * scale[o], + bias[o], clamped: the end of every output's order.
  float finish(float acc, int o) const {
    float v = acc * scale[o];
    if (bias != nullptr) v = v + bias[o];
    return clamped ? clamp_value(v, g->clamp_min, g->clamp_max) : v;
  }

  template <int P, int O>
  void tile(const ptrdiff_t* origin, int kx0, int kx1, int o0, float* const* out) const {
    float acc[P][O];
    zero_tile(acc);
    const int kw = g->kernel_w;
    const uint32_t* w0 = bits + ptrdiff_t(o0) * out_words;
    for_each_tap<P>(*this, origin, kx0, kx1, [&](int ky, int kx, const float* const* xp) {
      const uint32_t* wt = w0 + ptrdiff_t(ky * kw + kx) * row_words;
      for (int i0 = 0; i0 < cin_g; i0 += kBitsPerWord) {
        uint32_t wv[O];
        ONEBIT_UNROLL
        for (int j = 0; j < O; ++j) wv[j] = wt[j * out_words + i0 / kBitsPerWord];
        const int n = cin_g - i0 < kBitsPerWord ? cin_g - i0 : kBitsPerWord;
        int b = 0;
        for (; b + 4 <= n; b += 4) {
          const float* w4[O];
          ONEBIT_UNROLL
          for (int j = 0; j < O; ++j) w4[j] = kNibbleWeights[(wv[j] >> b) & 15u];
          for (int k = 0; k < 4; ++k) {
            ONEBIT_UNROLL
            for (int p = 0; p < P; ++p) {
              const float xv = xp[p][i0 + b + k];
              ONEBIT_UNROLL
              for (int j = 0; j < O; ++j) acc[p][j] = acc[p][j] + xv * w4[j][k];
            }
          }
        }
        for (; b < n; ++b) {
          float wb[O];
          ONEBIT_UNROLL
          for (int j = 0; j < O; ++j) wb[j] = unit_weight((wv[j] >> b) & 1u);
          ONEBIT_UNROLL
          for (int p = 0; p < P; ++p) {
            const float xv = xp[p][i0 + b];
            ONEBIT_UNROLL
            for (int j = 0; j < O; ++j) acc[p][j] = acc[p][j] + xv * wb[j];
          }
        }
      }
    });
    for (int p = 0; p < P; ++p)
      for (int j = 0; j < O; ++j) out[p][o0 + j] = finish(acc[p][j], o0 + j);
  }

  template <int B>
  void depthwise_block(ptrdiff_t origin, int kx0, int kx1, int c0, float* y) const {
    // One input per row: row (c, ky, kx) is the one word c * kernel_h * kernel_w + ky * kw + kx, bit 0 the tap.
    float acc[B];
    depthwise_sums<B>(*this, bits, origin, kx0, kx1, c0, [](uint32_t v) { return unit_weight(v & 1u); }, acc);
    for (int j = 0; j < B; ++j) y[c0 + j] = finish(acc[j], c0 + j);
  }
};

}  // namespace

void conv2d_binary_weights_f32(const FloatConv2D& g, const float* x, const uint32_t* w_bits, const float* scale,
                               const float* bias, float* y, int row_begin, int row_end) {
  BinaryWeightConv r(g, x, w_bits, scale, bias);
  conv_rows(r, y, row_begin, row_end);
}

void fully_connected_binary_weights_f32(int batch, int in_c, int out_c, const float* x, const uint32_t* w_bits,
                                        const float* scale, const float* bias, float lo, float hi, float* y,
                                        int row_begin, int row_end) {
  // Each batch row is a 1x1 image, and row o of the FC's bits is the 1x1 kernel's row (o, 0, 0).
  const FloatConv2D g{batch, 1, 1, in_c, 1, 1, out_c, 1, 1, 1, 1, 1, 1, 0, 0, 1, lo, hi};
  conv2d_binary_weights_f32(g, x, w_bits, scale, bias, y, row_begin, row_end);
}

}  // namespace onebit::kernels
