// `--weights ema` on the commands that draw a trained model (filters, units, receptive-field):
// they draw the moving average a --model-ema run saved, and refuse by name a checkpoint that
// holds none. The fixture's average is its weights with conv1's filters in reverse order.

#include <gtest/gtest.h>

#include <algorithm>

#include "framework/visual/raster_image.hpp"
#include "launcher/picture_fixture.hpp"

namespace convoy::testing {
namespace {

// The grid's tile `tile` shows filter `filter` of the fixture's conv1, min-max normalized.
void expect_tile_shows(const visual::RasterImage& grid, int tile, const PictureFixture& fixture,
                       int filter) {
  const float* weights = fixture.conv1_weight.data() + filter * 27;
  const auto [low, high] = std::minmax_element(weights, weights + 27);
  const int top = (tile / 4) * 25, left = (tile % 4) * 25;
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 3; ++y)
      for (int x = 0; x < 3; ++x) {
        const double level = 255.0 * (weights[c * 9 + y * 3 + x] - *low) / (*high - *low);
        EXPECT_NEAR(grid.at(top + y * 8 + 3, left + x * 8 + 3, c), level, 0.5)
            << "tile " << tile << " (filter " << filter << ") channel " << c;
      }
}

TEST(ModelEmaPicturesTest, FiltersDrawTheAverageWithWeightsEma) {
  const PictureFixture fixture = make_picture_fixture("ema-filters", true);
  const std::string model_png = fixture.directory + "/model.png";
  const std::string ema_png = fixture.directory + "/ema.png";
  auto model = run_convoy("filters --checkpoint " + fixture.checkpoint + " --output " + model_png);
  ASSERT_EQ(model.exit_code, 0) << model.output;
  auto ema = run_convoy("filters --checkpoint " + fixture.checkpoint + " --weights ema --output " +
                        ema_png);
  ASSERT_EQ(ema.exit_code, 0) << ema.output;
  EXPECT_NE(ema.output.find("conv1 (model EMA): 16 filters of 3x3x3"), std::string::npos)
      << ema.output;
  const visual::RasterImage model_grid = visual::read_png(model_png, 3);
  const visual::RasterImage ema_grid = visual::read_png(ema_png, 3);
  for (int tile : {0, 5, 15}) {
    expect_tile_shows(model_grid, tile, fixture, tile);
    expect_tile_shows(ema_grid, tile, fixture, 15 - tile);
  }
}

// The line units prints for one channel, from "channel N:" to the end of its line.
std::string channel_line(const std::string& output, int channel) {
  const auto start = output.find("channel " + std::to_string(channel) + ":");
  if (start == std::string::npos) return "";
  const auto colon = output.find(':', start);
  return output.substr(colon, output.find('\n', start) - colon);
}

TEST(ModelEmaPicturesTest, UnitsRankImagesByTheAverage) {
  const PictureFixture fixture = make_picture_fixture("ema-units", true);
  const std::string common = "units --checkpoint " + fixture.checkpoint +
                             " --layer conv1 --top 2 --threads 1 --output " + fixture.directory +
                             "/units.png";
  auto model = run_convoy(common + " --channels 0");
  ASSERT_EQ(model.exit_code, 0) << model.output;
  auto ema = run_convoy(common + " --channels 15 --weights ema");
  ASSERT_EQ(ema.exit_code, 0) << ema.output;
  // The average's channel 15 is the weights' channel 0: the same images, places and values.
  const std::string red_filter = channel_line(model.output, 0);
  EXPECT_NE(red_filter.find("sample 4 (b) at (7, 3) = "), std::string::npos) << model.output;
  EXPECT_EQ(channel_line(ema.output, 15), red_filter) << ema.output;
}

TEST(ModelEmaPicturesTest, ACheckpointWithoutAnAverageIsRefusedByNameAndABadChoiceToo) {
  const PictureFixture fixture = make_picture_fixture("ema-missing");
  const std::string checkpoint = " --checkpoint " + fixture.checkpoint;
  for (const std::string& command :
       {"filters" + checkpoint, "units" + checkpoint + " --layer conv1",
        "receptive-field" + checkpoint + " --layer conv1 --noise --images 1"}) {
    auto missing = run_convoy(command + " --weights ema");
    EXPECT_EQ(missing.exit_code, 1) << command;
    EXPECT_NE(missing.output.find("checkpoint " + fixture.checkpoint +
                                  " holds no model EMA (/model_ema)"),
              std::string::npos)
        << command << "\n"
        << missing.output;
    auto bad = run_convoy(command + " --weights best");
    EXPECT_EQ(bad.exit_code, 2) << command << "\n" << bad.output;
    EXPECT_NE(bad.output.find("--weights must be model or ema, got 'best'"), std::string::npos)
        << command << "\n"
        << bad.output;
  }
}

}  // namespace
}  // namespace convoy::testing
