// Scalar reference output transforms. Built with -ffp-contract=off: fl(fl(m * dot) + b), never an FMA.
#include <algorithm>

#include "pack/pack-ukernels.h"
#include "transform/transform.h"

using onebit::kernels::BitsTransform;
using onebit::kernels::FloatTransform;

namespace {

void f32_pixel(size_t n, const int32_t* popcount, const int32_t* correction, const float* residual,
               const FloatTransform* p, float* out) {
  for (size_t c = 0; c < n; ++c) {
    const int32_t dot = p->taps - 2 * popcount[c] - (correction != nullptr ? correction[c] : 0);
    const float product = p->multiplier[c] * static_cast<float>(dot);
    float y = product + p->bias[c];
    if (residual != nullptr) y = y + residual[c];  // fl(fl(fl(m * dot) + b) + r), the Add it replaces
    out[c] = std::min(std::max(y, p->clamp_min), p->clamp_max);
  }
}

void bits_pixel(size_t n, const int32_t* popcount, const int32_t* correction,
               const BitsTransform* p, uint32_t* out) {
  for (size_t c0 = 0; c0 < n; c0 += 32) {
    const size_t nn = std::min<size_t>(32, n - c0);
    uint32_t bits = 0;
    for (size_t b = 0; b < nn; ++b) {
      const size_t c = c0 + b;
      const int32_t dot = p->taps - 2 * popcount[c] - (correction != nullptr ? correction[c] : 0);
      const int32_t s = p->sign_mask[c];
      bits |= uint32_t{((dot ^ s) - s) < p->threshold[c]} << b;
    }
    out[c0 / 32] = bits;
  }
}

}  // namespace

ONEBIT_TRANSFORM_F32_UKERNEL(onebit_transform_f32_ukernel_x1__scalar) {
  for (size_t i = 0; i < pixels; ++i)
    f32_pixel(n, popcount + i * n, correction != nullptr ? correction[i] : nullptr,
              params->residual != nullptr ? params->residual + i * n : nullptr, params, out + i * n);
}

ONEBIT_TRANSFORM_BITS_UKERNEL(onebit_transform_bits_ukernel_x1__scalar) {
  const size_t words = (n + 31) / 32;
  for (size_t i = 0; i < pixels; ++i)
    bits_pixel(n, popcount + i * n, correction != nullptr ? correction[i] : nullptr, params, out + i * words);
}

// The reference float-and-bits ukernel: the f32 ukernel's floats, then the scalar pack of each pixel row.
ONEBIT_TRANSFORM_F32_BITS_UKERNEL(onebit_transform_f32_bits_ukernel_x32__scalar) {
  const size_t words = (n + 31) / 32;
  for (size_t i = 0; i < pixels; ++i) {
    f32_pixel(n, popcount + i * n, correction != nullptr ? correction[i] : nullptr,
              params->residual != nullptr ? params->residual + i * n : nullptr, params, out + i * n);
    onebit_pack_ukernel_x32__scalar(1, n, out + i * n, bits + i * words, quantize);
  }
}
