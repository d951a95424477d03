#include "framework/visual/unit_examples.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "framework/common/error.hpp"

namespace convoy::visual {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

// (N, C, H, W) = (3, 2, 2, 3) activations, fed as two batches of the stream.
TEST(TopUnitActivationsTest, KeepsTheKStrongestImagesPerChannelWithTheirArgmax) {
  TopUnitActivations best({1, 0}, 2);
  // Samples 10, 11: channel 0 peaks 5 at (1, 2) and 9 at (0, 0); channel 1 peaks 4 at (0, 1)
  // and 1 at (1, 1).
  // clang-format off
  const std::vector<float> first{0, 1, 2, 3, 4, 5,  0, 4, 0, 0, 0, 0,    // sample 10
                                 9, 1, 1, 1, 1, 1,  0, 0, 0, 0, 1, 0};  // sample 11
  // clang-format on
  best.add(first, {2, 2, 2, 3}, std::vector<int64_t>{10, 11});
  // Sample 12: channel 0 peaks 7, channel 1 peaks 4 again (a tie: the earlier sample stays).
  const std::vector<float> second{7, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0};
  best.add(second, {1, 2, 2, 3}, std::vector<int64_t>{12});

  const auto& channel1 = best.top(0);
  ASSERT_EQ(channel1.size(), 2u);
  EXPECT_EQ(channel1[0].sample, 10);
  EXPECT_EQ(channel1[0].y, 0);
  EXPECT_EQ(channel1[0].x, 1);
  EXPECT_EQ(channel1[0].activation, 4.0f);
  EXPECT_EQ(channel1[1].sample, 12);
  EXPECT_EQ(channel1[1].y, 1);
  EXPECT_EQ(channel1[1].x, 0);

  const auto& channel0 = best.top(1);
  ASSERT_EQ(channel0.size(), 2u);
  EXPECT_EQ(channel0[0].sample, 11);
  EXPECT_EQ(channel0[0].activation, 9.0f);
  EXPECT_EQ(channel0[1].sample, 12);
  EXPECT_EQ(channel0[1].activation, 7.0f);
}

TEST(TopUnitActivationsTest, AChannelBeyondTheLayerIsAConfigErrorNamingIt) {
  TopUnitActivations best({5}, 1);
  const std::vector<float> values(2 * 2 * 2, 0.0f);
  EXPECT_THAT(
      [&] {
        best.add(values, {1, 2, 2, 2}, std::vector<int64_t>{0});
      },
      ThrowsMessage<ConfigError>(HasSubstr("channel 5")));
}

TEST(CropWindowTest, CutsTheWindowAroundTheCentreAndZeroPadsOutsideTheImage) {
  // A (1, 3, 4) image with values 1..12.
  std::vector<float> image(12);
  for (size_t i = 0; i < image.size(); ++i) image[i] = static_cast<float>(i + 1);
  const Tile inside = crop_window(image, {1, 3, 4}, 1.0, 2.0, 3);
  EXPECT_EQ(inside.height, 3);
  EXPECT_EQ(inside.values, (std::vector<float>{2, 3, 4, 6, 7, 8, 10, 11, 12}));
  const Tile corner = crop_window(image, {1, 3, 4}, 0.0, 0.0, 3);
  EXPECT_EQ(corner.values, (std::vector<float>{0, 0, 0, 0, 1, 2, 0, 5, 6}));
  // An even field centred between pixels: top-left at round(0.5 - 0.5) = 0.
  const Tile even = crop_window(image, {1, 3, 4}, 0.5, 0.5, 2);
  EXPECT_EQ(even.values, (std::vector<float>{1, 2, 5, 6}));
}

}  // namespace
}  // namespace convoy::visual
