#pragma once
// Tiles of float values laid out as one picture: a filter bank, the crops that excite a unit.
// Each tile is min-max normalized on its own, so a weak filter is as readable as a strong one
// (the grid shows patterns, not magnitudes; commands print magnitudes as numbers).

#include <cstdint>
#include <span>
#include <vector>

#include "framework/visual/raster_image.hpp"

namespace convoy::visual {

// One tile: float values (C, H, W), C = 1 (gray) or 3 (RGB).
struct Tile {
  std::vector<float> values;  // (C, H, W)
  int channels = 1, height = 0, width = 0;
};

// Maps values linearly so the smallest becomes 0 and the largest 255 (rounded to nearest); a
// constant tile has no contrast to show and becomes mid-gray 128.
std::vector<uint8_t> normalize_min_max(std::span<const float> values);

struct GridLayout {
  int columns = 8;                // tiles per row
  int scale = 1;                  // each value drawn as scale x scale pixels (nearest neighbour)
  int separator = 1;              // pixels between neighbouring tiles (none around the grid)
  uint8_t separator_value = 255;  // also fills cells without a tile
};

// Tiles row by row, left to right, in cells of the largest tile's size (a smaller tile sits in
// its cell's top-left corner). The picture is RGB if any tile is, gray tiles then repeat their
// value in R, G and B; an RGB tile is normalized over all its channels together so its colours
// keep their proportions. Size: columns * cell + (columns - 1) * separator wide, likewise high
// for ceil(tiles / columns) rows.
// ShapeError if the picture would exceed kMaxPicturePixels.
RasterImage make_grid(const std::vector<Tile>& tiles, const GridLayout& layout);

// The size of make_grid's picture of `tile_count` tiles whose largest is tile_height x
// tile_width, at every scale (layout.scale is not used).
ScaledPictureSize grid_size(int64_t tile_count, int64_t tile_height, int64_t tile_width,
                            const GridLayout& layout);

}  // namespace convoy::visual
