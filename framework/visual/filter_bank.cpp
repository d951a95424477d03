#include "framework/visual/filter_bank.hpp"

#include <cmath>
#include <limits>

#include "framework/common/error.hpp"

namespace convoy::visual {

static void check_weight(std::span<const float> weight, const Shape& oihw) {
  if (oihw.size() != 4 || static_cast<int64_t>(weight.size()) != element_count(oihw)) {
    throw ShapeError("expected a convolution weight (O, I, H, W), got shape " + to_string(oihw) +
                     " with " + std::to_string(weight.size()) + " values");
  }
}

std::vector<Tile> filter_tiles(std::span<const float> weight, const Shape& oihw) {
  check_weight(weight, oihw);
  const int in = static_cast<int>(oihw[1]), height = static_cast<int>(oihw[2]),
            width = static_cast<int>(oihw[3]);
  const size_t plane = static_cast<size_t>(height) * static_cast<size_t>(width);
  const size_t filter = static_cast<size_t>(in) * plane;
  std::vector<Tile> tiles;
  for (int64_t o = 0; o < oihw[0]; ++o) {
    const float* values = weight.data() + static_cast<size_t>(o) * filter;
    if (in == 1 || in == 3) {
      tiles.push_back({{values, values + filter}, in, height, width});
      continue;
    }
    for (int i = 0; i < in; ++i) {
      const float* channel = values + static_cast<size_t>(i) * plane;
      tiles.push_back({{channel, channel + plane}, 1, height, width});
    }
  }
  return tiles;
}

double mean_absolute_filter_correlation(std::span<const float> weight, const Shape& oihw) {
  check_weight(weight, oihw);
  if (oihw[0] < 2) {
    throw ShapeError("filter correlation needs at least two filters, the weight has shape " +
                     to_string(oihw));
  }
  const size_t count = static_cast<size_t>(oihw[0]);
  const size_t length = weight.size() / count;
  // Centre and scale each filter to unit norm once; r of a pair is then a dot product.
  std::vector<double> standardized(weight.size());
  std::vector<bool> constant(count);
  for (size_t f = 0; f < count; ++f) {
    const float* values = weight.data() + f * length;
    double mean = 0;
    for (size_t k = 0; k < length; ++k) mean += values[k];
    mean /= static_cast<double>(length);
    double norm = 0;
    for (size_t k = 0; k < length; ++k) norm += (values[k] - mean) * (values[k] - mean);
    norm = std::sqrt(norm);
    constant[f] = !(norm > 0);
    for (size_t k = 0; k < length; ++k)
      standardized[f * length + k] = constant[f] ? 0.0 : (values[k] - mean) / norm;
  }
  double sum = 0;
  int64_t pairs = 0;
  for (size_t a = 0; a < count; ++a) {
    for (size_t b = a + 1; b < count; ++b) {
      if (constant[a] || constant[b]) continue;
      double r = 0;
      for (size_t k = 0; k < length; ++k)
        r += standardized[a * length + k] * standardized[b * length + k];
      sum += std::abs(r);
      ++pairs;
    }
  }
  return pairs ? sum / static_cast<double>(pairs) : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace convoy::visual
