// Shape arithmetic every layer needs, written once: the output size of a sliding window (convolutions and
// pools) and NumPy broadcasting (element-wise ops). Header-only, no allocation beyond the result vector.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace onebit::core {

/// Output positions of a window of `kernel` taps (spaced `dilation` apart) sliding by `stride` over `in`
/// values padded by `pad_before` / `pad_after`: floor((in + pads - span) / stride) + 1 with span =
/// dilation * (kernel - 1) + 1. -1 when the window does not fit even once or stride / kernel / dilation
/// are not positive. Callers bound the arguments (runtime: kMaxDim, kMaxWindow) so nothing overflows.
constexpr int64_t window_output_size(int64_t in, int64_t pad_before, int64_t pad_after, int64_t kernel,
                                     int64_t stride, int64_t dilation = 1) {
  if (stride <= 0 || kernel <= 0 || dilation <= 0) return -1;
  const int64_t span = dilation * (kernel - 1) + 1;
  const int64_t padded = in + pad_before + pad_after;
  if (padded < span) return -1;
  return (padded - span) / stride + 1;
}

/// NumPy broadcasting of two shapes (aligned at the last dimension; a dimension of 1 stretches). False,
/// and *out untouched, when they do not broadcast. `out` may alias `a` or `b`.
/// Shape: a std::vector of the dimension type, with any allocator.
template <class Shape>
bool broadcast_shapes(const Shape& a, const Shape& b, Shape* out) {
  using Dim = typename Shape::value_type;
  const size_t rank = std::max(a.size(), b.size());
  Shape r(rank, Dim(1));
  for (size_t i = 0; i < rank; ++i) {
    const Dim da = i < rank - a.size() ? Dim(1) : a[i - (rank - a.size())];
    const Dim db = i < rank - b.size() ? Dim(1) : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1) return false;
    r[i] = da == 1 ? db : da;
  }
  *out = std::move(r);
  return true;
}

}  // namespace onebit::core
