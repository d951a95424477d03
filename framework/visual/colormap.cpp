#include "framework/visual/colormap.hpp"

#include <algorithm>
#include <cmath>

#include "framework/common/error.hpp"

namespace convoy::visual {

namespace {

using Rgb = std::array<uint8_t, 3>;

// matplotlib's viridis sampled at t = 0, 1/8, ..., 1 (interpolating nine points stays within a
// few levels of the full 256-entry table).
constexpr std::array<Rgb, 9> kViridis = {{{68, 1, 84},
                                          {71, 45, 123},
                                          {59, 82, 139},
                                          {44, 114, 142},
                                          {33, 145, 140},
                                          {40, 174, 128},
                                          {94, 201, 98},
                                          {173, 220, 48},
                                          {253, 231, 37}}};
// ColorBrewer RdBu's ends around white.
constexpr std::array<Rgb, 5> kBlueWhiteRed = {
    {{33, 102, 172}, {146, 197, 222}, {255, 255, 255}, {244, 165, 130}, {178, 24, 43}}};

template <size_t N>
Rgb interpolate(const std::array<Rgb, N>& points, double t) {
  t = std::clamp(std::isnan(t) ? 0.0 : t, 0.0, 1.0);
  const double position = t * static_cast<double>(N - 1);
  const size_t below = std::min(static_cast<size_t>(position), N - 2);
  const double fraction = position - static_cast<double>(below);
  Rgb color{};
  for (size_t c = 0; c < 3; ++c) {
    color[c] = static_cast<uint8_t>(
        std::lround((1 - fraction) * points[below][c] + fraction * points[below + 1][c]));
  }
  return color;
}

}  // namespace

std::array<uint8_t, 3> color_at(Colormap colormap, double t) {
  return colormap == Colormap::viridis ? interpolate(kViridis, t) : interpolate(kBlueWhiteRed, t);
}

RasterImage heat_map(std::span<const float> values, int height, int width,
                     const HeatMapOptions& options) {
  if (height <= 0 || width <= 0 || options.scale <= 0 ||
      values.size() != static_cast<size_t>(height) * static_cast<size_t>(width)) {
    throw ShapeError("heat map of " + std::to_string(values.size()) + " values as " +
                     std::to_string(height) + "x" + std::to_string(width) + " at scale " +
                     std::to_string(options.scale) + ": expected height * width values");
  }
  if (options.scale > ScaledPictureSize{height, width}.largest_scale()) {
    throw ShapeError("a heat map of " + std::to_string(height) + "x" + std::to_string(width) +
                     " values at scale " + std::to_string(options.scale) +
                     " would have more than " + std::to_string(kMaxPicturePixels) + " pixels");
  }
  const auto [smallest, largest] = std::minmax_element(values.begin(), values.end());
  const double low = options.low.value_or(*smallest);
  const double high = options.high.value_or(*largest);
  RasterImage image(height * options.scale, width * options.scale, 3);
  for (int y = 0; y < image.height(); ++y) {
    for (int x = 0; x < image.width(); ++x) {
      const double value =
          values[static_cast<size_t>(y / options.scale) * width + x / options.scale];
      const Rgb color = color_at(options.colormap, high > low ? (value - low) / (high - low) : 0.0);
      for (int c = 0; c < 3; ++c) image.at(y, x, c) = color[static_cast<size_t>(c)];
    }
  }
  return image;
}

}  // namespace convoy::visual
