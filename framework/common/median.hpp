#pragma once
// The median of a sample (mean of the two middle values for an even count), as benchmarks and
// reports quote it. An empty sample has none: the caller decides what that means.

#include <algorithm>
#include <vector>

namespace convoy {

inline double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

}  // namespace convoy
