#include "framework/visual/image_grid.hpp"

#include <gtest/gtest.h>

#include "datasets/temporary_directory.hpp"
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

// 16 tiles of 3x3 in 4 columns with 1 px separators: (12 * scale + 3) pixels a side, which
// stays within 16384 (2^28 pixels) up to scale 1365. A larger scale is refused before anything
// is allocated (scale 100000 used to end in std::bad_alloc).
TEST(ImageGridTest, APictureAboveThePixelLimitIsAShapeErrorBeforeAnyAllocation) {
  GridLayout layout;
  layout.columns = 4;
  const ScaledPictureSize size = grid_size(16, 3, 3, layout);
  EXPECT_EQ(size.pixels(1), 15 * 15);
  EXPECT_EQ(size.largest_scale(), 1365);
  EXPECT_LE(size.pixels(1365), kMaxPicturePixels);
  EXPECT_GT(size.pixels(1366), kMaxPicturePixels);
  const std::vector<Tile> tiles(16, Tile{std::vector<float>(9, 1.0f), 1, 3, 3});
  layout.scale = 100000;
  testing::expect_error_mentioning<ShapeError>([&] { make_grid(tiles, layout); },
                                               {"16 tiles of 3x3", "scale 100000", "268435456"});
  layout.scale = 2;
  EXPECT_EQ(make_grid(tiles, layout).width(), 27);
}

}  // namespace
}  // namespace convoy::visual
