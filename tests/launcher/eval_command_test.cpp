// `convoy eval --confusion-png`: one cell per (true, predicted) class, coloured by the share of
// the true class's images predicted as that class.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "framework/visual/colormap.hpp"
#include "framework/visual/raster_image.hpp"
#include "launcher/picture_fixture.hpp"

namespace convoy::testing {
namespace {

TEST(EvalCommandTest, ConfusionPngColoursEachCellByItsRowShare) {
  const PictureFixture fixture = make_picture_fixture("eval-confusion");
  const std::string png = fixture.directory + "/confusion.png";
  auto result = run_convoy("eval --checkpoint " + fixture.checkpoint +
                           " --threads 1 --json --confusion-png " + png);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  // --json prints the report, and nothing else, on stdout.
  const auto report = nlohmann::json::parse(result.standard_output);
  const auto matrix = report["confusion_matrix"];
  const visual::RasterImage picture = visual::read_png(png, 3);
  ASSERT_EQ(picture.width(), 320);  // 2 classes, 160 px per cell
  ASSERT_EQ(picture.height(), 320);
  for (int k = 0; k < 2; ++k) {
    const double total = matrix[k][0].get<double>() + matrix[k][1].get<double>();
    ASSERT_EQ(total, 3.0);
    for (int p = 0; p < 2; ++p) {
      const auto expected =
          visual::color_at(visual::Colormap::viridis, matrix[k][p].get<double>() / total);
      for (int c = 0; c < 3; ++c)
        EXPECT_EQ(picture.at(k * 160 + 80, p * 160 + 80, c), expected[c])
            << "cell (" << k << ", " << p << ") channel " << c;
    }
  }
}

// The net takes images of any size, so a test image of another size than the first (which
// sets the model's input) would be scored at its own size: refused, naming the batch.
TEST(EvalCommandTest, AnImageOfAnotherSizeIsRefusedNotScored) {
  const PictureFixture fixture = make_picture_fixture("eval-other-size");
  data::Image larger{{}, 3, PictureFixture::kSize + 2, PictureFixture::kSize + 2, 0};
  larger.pixels.assign(static_cast<size_t>(3 * larger.height * larger.width), 10);
  data::write_file_bytes(fixture.directory + "/data/val/b/2.png", data::encode_png(larger));
  auto result =
      run_convoy("eval --checkpoint " + fixture.checkpoint + " --threads 1 --eval-batch 1");
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_EQ(result.standard_error, "convoy: evaluation data image folder " + fixture.directory +
                                       "/data/val: sample 5 is (3, 14, 14) after the transforms, "
                                       "but the model takes (3, 12, 12) (the size of sample 0); "
                                       "add --resize and --center-crop\n");
}

// Training stores the input size in the checkpoint; eval at another size (the transforms of
// its command line) scores there, as torchvision's --val-crop-size does, and says so.
TEST(EvalCommandTest, ReportsTheInputSizeAndTheTrainedOneWhenTheyDiffer) {
  const std::string dir = fresh_directory("eval-input-size");
  ASSERT_EQ(run_convoy("train --recipe fashion-resnet20 --train-samples 32 --test-samples 16 "
                       "--batch-size 32 --epochs 1 --threads 1 --workers 1 --progress lines "
                       "--warmup-epochs 0 --run-dir " +
                       dir)
                .exit_code,
            0);
  const std::string checkpoint = dir + "/latest";
  auto same = run_convoy("eval --threads 1 --checkpoint " + checkpoint);
  ASSERT_EQ(same.exit_code, 0) << same.output;
  EXPECT_NE(same.standard_output.find("1 rank(s), images (1, 28, 28)\n"), std::string::npos)
      << same.standard_output;
  auto larger = run_convoy("eval --threads 1 --resize 32 --center-crop 32 --checkpoint " +
                           checkpoint + " --json");
  ASSERT_EQ(larger.exit_code, 0) << larger.output;
  const auto report = nlohmann::json::parse(larger.standard_output);
  EXPECT_EQ(report["input_shape"], nlohmann::json({1, 32, 32}));
  EXPECT_EQ(report["trained_input_shape"], nlohmann::json({1, 28, 28}));
  auto text =
      run_convoy("eval --threads 1 --resize 32 --center-crop 32 --checkpoint " + checkpoint);
  EXPECT_NE(text.standard_output.find("images (1, 32, 32) (trained on (1, 28, 28))\n"),
            std::string::npos)
      << text.standard_output;
}

}  // namespace
}  // namespace convoy::testing
