#include "framework/health/health_statistics.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "framework/common/error.hpp"
#include "framework/optim/optimizer_testing.hpp"
#include "framework/optim/sgd.hpp"

namespace convoy::health {
namespace {

// 2 images, 4 channels, 2x2, row-major NCHW. Over the 8 (image, position) samples:
//   channel 0: all zero (dead)
//   channel 1: 1..8
//   channel 2: 2 x channel 1            -> r(1, 2) = 1
//   channel 3: 1 0 0 1 1 0 0 1          -> centered, orthogonal to channel 1: r(1, 3) = r(2, 3) = 0
const Shape kShape{2, 4, 2, 2};
// One group of four values per channel:
// clang-format off
const std::vector<float> kBatch = {
    // image 0
    0, 0, 0, 0,  1, 2, 3, 4,  2, 4, 6, 8,  1, 0, 0, 1,
    // image 1
    0, 0, 0, 0,  5, 6, 7, 8,  10, 12, 14, 16,  1, 0, 0, 1};
// clang-format on

TEST(HealthStatisticsTest, ActivationStatisticsMatchHandComputedValues) {
  const ActivationStatistics s = activation_statistics(kBatch, kShape);
  // sum = 0 + 36 + 72 + 4 = 112 over 32 values; sum of squares = 204 + 816 + 4 = 1024
  EXPECT_DOUBLE_EQ(s.mean, 112.0 / 32);
  EXPECT_NEAR(s.standard_deviation, std::sqrt(1024.0 / 32 - 3.5 * 3.5), 1e-12);
  EXPECT_DOUBLE_EQ(s.dead_fraction, 0.25);
  EXPECT_EQ(s.channels, 4);
  // The dead channel is constant: pairs (1,2) |r| = 1, (1,3) = 0, (2,3) = 0.
  EXPECT_EQ(s.correlated_channels, 3);
  EXPECT_NEAR(s.mean_abs_correlation, 1.0 / 3, 1e-12);
}

TEST(HealthStatisticsTest, ChannelCapKeepsEvenlySpacedVaryingChannels) {
  // Varying channels are 1, 2, 3; two of them evenly spaced are 1 and 2, with |r| = 1.
  const ActivationStatistics s = activation_statistics(kBatch, kShape, {.max_channels = 2});
  EXPECT_EQ(s.correlated_channels, 2);
  EXPECT_NEAR(s.mean_abs_correlation, 1.0, 1e-12);
  EXPECT_DOUBLE_EQ(s.dead_fraction, 0.25) << "the cap applies to correlation only";
}

TEST(HealthStatisticsTest, SampleCapUsesEvenlySpacedRows) {
  // 4 of 8 rows: 0, 2, 4, 6. Channel 1: 1 3 5 7, channel 3: 1 0 1 0 (centered ±0.5, ch1 -3..3):
  // r(1,3) = (-3*.5 + -1*-.5 + 1*.5 + 3*-.5) / (sqrt(20) * 1) = -2 / sqrt(20).
  const ActivationStatistics s = activation_statistics(kBatch, kShape, {.max_samples = 4});
  const double r13 = 2 / std::sqrt(20.0);
  EXPECT_NEAR(s.mean_abs_correlation, (1 + 2 * r13) / 3, 1e-12);
}

TEST(HealthStatisticsTest, ConstantNonZeroChannelIsNeitherDeadNorCorrelated) {
  // (N, C) = (3, 2): channel 0 is 0.1 everywhere, channel 1 varies.
  const std::vector<float> features = {0.1f, 1, 0.1f, 2, 0.1f, 4};
  const ActivationStatistics s = activation_statistics(features, {3, 2});
  EXPECT_DOUBLE_EQ(s.dead_fraction, 0.0);
  EXPECT_EQ(s.correlated_channels, 1);
  EXPECT_DOUBLE_EQ(s.mean_abs_correlation, 0.0);
}

TEST(HealthStatisticsTest, AnticorrelatedChannelsCountAsCorrelated) {
  const std::vector<float> features = {1, -1, 2, -2, 4, -4};  // (3, 2)
  EXPECT_NEAR(activation_statistics(features, {3, 2}).mean_abs_correlation, 1.0, 1e-12);
}

TEST(HealthStatisticsTest, WrongShapesAreRejected) {
  EXPECT_THROW(activation_statistics(kBatch, {2, 4, 4}), ShapeError);
  EXPECT_THROW(activation_statistics(kBatch, {2, 4, 2, 3}), ShapeError);
  const std::vector<float> two = {1, 2}, three = {1, 2, 3};
  const ParameterStep mismatched{two, three, two};
  EXPECT_THROW(parameter_statistics({&mismatched, 1}), ShapeError);
}

TEST(HealthStatisticsTest, UpdateRatioOfAKnownSgdStep) {
  testing::ParameterList parameters;
  // weight (3, 4): norm 5, gradient (1, 2); bias (0): gradient (2).
  auto& weight = parameters.add("weight", {3.0f, 4.0f}, {1.0f, 2.0f});
  auto& bias = parameters.add("bias", {0.0f}, {2.0f}, true);
  const std::vector<float> weight_before = weight.value.to_plain();
  const std::vector<float> bias_before = bias.value.to_plain();
  SGD sgd(parameters.named(), {});
  sgd.step(0.1);
  const std::vector<float> weight_after = weight.value.to_plain();
  const std::vector<float> bias_after = bias.value.to_plain();
  const std::vector<float> weight_grad = weight.grad.to_plain(), bias_grad = bias.grad.to_plain();
  const std::vector<ParameterStep> steps = {{weight_before, weight_after, weight_grad},
                                            {bias_before, bias_after, bias_grad}};
  const ParameterStatistics s = parameter_statistics(steps);
  // ||w|| = sqrt(9 + 16 + 0) = 5; ||g|| = sqrt(1 + 4 + 4) = 3;
  // update = 0.1 * g, ||update|| = 0.3, ratio = 0.3 / 5 = 0.06.
  EXPECT_NEAR(s.weight_norm, 5.0, 1e-6);
  EXPECT_NEAR(s.gradient_norm, 3.0, 1e-6);
  EXPECT_NEAR(s.update_ratio, 0.06, 1e-6);
}

TEST(HealthStatisticsTest, UpdateOfAllZeroWeightsIsInfinite) {
  const std::vector<float> zero = {0, 0}, moved = {0, 1}, gradient = {0, -1};
  const ParameterStep step{zero, moved, gradient};
  EXPECT_TRUE(std::isinf(parameter_statistics({&step, 1}).update_ratio));
  const ParameterStep still{zero, zero, zero};
  EXPECT_EQ(parameter_statistics({&still, 1}).update_ratio, 0.0);
  EXPECT_DOUBLE_EQ(l2_norm(std::vector<float>{3, 4}), 5.0);
}

}  // namespace
}  // namespace convoy::health
