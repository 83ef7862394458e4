// Integer thresholds for the bitpacked output transform.
//
// We need bit(dot) = [f(dot) < 0] with f(d) = fl(fl(m * d) + b), for every integer d in [-K, K] (K = taps),
// computed by the kernels as the integer compare  s * d < T.
//
// Monotonicity. float(d) is exact (K <= 2^24). For m > 0 the real map d -> m*d is increasing, and rounding
// to nearest is monotone non-decreasing, so fl(m*d), fl(m*d) + b and fl(fl(m*d) + b) are non-decreasing in
// d. Hence P(d) = [f(d) < 0] is "true, then false" as d grows. The special values keep that shape: NaN
// compares false, and NaN can only appear at the top of the range (m = +inf: -inf for d < 0, NaN at d = 0,
// +inf above; b = -inf: -inf until fl(m*d) overflows to +inf, then NaN), or everywhere (b or m NaN).
//   m > 0:  P(d) <=> d < T,   T = the smallest d in [-K, K] with !P(d), or K + 1 if none;  s = +1.
//   m < 0:  P is "false, then true" (f non-increasing): P(d) <=> d > T', T' = the largest d with !P(d), or
//           -K - 1 if none; written as -d < -T', so s = -1, T = -T'.
//   m = +-0 or NaN: f(d) = fl(+-0 + b) (or NaN) does not depend on d: a constant bit P(0). Encoded with
//           s = +1 and T = INT32_MAX (always 1, as d <= K < INT32_MAX) or INT32_MIN (always 0).
// The textbook threshold is T = ceil(-b / m), but the two roundings in f can move the switch point by an
// integer or two around it; instead of estimating and correcting, we binary-search the switch point on the
// exact float expression P itself (about 25 evaluations per channel, once in prepare). The result agrees
// with P at every d in [-K, K] by construction, which the tests check exhaustively.
#include <climits>

#include "transform/transform.h"

namespace onebit::kernels {
namespace {

// The same float expression as the float transform (this file is built with -ffp-contract=off).
bool negative(float m, float b, int32_t d) {
  const float product = m * static_cast<float>(d);
  const float y = product + b;
  return y < 0.0f;
}

}  // namespace

void bits_transform_thresholds(size_t n, int32_t taps, const float* multiplier, const float* bias,
                               int32_t* threshold, int32_t* sign_mask) {
  for (size_t c = 0; c < n; ++c) {
    const float m = multiplier[c];
    const float b = bias[c];
    if (!(m > 0.0f) && !(m < 0.0f)) {  // +-0 or NaN: constant
      sign_mask[c] = 0;
      threshold[c] = negative(m, b, 0) ? INT32_MAX : INT32_MIN;
      continue;
    }
    const bool increasing = m > 0.0f;
    // First d in [lo, hi) where P switches: for m > 0, where P becomes false; for m < 0, where it becomes
    // true. Invariant: the switch point is in [lo, hi]; hi = K + 1 means "never switches".
    int32_t lo = -taps, hi = taps + 1;
    while (lo < hi) {
      const int32_t mid = lo + (hi - lo) / 2;
      const bool switched = increasing ? !negative(m, b, mid) : negative(m, b, mid);
      if (switched) hi = mid; else lo = mid + 1;
    }
    if (increasing) {  // P(d) <=> d < lo
      sign_mask[c] = 0;
      threshold[c] = lo;
    } else {  // P(d) <=> d >= lo <=> d > lo - 1 <=> -d < 1 - lo
      sign_mask[c] = -1;
      threshold[c] = 1 - lo;
    }
  }
}

}  // namespace onebit::kernels
