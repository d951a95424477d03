// `convoy receptive-field`: the heat map is dark exactly where the theoretical field of the
// centre unit does not reach, and the theoretical size is the summary's.

#include <gtest/gtest.h>

#include "framework/visual/colormap.hpp"
#include "framework/visual/raster_image.hpp"
#include "launcher/picture_fixture.hpp"

namespace convoy::testing {
namespace {

TEST(ReceptiveFieldCommandTest, HeatMapIsDarkOutsideTheTheoreticalField) {
  const PictureFixture fixture = make_picture_fixture("receptive-field");
  const std::string png = fixture.directory + "/erf.png";
  // layer1.0.conv1 follows conv1: two 3x3 convolutions, a 5 px field around unit (6, 6).
  auto result =
      run_convoy("receptive-field --checkpoint " + fixture.checkpoint +
                 " --layer layer1.0.conv1 --images 4 --scale 2 --threads 1 --output " + png);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("centre unit (6, 6) of its 12x12 map, centred on input (6.0, 6.0)"),
            std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("theoretical receptive field: 5 px (jump 1)"), std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("effective receptive field: "), std::string::npos) << result.output;

  const visual::RasterImage map = visual::read_png(png, 3);
  ASSERT_EQ(map.width(), 24);
  ASSERT_EQ(map.height(), 24);
  const auto dark = visual::color_at(visual::Colormap::viridis, 0.0);
  int lit = 0;
  for (int y = 0; y < 12; ++y) {
    for (int x = 0; x < 12; ++x) {
      const bool inside = std::abs(y - 6) <= 2 && std::abs(x - 6) <= 2;
      const bool is_dark = map.at(2 * y, 2 * x, 0) == dark[0] &&
                           map.at(2 * y, 2 * x, 1) == dark[1] && map.at(2 * y, 2 * x, 2) == dark[2];
      if (!inside) {
        EXPECT_TRUE(is_dark) << "(" << y << ", " << x << ") is outside the field";
      }
      lit += inside && !is_dark;
    }
  }
  EXPECT_GT(lit, 12) << "most of the field should carry gradient";
}

TEST(ReceptiveFieldCommandTest, AnUnknownLayerIsNamedWithTheValidOnes) {
  const PictureFixture fixture = make_picture_fixture("receptive-field-errors");
  auto result = run_convoy("receptive-field --checkpoint " + fixture.checkpoint + " --layer x");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output.find("no layer named 'x'; layers with parameters: conv1"),
            std::string::npos)
      << result.output;
  auto spatial = run_convoy("receptive-field --checkpoint " + fixture.checkpoint + " --layer fc");
  EXPECT_EQ(spatial.exit_code, 1);
  EXPECT_NE(spatial.output.find("layer fc outputs (1, 2), not a spatial map"), std::string::npos)
      << spatial.output;
  auto help = run_convoy("receptive-field --help");
  EXPECT_EQ(help.exit_code, 0);
  for (const char* option : {"--checkpoint", "--layer", "--images", "--noise", "--output"})
    EXPECT_NE(help.output.find(option), std::string::npos) << option << "\n" << help.output;
}

// A heat map of 12x12 input pixels stays within 2^28 pixels up to scale 1365.
TEST(ReceptiveFieldCommandTest, AScaleTooLargeForThePictureIsAUsageErrorWithTheRange) {
  const PictureFixture fixture = make_picture_fixture("receptive-field-scale");
  auto result = run_convoy("receptive-field --checkpoint " + fixture.checkpoint +
                           " --layer layer1.0.conv1 --images 1 --threads 1 --output " +
                           fixture.directory + "/r.png --scale 100000");
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_EQ(result.output,
            "convoy: --scale must be in [1, 1365] for a picture of 12x12 input pixels "
            "(at most 268435456 pixels), got 100000\n");
}

}  // namespace
}  // namespace convoy::testing
