#include "framework/visual/image_grid.hpp"

#include <gtest/gtest.h>

#include "framework/common/error.hpp"

namespace convoy::visual {
namespace {

TEST(ImageGridTest, MinMaxNormalizationMapsTheRangeOntoZeroTo255) {
  const std::vector<float> values{-2.0f, 0.0f, 2.0f, 1.0f};
  EXPECT_EQ(normalize_min_max(values), (std::vector<uint8_t>{0, 128, 255, 191}));
  const std::vector<float> constant{3.0f, 3.0f};
  EXPECT_EQ(normalize_min_max(constant), (std::vector<uint8_t>{128, 128}));
}

TEST(ImageGridTest, TilesAreScaledNormalizedEachAndSeparated) {
  // Three 1x2 gray tiles, two per row, scale 2, separator 1:
  // width 2 * 4 + 1 = 9, height 2 * 2 + 1 = 5.
  std::vector<Tile> tiles{{{0.0f, 1.0f}, 1, 1, 2}, {{10.0f, -10.0f}, 1, 1, 2}, {{5, 5}, 1, 1, 2}};
  GridLayout layout;
  layout.columns = 2;
  layout.scale = 2;
  layout.separator = 1;
  layout.separator_value = 77;
  const RasterImage grid = make_grid(tiles, layout);
  ASSERT_EQ(grid.channels(), 1);
  ASSERT_EQ(grid.width(), 9);
  ASSERT_EQ(grid.height(), 5);
  // clang-format off
  const std::vector<uint8_t> expected{
      0,  0,  255, 255, 77, 255, 255, 0,  0,   //
      0,  0,  255, 255, 77, 255, 255, 0,  0,   //
      77, 77, 77,  77,  77, 77,  77,  77, 77,  //
      128, 128, 128, 128, 77, 77, 77, 77, 77,  // third tile is constant; the fourth cell empty
      128, 128, 128, 128, 77, 77, 77, 77, 77};
  // clang-format on
  EXPECT_EQ(grid.pixels(), expected);
}

TEST(ImageGridTest, RgbTilesKeepTheirColoursAndGrayTilesTurnGrayInAnRgbGrid) {
  // An RGB tile normalized over all channels together: pure red stays pure red.
  std::vector<Tile> tiles{{{1.0f, 0.0f, 0.0f}, 3, 1, 1}, {{0.5f}, 1, 1, 1}};
  GridLayout layout;
  layout.columns = 2;
  layout.separator = 0;
  const RasterImage grid = make_grid(tiles, layout);
  ASSERT_EQ(grid.channels(), 3);
  EXPECT_EQ(grid.pixels(), (std::vector<uint8_t>{255, 0, 0, 128, 128, 128}));
}

TEST(ImageGridTest, ATileWithTheWrongValueCountIsAShapeError) {
  std::vector<Tile> tiles{{{1.0f, 2.0f, 3.0f}, 1, 2, 2}};
  EXPECT_THROW(make_grid(tiles, {}), ShapeError);
  EXPECT_THROW(make_grid({}, {}), ShapeError);
}

}  // namespace
}  // namespace convoy::visual
