#include "framework/visual/image_grid.hpp"

#include <algorithm>
#include <cmath>

#include "framework/common/error.hpp"
#include "framework/common/shape.hpp"

namespace convoy::visual {

std::vector<uint8_t> normalize_min_max(std::span<const float> values) {
  std::vector<uint8_t> levels(values.size(), 128);
  if (values.empty()) return levels;
  const auto [low, high] = std::minmax_element(values.begin(), values.end());
  const double range = static_cast<double>(*high) - static_cast<double>(*low);
  if (!(range > 0)) return levels;
  for (size_t i = 0; i < values.size(); ++i) {
    levels[i] = static_cast<uint8_t>(std::lround(255.0 * (values[i] - *low) / range));
  }
  return levels;
}

static void check_tile(const Tile& tile, size_t index) {
  if ((tile.channels != 1 && tile.channels != 3) || tile.height <= 0 || tile.width <= 0 ||
      tile.values.size() != static_cast<size_t>(tile.channels) * static_cast<size_t>(tile.height) *
                                static_cast<size_t>(tile.width)) {
    throw ShapeError("grid tile " + std::to_string(index) + " has " +
                     std::to_string(tile.values.size()) + " values for shape " +
                     to_string({tile.channels, tile.height, tile.width}) +
                     "; expected 1 or 3 channels and C*H*W values");
  }
}

RasterImage make_grid(const std::vector<Tile>& tiles, const GridLayout& layout) {
  if (tiles.empty()) throw ShapeError("an image grid needs at least one tile");
  if (layout.columns <= 0 || layout.scale <= 0 || layout.separator < 0) {
    throw ShapeError("image grid: columns and scale must be positive, separator non-negative");
  }
  int cell_height = 0, cell_width = 0, channels = 1;
  for (size_t i = 0; i < tiles.size(); ++i) {
    check_tile(tiles[i], i);
    cell_height = std::max(cell_height, tiles[i].height * layout.scale);
    cell_width = std::max(cell_width, tiles[i].width * layout.scale);
    channels = std::max(channels, tiles[i].channels);
  }
  const int count = static_cast<int>(tiles.size());
  const int columns = std::min(layout.columns, count);
  const int rows = (count + layout.columns - 1) / layout.columns;
  RasterImage grid(rows * cell_height + (rows - 1) * layout.separator,
                   columns * cell_width + (columns - 1) * layout.separator, channels,
                   layout.separator_value);
  for (int t = 0; t < count; ++t) {
    const Tile& tile = tiles[static_cast<size_t>(t)];
    const std::vector<uint8_t> levels = normalize_min_max(tile.values);
    const int top = (t / layout.columns) * (cell_height + layout.separator);
    const int left = (t % layout.columns) * (cell_width + layout.separator);
    const size_t plane = static_cast<size_t>(tile.height) * static_cast<size_t>(tile.width);
    for (int y = 0; y < tile.height * layout.scale; ++y) {
      for (int x = 0; x < tile.width * layout.scale; ++x) {
        const size_t pixel = static_cast<size_t>(y / layout.scale) * tile.width + x / layout.scale;
        for (int c = 0; c < channels; ++c) {
          const int source_channel = tile.channels == 1 ? 0 : c;
          grid.at(top + y, left + x, c) = levels[source_channel * plane + pixel];
        }
      }
    }
  }
  return grid;
}

}  // namespace convoy::visual
