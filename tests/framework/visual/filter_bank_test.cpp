#include "framework/visual/filter_bank.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "framework/common/error.hpp"
#include "support/layer_testing.hpp"

namespace convoy::visual {
namespace {

// Pearson r straight from its definition, for comparison.
double pearson(const float* a, const float* b, size_t n) {
  double mean_a = 0, mean_b = 0;
  for (size_t i = 0; i < n; ++i) {
    mean_a += a[i] / double(n);
    mean_b += b[i] / double(n);
  }
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < n; ++i) {
    ab += (a[i] - mean_a) * (b[i] - mean_b);
    aa += (a[i] - mean_a) * (a[i] - mean_a);
    bb += (b[i] - mean_b) * (b[i] - mean_b);
  }
  return ab / std::sqrt(aa * bb);
}

TEST(FilterBankTest, MeanAbsoluteCorrelationMatchesPearsonByDefinition) {
  const Shape oihw{6, 3, 3, 3};
  const std::vector<float> weight = testing::random_values(element_count(oihw), 5);
  double sum = 0;
  int pairs = 0;
  for (size_t a = 0; a < 6; ++a) {
    for (size_t b = 0; b < 6; ++b) {
      if (a == b) continue;
      sum += std::abs(pearson(&weight[a * 27], &weight[b * 27], 27));
      ++pairs;
    }
  }
  EXPECT_NEAR(mean_absolute_filter_correlation(weight, oihw), sum / pairs, 1e-12);
}

TEST(FilterBankTest, FiltersThatRepeatEachOtherUpToSignAndScaleCorrelateFully) {
  // Filter 1 = -3 * filter 0 + 1, filter 2 constant (left out: r undefined).
  const std::vector<float> weight{1, 2, 4, 0, -2, -5, -11, 1, 7, 7, 7, 7};
  EXPECT_NEAR(mean_absolute_filter_correlation(weight, {3, 1, 2, 2}), 1.0, 1e-12);
  const std::vector<float> one_constant{7, 7, 7, 7, 1, 2, 3, 4};
  EXPECT_TRUE(std::isnan(mean_absolute_filter_correlation(one_constant, {2, 1, 2, 2})));
  const std::vector<float> single{1, 2, 3, 4};
  EXPECT_THROW(mean_absolute_filter_correlation(single, {1, 1, 2, 2}), ShapeError);
}

TEST(FilterBankTest, OneTilePerFilterForGrayOrRgbAndOnePerInputChannelOtherwise) {
  const std::vector<float> rgb = testing::random_values(2 * 3 * 2 * 2, 1);
  const auto tiles = filter_tiles(rgb, {2, 3, 2, 2});
  ASSERT_EQ(tiles.size(), 2u);
  EXPECT_EQ(tiles[1].channels, 3);
  EXPECT_EQ(tiles[1].values, std::vector<float>(rgb.begin() + 12, rgb.end()));

  const std::vector<float> deep = testing::random_values(2 * 4 * 3 * 3, 2);
  const auto planes = filter_tiles(deep, {2, 4, 3, 3});
  ASSERT_EQ(planes.size(), 8u);
  EXPECT_EQ(planes[5].channels, 1);  // filter 1, input channel 1
  EXPECT_EQ(planes[5].values, std::vector<float>(deep.begin() + 45, deep.begin() + 54));
  EXPECT_THROW(filter_tiles(deep, {2, 4, 3}), ShapeError);
}

}  // namespace
}  // namespace convoy::visual
