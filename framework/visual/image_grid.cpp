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
  int tile_height = 0, tile_width = 0, channels = 1;
  for (size_t i = 0; i < tiles.size(); ++i) {
    check_tile(tiles[i], i);
    tile_height = std::max(tile_height, tiles[i].height);
    tile_width = std::max(tile_width, tiles[i].width);
    channels = std::max(channels, tiles[i].channels);
  }
  const int count = static_cast<int>(tiles.size());
  const ScaledPictureSize size = grid_size(count, tile_height, tile_width, layout);
  if (layout.scale > size.largest_scale()) {
    throw ShapeError("an image grid of " + std::to_string(count) + " tiles of " +
                     std::to_string(tile_height) + "x" + std::to_string(tile_width) + " at scale " +
                     std::to_string(layout.scale) + " would have more than " +
                     std::to_string(kMaxPicturePixels) + " pixels");
  }
  const int cell_height = tile_height * layout.scale;
  const int cell_width = tile_width * layout.scale;
  RasterImage grid(static_cast<int>(size.height * layout.scale + size.fixed_height),
                   static_cast<int>(size.width * layout.scale + size.fixed_width), channels,
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

ScaledPictureSize grid_size(int64_t tile_count, int64_t tile_height, int64_t tile_width,
                            const GridLayout& layout) {
  const int64_t columns = std::min<int64_t>(layout.columns, tile_count);
  const int64_t rows = (tile_count + layout.columns - 1) / layout.columns;
  return {rows * tile_height, columns * tile_width, (rows - 1) * layout.separator,
          (columns - 1) * layout.separator};
}

}  // namespace convoy::visual
