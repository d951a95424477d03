// `convoy filters`: the PNG grid shows each conv1 filter's own min-max normalized weights, and
// the printed correlation is the mean |Pearson r| over pairs of distinct filters.

#include <gtest/gtest.h>

#include <cmath>

#include "framework/visual/raster_image.hpp"
#include "launcher/picture_fixture.hpp"

namespace convoy::testing {
namespace {

TEST(FiltersCommandTest, GridTilesAreTheNormalizedWeightsOfEachFilter) {
  const PictureFixture fixture = make_picture_fixture("filters-grid");
  const std::string png = fixture.directory + "/filters.png";
  auto result = run_convoy("filters --checkpoint " + fixture.checkpoint + " --output " + png);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("conv1: 16 filters of 3x3x3 (RGB tiles)"), std::string::npos)
      << result.output;
  // 16 filters: 4 x 4 tiles of 3 * 8 = 24 px with 1 px between: 4 * 24 + 3 = 99.
  const visual::RasterImage grid = visual::read_png(png, 3);
  ASSERT_EQ(grid.width(), 99);
  ASSERT_EQ(grid.height(), 99);
  for (int filter = 0; filter < 16; ++filter) {
    const float* weights = fixture.conv1_weight.data() + filter * 27;
    const auto [low, high] = std::minmax_element(weights, weights + 27);
    const int top = (filter / 4) * 25, left = (filter % 4) * 25;
    for (int c = 0; c < 3; ++c) {
      for (int y = 0; y < 3; ++y) {
        for (int x = 0; x < 3; ++x) {
          const double level = 255.0 * (weights[c * 9 + y * 3 + x] - *low) / (*high - *low);
          // Every pixel of the 8 x 8 block shows the weight.
          for (int s : {0, 7}) {
            EXPECT_NEAR(grid.at(top + y * 8 + s, left + x * 8 + s, c), level, 0.5)
                << "filter " << filter << " channel " << c << " (" << y << ", " << x << ")";
          }
        }
      }
    }
  }
  EXPECT_EQ(grid.at(24, 10, 0), 255) << "the separator row";
}

TEST(FiltersCommandTest, PrintsTheMeanAbsoluteCorrelationBetweenFilters) {
  const PictureFixture fixture = make_picture_fixture("filters-correlation");
  auto result = run_convoy("filters --checkpoint " + fixture.checkpoint + " --output " +
                           fixture.directory + "/f.png");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  double sum = 0;
  int pairs = 0;
  for (int a = 0; a < 16; ++a) {
    for (int b = a + 1; b < 16; ++b) {
      const float* u = fixture.conv1_weight.data() + a * 27;
      const float* v = fixture.conv1_weight.data() + b * 27;
      double mean_u = 0, mean_v = 0;
      for (int k = 0; k < 27; ++k) mean_u += u[k] / 27.0, mean_v += v[k] / 27.0;
      double uv = 0, uu = 0, vv = 0;
      for (int k = 0; k < 27; ++k) {
        uv += (u[k] - mean_u) * (v[k] - mean_v);
        uu += (u[k] - mean_u) * (u[k] - mean_u);
        vv += (v[k] - mean_v) * (v[k] - mean_v);
      }
      sum += std::abs(uv / std::sqrt(uu * vv));
      ++pairs;
    }
  }
  const std::string marker = "mean |correlation| between filters: ";
  const auto at = result.output.find(marker);
  ASSERT_NE(at, std::string::npos) << result.output;
  EXPECT_NEAR(std::stod(result.output.substr(at + marker.size())), sum / pairs, 1e-4);
}

TEST(FiltersCommandTest, AnUnknownLayerListsTheConvolutionsAndAMissingFileIsNamed) {
  const PictureFixture fixture = make_picture_fixture("filters-errors");
  auto bad_layer = run_convoy("filters --checkpoint " + fixture.checkpoint + " --layer fc");
  EXPECT_EQ(bad_layer.exit_code, 1);
  EXPECT_NE(bad_layer.output.find("no convolution named 'fc'"), std::string::npos)
      << bad_layer.output;
  EXPECT_NE(bad_layer.output.find("conv1, layer1.0.conv1, layer1.0.conv2"), std::string::npos)
      << bad_layer.output;
  auto missing = run_convoy("filters --checkpoint " + fixture.directory + "/none.h5");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.output.find(fixture.directory + "/none.h5' does not exist"), std::string::npos)
      << missing.output;
  auto help = run_convoy("filters --help");
  EXPECT_EQ(help.exit_code, 0);
  for (const char* option : {"--checkpoint", "--layer", "--output", "--scale", "--columns"})
    EXPECT_NE(help.output.find(option), std::string::npos) << option << "\n" << help.output;
}

// 16 tiles of 3x3 in 4 columns stay within 2^28 pixels up to scale 1365; --scale 100000 used to
// end in std::bad_alloc.
TEST(FiltersCommandTest, AScaleTooLargeForThePictureIsAUsageErrorWithTheRange) {
  const PictureFixture fixture = make_picture_fixture("filters-scale");
  auto result = run_convoy("filters --checkpoint " + fixture.checkpoint + " --output " +
                           fixture.directory + "/f.png --scale 100000");
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_EQ(result.output,
            "convoy: --scale must be in [1, 1365] for a picture of 16 tiles of 3x3 in 4 columns "
            "(at most 268435456 pixels), got 100000\n");
}

}  // namespace
}  // namespace convoy::testing
