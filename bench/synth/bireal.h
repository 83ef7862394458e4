// Synthetic Bi-Real-Net-18 models with random weights, for benchmarks and end-to-end tests.
#pragma once

#include <cstdint>
#include <vector>

#include "onebit/status.h"

namespace onebit::synth {

struct BiRealOptions {
  int input_h = 224, input_w = 224, input_c = 3;
  int classes = 1000;
  uint64_t seed = 1;
  /// Same network, binary layers computed as float convolutions of ±1 values through XNNPACK.
  bool float_reference = false;
  /// 1: Sign -> binary activations (Bi-Real). 2..4: k-bit Unipolar activations (DoReFa / PACT style:
  /// q = clamp(round(n/2 * x + n/2), 0, n), n = 2^k - 1) feeding the same binary-weight convs (W1Ak).
  int activation_bits = 1;
  /// Every block one BinaryConv2D (issue 12): its residual Add folded in (residual input) and the next block's
  /// Sign (FloatAndBitPacked) or k-bit QuantizeLevels (FloatAndLevels, issue 20) written by the same op. false: the unfused form,
  /// Sign / BinaryConv2D / Add as separate operators (onebit-synth --no-fuse). Both compute the same bytes.
  bool fuse = true;
};

/// Bi-Real-Net-18 topology: 7x7/2 float stem + BatchNorm (folded) + 3x3/2 max-pool; 4 stages (64, 128, 256,
/// 512 channels) of 4 binary 3x3 convolutions, each Sign -> BinaryConv2D (zero padding, scale and BatchNorm
/// folded into the float output transform) with a float residual; stages 2-4 start with a stride-2 binary
/// conv whose shortcut is 2x2 avg-pool + 1x1 float conv (+ BatchNorm, folded); global avg-pool; FC.
Status build_bireal18(const BiRealOptions& options, std::vector<uint8_t>* model_bytes);

}  // namespace onebit::synth
