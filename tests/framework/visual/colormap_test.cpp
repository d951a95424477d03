#include "framework/visual/colormap.hpp"

#include <gtest/gtest.h>

#include "framework/common/error.hpp"

namespace convoy::visual {
namespace {

using Rgb = std::array<uint8_t, 3>;

TEST(ColormapTest, ViridisEndsAndMiddleAreMatplotlibs) {
  EXPECT_EQ(color_at(Colormap::viridis, 0.0), (Rgb{68, 1, 84}));
  EXPECT_EQ(color_at(Colormap::viridis, 0.5), (Rgb{33, 145, 140}));
  EXPECT_EQ(color_at(Colormap::viridis, 1.0), (Rgb{253, 231, 37}));
  EXPECT_EQ(color_at(Colormap::viridis, 7.0), (Rgb{253, 231, 37})) << "clamped";
  // Halfway between the points at 0 and 1/8: (68 + 71) / 2 = 69.5 rounds to 70, ...
  EXPECT_EQ(color_at(Colormap::viridis, 1.0 / 16), (Rgb{70, 23, 104}));
}

TEST(ColormapTest, DivergingMapIsWhiteInTheMiddle) {
  EXPECT_EQ(color_at(Colormap::blue_white_red, 0.5), (Rgb{255, 255, 255}));
  const Rgb low = color_at(Colormap::blue_white_red, 0.0);
  const Rgb high = color_at(Colormap::blue_white_red, 1.0);
  EXPECT_GT(low[2], low[0]);
  EXPECT_GT(high[0], high[2]);
}

TEST(ColormapTest, HeatMapScalesEachValueAndMapsTheRange) {
  const std::vector<float> values{0.0f, 1.0f, 2.0f, 4.0f};  // (2, 2)
  HeatMapOptions options;
  options.scale = 3;
  const RasterImage image = heat_map(values, 2, 2, options);
  ASSERT_EQ(image.height(), 6);
  ASSERT_EQ(image.width(), 6);
  ASSERT_EQ(image.channels(), 3);
  auto pixel = [&](int y, int x) {
    return Rgb{image.at(y, x, 0), image.at(y, x, 1), image.at(y, x, 2)};
  };
  EXPECT_EQ(pixel(0, 0), color_at(Colormap::viridis, 0.0));
  EXPECT_EQ(pixel(2, 5), color_at(Colormap::viridis, 0.25));
  EXPECT_EQ(pixel(3, 0), color_at(Colormap::viridis, 0.5));
  EXPECT_EQ(pixel(5, 5), color_at(Colormap::viridis, 1.0));
  options.low = 0.0;
  options.high = 8.0;
  EXPECT_EQ(heat_map(values, 2, 2, options).at(5, 5, 0), color_at(Colormap::viridis, 0.5)[0]);
}

TEST(ColormapTest, AHeatMapAboveThePixelLimitIsAShapeError) {
  const std::vector<float> values{0.0f, 1.0f, 2.0f, 4.0f};  // (2, 2)
  HeatMapOptions options;
  options.scale = 100000;
  EXPECT_THROW(heat_map(values, 2, 2, options), ShapeError);
}

}  // namespace
}  // namespace convoy::visual
