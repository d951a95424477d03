#include "datasets/transforms.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "datasets/temporary_directory.hpp"
#include "framework/common/error.hpp"

namespace convoy::data {
namespace {

// 1 channel, pixel (y, x) = 10 * y + x + 1 (so 0 is recognisably padding).
Image tiny(int height, int width, int channels = 1) {
  Image image{{}, channels, height, width, 3};
  for (int c = 0; c < channels; ++c) {
    for (int y = 0; y < height; ++y) {
      for (int x = 0; x < width; ++x)
        image.pixels.push_back(static_cast<uint8_t>(100 * c + 10 * y + x + 1));
    }
  }
  return image;
}

FloatImage as_float(const Image& image) {
  return {std::vector<float>(image.pixels.begin(), image.pixels.end()), image.channels,
          image.height, image.width};
}

// Pixels back in [0, 255] units from a pipeline without mean/std (which divides by 255).
std::vector<float> raw(const FloatImage& image) {
  std::vector<float> values;
  for (float value : image.pixels) values.push_back(std::round(value * 255.0f));
  return values;
}

TEST(TransformsTest, CropFillsZerosOutsideTheImage) {
  const FloatImage cropped = crop(as_float(tiny(2, 3)), -1, 1, 3, 3);
  EXPECT_EQ(cropped.shape(), (Shape{1, 3, 3}));
  EXPECT_EQ(cropped.pixels, (std::vector<float>{0, 0, 0, 2, 3, 0, 12, 13, 0}));
}

TEST(TransformsTest, PadToCentersTheImageWithZeros) {
  TransformConfig config;
  config.pad_to = 4;
  const FloatImage padded = Pipeline(config).apply(tiny(2, 2), 0, 0, 0);
  EXPECT_EQ(raw(padded), (std::vector<float>{0, 0, 0, 0,    //
                                             0, 1, 2, 0,    //
                                             0, 11, 12, 0,  //
                                             0, 0, 0, 0}));
  config.pad_to = 1;
  testing::expect_error_mentioning<ShapeError>([&] { Pipeline(config).apply(tiny(2, 2), 0, 0, 0); },
                                               {"pad_to 1", "(1, 2, 2)"});
}

TEST(TransformsTest, HorizontalFlipMirrorsEveryRowOfEveryChannel) {
  SampleRandom random(1, 2, 3);
  int flips = 0;
  for (int trial = 0; trial < 64; ++trial) {
    FloatImage image = as_float(tiny(2, 3, 2));
    HorizontalFlip().apply(image, random);
    if (image.pixels[0] == 3) {
      ++flips;
      EXPECT_EQ(image.pixels,
                (std::vector<float>{3, 2, 1, 13, 12, 11, 103, 102, 101, 113, 112, 111}));
    } else {
      EXPECT_EQ(image.pixels, as_float(tiny(2, 3, 2)).pixels);
    }
  }
  EXPECT_GT(flips, 16);  // about half of 64
  EXPECT_LT(flips, 48);
}

TEST(TransformsTest, RandomCropWithPaddingVisitsEveryOffsetAndKeepsPixelsAligned) {
  // 3x3 image, pad 1, crop 3: offsets -1, 0, 1 in each direction.
  std::set<std::pair<int, int>> offsets;
  for (int64_t index = 0; index < 200; ++index) {
    FloatImage image = as_float(tiny(3, 3));
    SampleRandom random(9, 0, static_cast<uint64_t>(index));
    RandomCrop(3, 1).apply(image, random);
    ASSERT_EQ(image.shape(), (Shape{1, 3, 3}));
    // The centre output pixel (1, 1) shows source (1 + dy, 1 + dx) = 10 * (1 + dy) + (1 + dx) + 1.
    const int centre = static_cast<int>(image.pixels[4]);
    const int dy = (centre - 1) / 10 - 1;
    const int dx = (centre - 1) % 10 - 1;
    offsets.insert({dy, dx});
    EXPECT_EQ(image.pixels, crop(as_float(tiny(3, 3)), dy, dx, 3, 3).pixels);
  }
  EXPECT_EQ(offsets.size(), 9u);
}

TEST(TransformsTest, SameKeysGiveTheSameAugmentationAndOtherKeysDiffer) {
  TransformConfig config;
  config.random_crop = 6;
  config.random_crop_padding = 2;
  config.horizontal_flip = true;
  const Pipeline pipeline(config);
  Image image = tiny(6, 6, 3);
  const std::vector<float> reference = pipeline.apply(image, 5, 1, 17).pixels;
  EXPECT_EQ(pipeline.apply(image, 5, 1, 17).pixels, reference);
  int differing = 0;
  for (int64_t index = 0; index < 20; ++index)
    differing += pipeline.apply(image, 5, 1, index).pixels != reference;
  for (int64_t epoch = 2; epoch < 22; ++epoch)
    differing += pipeline.apply(image, 5, epoch, 17).pixels != reference;
  EXPECT_GT(differing, 30);
}

TEST(TransformsTest, NormalizeAppliesPerChannelMeanAndStandardDeviation) {
  TransformConfig config;
  config.mean = {0.5f, 0.25f};
  config.standard_deviation = {0.5f, 0.25f};
  const FloatImage result = Pipeline(config).apply(tiny(1, 2, 2), 0, 0, 0);
  // Channel 0: (x/255 - 0.5) / 0.5 for x = 1, 2; channel 1: (x/255 - 0.25) / 0.25 for 101, 102.
  const std::vector<float> expected = {(1 / 255.f - 0.5f) / 0.5f, (2 / 255.f - 0.5f) / 0.5f,
                                       (101 / 255.f - 0.25f) / 0.25f,
                                       (102 / 255.f - 0.25f) / 0.25f};
  ASSERT_EQ(result.pixels.size(), 4u);
  for (size_t i = 0; i < 4; ++i) EXPECT_NEAR(result.pixels[i], expected[i], 1e-6) << i;
  testing::expect_error_mentioning<ShapeError>(
      [&] { Pipeline(config).apply(tiny(1, 2, 3), 0, 0, 0); },
      {"2 mean/standard_deviation values", "3 channels"});
  config.standard_deviation = {0.5f};
  testing::expect_error_mentioning<ConfigError>([&] { Pipeline{config}; },
                                                {"mean has 2", "standard_deviation 1"});
}

TEST(TransformsTest, BilinearResizeMatchesHalfPixelInterpolation) {
  // 1x2 -> 1x4 with half-pixel centres: sources -0.25 (clamped 0), 0.25, 0.75, 1.25 (clamped 1).
  FloatImage image{{0, 100}, 1, 1, 2};
  EXPECT_EQ(resize_bilinear(image, 1, 4).pixels, (std::vector<float>{0, 25, 75, 100}));
  // Downscale 4 -> 2 averages neighbour pairs: sources 0.5 and 2.5.
  FloatImage row{{0, 10, 20, 30}, 1, 1, 4};
  EXPECT_EQ(resize_bilinear(row, 1, 2).pixels, (std::vector<float>{5, 25}));
}

TEST(TransformsTest, ResizeShorterSideThenCenterCropGivesTheEvalShape) {
  TransformConfig config;
  config.resize = 4;
  config.center_crop = 4;
  const FloatImage result = Pipeline(config).apply(tiny(8, 12, 3), 0, 0, 0);
  EXPECT_EQ(result.shape(), (Shape{3, 4, 4}));
  TransformConfig only_resize;
  only_resize.resize = 4;
  EXPECT_EQ(Pipeline(only_resize).apply(tiny(8, 12), 0, 0, 0).shape(), (Shape{1, 4, 6}));
  // Center crop of 2 from 4x4 takes rows/columns 1..2.
  TransformConfig center;
  center.center_crop = 2;
  EXPECT_EQ(raw(Pipeline(center).apply(tiny(4, 4), 0, 0, 0)), (std::vector<float>{12, 13, 22, 23}));
}

TEST(TransformsTest, RandomResizedCropOutputsTheSizeAndStaysInsideTheImage) {
  TransformConfig config;
  config.random_resized_crop = 5;
  const Pipeline pipeline(config);
  Image constant{std::vector<uint8_t>(3 * 20 * 30, 200), 3, 20, 30, 0};
  for (int64_t index = 0; index < 20; ++index) {
    const FloatImage result = pipeline.apply(constant, 1, 0, index);
    ASSERT_EQ(result.shape(), (Shape{3, 5, 5}));
    // A window inside the image never reaches zero padding: every value stays 200.
    for (float value : raw(result)) ASSERT_EQ(value, 200.0f);
  }
  EXPECT_EQ(pipeline.apply(tiny(20, 30), 1, 0, 3).pixels,
            pipeline.apply(tiny(20, 30), 1, 0, 3).pixels);
  EXPECT_NE(pipeline.apply(tiny(20, 30), 1, 0, 3).pixels,
            pipeline.apply(tiny(20, 30), 1, 0, 4).pixels);
}

// Resize scales the shorter side: a 100000 x 1 sliver resized to 8192 would be 819200000 pixels
// long, an allocation of 27 TB that ended as "out of memory" naming nothing.
TEST(TransformsTest, ResizingASliverBeyondTheImageBoundIsAShapeError) {
  TransformConfig config;
  config.resize = 8192;
  testing::expect_error_mentioning<ShapeError>(
      [&] { Pipeline(config).apply(tiny(100000, 1), 0, 0, 0); },
      {"resize 8192", "(1, 100000, 1)", "would become 819200000 pixels long"});
  config.resize = 4;
  EXPECT_EQ(Pipeline(config).apply(tiny(100, 1), 0, 0, 0).shape(), (Shape{1, 400, 4}));
}

TEST(TransformsTest, NegativeSizeNamesTheField) {
  TransformConfig config;
  config.random_crop = -3;
  testing::expect_error_mentioning<ConfigError>([&] { Pipeline{config}; }, {"random_crop = -3"});
}

}  // namespace
}  // namespace convoy::data
