// Scalar stem ukernel: "vectors" of 4 floats in plain arrays (the compiler may map them to any SIMD
// registers it has), 4 pixels x 2 vectors per tile. A product then a sum, never fused (-ffp-contract=off).
#include "stem/stem-impl.h"
#include "stem/stem-ukernels.h"

namespace {

struct Scalar4 {
  struct T {
    float v[4];
  };
  static constexpr int kLanes = 4, kVectors = 2, kPixels = 4;
  static T set1(float s) { return T{{s, s, s, s}}; }
  static T zero() { return set1(0.0f); }
  static T load(const float* p) { return T{{p[0], p[1], p[2], p[3]}}; }
  static T broadcast(const float* p) { return set1(*p); }
  static T fma(T acc, T a, T b) {
    for (int i = 0; i < 4; ++i) acc.v[i] = acc.v[i] + a.v[i] * b.v[i];
    return acc;
  }
  static T add(T a, T b) {
    for (int i = 0; i < 4; ++i) a.v[i] = a.v[i] + b.v[i];
    return a;
  }
  static T clamp(T x, T lo, T hi) {
    for (int i = 0; i < 4; ++i) x.v[i] = onebit::kernels::clamp_value(x.v[i], lo.v[i], hi.v[i]);
    return x;
  }
  static T max(T acc, T v) {
    for (int i = 0; i < 4; ++i) acc.v[i] = acc.v[i] < v.v[i] ? v.v[i] : acc.v[i];
    return acc;
  }
  static void store(float* p, T x, int n) {
    for (int i = 0; i < n; ++i) p[i] = x.v[i];
  }
};

}  // namespace

ONEBIT_STEM_UKERNEL(onebit_stem_ukernel_4x8__scalar) {
  onebit::kernels::stem::rows<Scalar4>(*g, x, packed, y, row_begin, row_end);
}
ONEBIT_STEM_MAX_POOL(onebit_stem_max_pool_4x8__scalar) {
  onebit::kernels::stem::max_pool_row<Scalar4>(*p, rows, n, columns, y);
}
