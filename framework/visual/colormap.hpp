#pragma once
// Colour maps for heat maps (effective receptive fields, confusion matrices).

#include <array>
#include <cstdint>
#include <optional>
#include <span>

#include "framework/visual/raster_image.hpp"

namespace convoy::visual {

enum class Colormap {
  viridis,         // dark blue -> green -> yellow; perceptually uniform, readable in gray print
  blue_white_red,  // diverging: negative blue, zero white, positive red (signed quantities)
};

// The colour at t in [0, 1] (clamped), interpolated linearly between the map's control points
// (viridis: matplotlib's values at t = 0, 1/8, ..., 1).
std::array<uint8_t, 3> color_at(Colormap colormap, double t);

struct HeatMapOptions {
  Colormap colormap = Colormap::viridis;
  int scale = 1;  // each value drawn as scale x scale pixels
  // Values mapped to t = 0 and t = 1; default the smallest and the largest value.
  std::optional<double> low, high;
};

// values (H, W) row-major as an RGB picture (height * scale) x (width * scale); ShapeError if
// that exceeds kMaxPicturePixels.
RasterImage heat_map(std::span<const float> values, int height, int width,
                     const HeatMapOptions& options);

}  // namespace convoy::visual
