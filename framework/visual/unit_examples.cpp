#include "framework/visual/unit_examples.hpp"

#include <algorithm>
#include <cmath>

#include "framework/common/error.hpp"

namespace convoy::visual {

TopUnitActivations::TopUnitActivations(std::vector<int64_t> channels, int k)
    : channels_(std::move(channels)), k_(k), top_(channels_.size()) {
  if (channels_.empty()) throw ConfigError("top activations: no channel chosen");
  if (k < 1) throw ConfigError("top activations: k must be at least 1, got " + std::to_string(k));
}

void TopUnitActivations::add(std::span<const float> activation, const Shape& nchw,
                             std::span<const int64_t> samples) {
  if (nchw.size() != 4 || static_cast<int64_t>(activation.size()) != element_count(nchw) ||
      static_cast<int64_t>(samples.size()) != nchw[0]) {
    throw ShapeError("top activations: expected (N, C, H, W) values and N sample indices, got " +
                     std::to_string(activation.size()) + " values for " + to_string(nchw) +
                     " and " + std::to_string(samples.size()) + " indices");
  }
  const int64_t plane = nchw[2] * nchw[3];
  for (size_t position = 0; position < channels_.size(); ++position) {
    const int64_t channel = channels_[position];
    if (channel < 0 || channel >= nchw[1]) {
      throw ConfigError("channel " + std::to_string(channel) + " does not exist: the layer has " +
                        std::to_string(nchw[1]) + " channels (0.." + std::to_string(nchw[1] - 1) +
                        ")");
    }
    auto& best = top_[position];
    for (int64_t n = 0; n < nchw[0]; ++n) {
      const float* map = activation.data() + (n * nchw[1] + channel) * plane;
      const int64_t at = std::max_element(map, map + plane) - map;
      best.push_back({samples[static_cast<size_t>(n)], at / nchw[3], at % nchw[3], map[at]});
    }
    std::stable_sort(best.begin(), best.end(), [](const UnitExample& a, const UnitExample& b) {
      return a.activation > b.activation;
    });
    if (best.size() > static_cast<size_t>(k_)) best.resize(static_cast<size_t>(k_));
  }
}

Tile crop_window(std::span<const float> image, const Shape& chw, double centre_y, double centre_x,
                 int size) {
  if (chw.size() != 3 || static_cast<int64_t>(image.size()) != element_count(chw) || size < 1) {
    throw ShapeError("crop: expected a (C, H, W) image and a positive size, got " +
                     std::to_string(image.size()) + " values for " + to_string(chw) + " and size " +
                     std::to_string(size));
  }
  Tile tile{{}, static_cast<int>(chw[0]), size, size};
  tile.values.assign(static_cast<size_t>(chw[0]) * size * size, 0.0f);
  const int64_t top = std::lround(centre_y - (size - 1) / 2.0);
  const int64_t left = std::lround(centre_x - (size - 1) / 2.0);
  for (int64_t c = 0; c < chw[0]; ++c) {
    for (int64_t y = 0; y < size; ++y) {
      const int64_t source_y = top + y;
      if (source_y < 0 || source_y >= chw[1]) continue;
      for (int64_t x = 0; x < size; ++x) {
        const int64_t source_x = left + x;
        if (source_x < 0 || source_x >= chw[2]) continue;
        tile.values[static_cast<size_t>((c * size + y) * size + x)] =
            image[static_cast<size_t>((c * chw[1] + source_y) * chw[2] + source_x)];
      }
    }
  }
  return tile;
}

}  // namespace convoy::visual
