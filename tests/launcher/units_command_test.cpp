// `convoy units`: on a model whose conv1 filter 0 sums red over 3x3, the images with the red
// patches come first, brightest first, each cropped to the 3x3 field around the patch.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "framework/visual/raster_image.hpp"
#include "launcher/picture_fixture.hpp"

namespace convoy::testing {
namespace {

TEST(UnitsCommandTest, TheStrongestImagesComeFirstCroppedToTheFieldAroundTheirMaximum) {
  const PictureFixture fixture = make_picture_fixture("units-top");
  const std::string png = fixture.directory + "/units.png";
  auto result =
      run_convoy("units --checkpoint " + fixture.checkpoint +
                 " --layer conv1 --channels 0,1 --top 2 --scale 4 --threads 1 --output " + png);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("conv1: receptive field 3 px, jump 1, centre offset 0.0; 6 test"),
            std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("channel 0: sample 4 (b) at (7, 3) = "), std::string::npos)
      << result.output;
  const auto second = result.output.find("; sample 1 (a) at (3, 8) = ");
  EXPECT_NE(second, std::string::npos) << result.output;

  // Two rows (channels) of two 3x3 crops at scale 4: 2 * 12 + 1 = 25 wide and high.
  const visual::RasterImage grid = visual::read_png(png, 3);
  ASSERT_EQ(grid.width(), 25);
  ASSERT_EQ(grid.height(), 25);
  // The first crop is the bright patch with its green and blue noise, normalized together.
  const data::Image& image = fixture.images[PictureFixture::kBrightSample];
  std::vector<int> crop;
  for (int c = 0; c < 3; ++c)
    for (int y = 6; y <= 8; ++y)
      for (int x = 2; x <= 4; ++x)
        crop.push_back(image.pixels[static_cast<size_t>((c * 12 + y) * 12 + x)]);
  const auto [low, high] = std::minmax_element(crop.begin(), crop.end());
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < 3; ++y) {
      for (int x = 0; x < 3; ++x) {
        const double level =
            255.0 * (crop[static_cast<size_t>(c * 9 + y * 3 + x)] - *low) / (*high - *low);
        EXPECT_NEAR(grid.at(y * 4 + 1, x * 4 + 2, c), level, 1.0)
            << "channel " << c << " (" << y << ", " << x << ")";
      }
    }
  }
}

TEST(UnitsCommandTest, AnUnknownLayerOrChannelIsNamedAndAMissingCheckpointToo) {
  const PictureFixture fixture = make_picture_fixture("units-errors");
  auto bad_layer = run_convoy("units --checkpoint " + fixture.checkpoint + " --layer nope");
  EXPECT_EQ(bad_layer.exit_code, 1);
  EXPECT_NE(bad_layer.output.find("no layer named 'nope'; layers with parameters: conv1, bn1"),
            std::string::npos)
      << bad_layer.output;
  auto bad_channel =
      run_convoy("units --checkpoint " + fixture.checkpoint + " --layer conv1 --channels 16");
  EXPECT_EQ(bad_channel.exit_code, 2);
  EXPECT_NE(bad_channel.output.find("conv1 has 16 channels (0..15), not 16"), std::string::npos)
      << bad_channel.output;
  auto missing = run_convoy("units --checkpoint " + fixture.directory + "/none.h5 --layer conv1");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.output.find("none.h5' does not exist"), std::string::npos) << missing.output;
  auto help = run_convoy("units --help");
  EXPECT_EQ(help.exit_code, 0);
  for (const char* option :
       {"--checkpoint", "--layer", "--channels", "--top", "--samples", "--data-dir", "--output"})
    EXPECT_NE(help.output.find(option), std::string::npos) << option << "\n" << help.output;
}

// Two rows of two 3x3 crops stay within 2^28 pixels up to scale 2730; --scale 100000 used to
// end in std::bad_alloc.
TEST(UnitsCommandTest, AScaleTooLargeForThePictureIsAUsageErrorWithTheRange) {
  const PictureFixture fixture = make_picture_fixture("units-scale");
  auto result = run_convoy("units --checkpoint " + fixture.checkpoint +
                           " --layer conv1 --channels 0,1 --top 2 --threads 1 --output " +
                           fixture.directory + "/u.png --scale 100000");
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_EQ(result.output,
            "convoy: --scale must be in [1, 2730] for a picture of 4 crops of 3x3 in 2 columns "
            "(at most 268435456 pixels), got 100000\n");
}

}  // namespace
}  // namespace convoy::testing
