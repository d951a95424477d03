#include "framework/optim/gradient_clipping.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "framework/common/error.hpp"
#include "optimizer_testing.hpp"
#include "support/layer_testing.hpp"

namespace convoy {
namespace {

using testing::expect_near;
using testing::ParameterList;

// Gradients (3, 4) and (12): total norm sqrt(9 + 16 + 144) = 13.
ParameterList three_four_twelve() {
  ParameterList parameters;
  parameters.add("conv.weight", {0.0f, 0.0f}, {3.0f, 4.0f});
  parameters.add("conv.bias", {0.0f}, {12.0f}, /*is_bias_or_norm=*/true);
  return parameters;
}

TEST(GradientClippingTest, ScalesAllGradientsByMaxNormOverTotalNorm) {
  auto parameters = three_four_twelve();
  EXPECT_NEAR(global_grad_norm(parameters.named()), 13.0, 1e-12);
  const double total = clip_grad_norm(parameters.named(), 6.5);
  EXPECT_NEAR(total, 13.0, 1e-12);
  // factor 6.5 / (13 + 1e-6) ~= 0.5: (1.5, 2), (6); the new global norm is ~6.5
  expect_near(parameters[0].grad.to_plain(), {1.5f, 2.0f}, 1e-6);
  expect_near(parameters[1].grad.to_plain(), {6.0f}, 1e-6);
  EXPECT_NEAR(global_grad_norm(parameters.named()), 6.5, 1e-5);
}

TEST(GradientClippingTest, LeavesGradientsBelowTheMaximumUntouched) {
  auto parameters = three_four_twelve();
  EXPECT_NEAR(clip_grad_norm(parameters.named(), 20.0), 13.0, 1e-12);
  EXPECT_EQ(parameters[0].grad.to_plain(), (std::vector<float>{3.0f, 4.0f}));
  EXPECT_EQ(parameters[1].grad.to_plain(), (std::vector<float>{12.0f}));
}

TEST(GradientClippingTest, AccumulatesInDoubleSoManySmallGradientsAreNotLost) {
  // 2^20 gradients of 1e-4 plus one of 1: a float running sum of squares would stall at 1
  // (1e-8 is below half an ulp of 1); the exact norm is sqrt(1 + 2^20 * 1e-8) = 1.0052294.
  std::vector<float> grads(std::size_t{1} << 20, 1e-4f);
  grads[0] = 1.0f;
  ParameterList parameters;
  parameters.add("weight", std::vector<float>(grads.size(), 0.0f), grads);
  const double small = 1e-4f;  // the float value, widened
  const double expected = std::sqrt(1.0 + (std::pow(2.0, 20) - 1) * small * small);
  EXPECT_NEAR(global_grad_norm(parameters.named()), expected, 1e-9);
}

TEST(GradientClippingTest, NonFiniteNormIsReturnedAndGradientsAreLeftAlone) {
  ParameterList parameters;
  parameters.add("weight", {0.0f, 0.0f}, {std::nanf(""), 4.0f});
  EXPECT_TRUE(std::isnan(clip_grad_norm(parameters.named(), 1.0)));
  EXPECT_EQ(parameters[0].grad.to_plain()[1], 4.0f);
}

TEST(GradientClippingTest, RejectsANonPositiveMaximum) {
  auto parameters = three_four_twelve();
  EXPECT_THROW(clip_grad_norm(parameters.named(), 0.0), ConfigError);
}

}  // namespace
}  // namespace convoy
