// Latency summaries: min / median / p90 of a sample (nearest-rank percentiles).
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

namespace onebit::bench {

struct Summary { double min = 0, median = 0, p90 = 0; };

inline Summary summarize(std::vector<double> v) {
  Summary s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  s.min = v.front();
  s.median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  s.p90 = v[std::min(n - 1, size_t(std::ceil(0.9 * double(n))) - 1)];
  return s;
}

}  // namespace onebit::bench
