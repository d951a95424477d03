#include "framework/optim/adamw.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "framework/common/error.hpp"
#include "optimizer_testing.hpp"
#include "support/layer_testing.hpp"

namespace convoy {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

using testing::expect_near;
using testing::ParameterList;
using testing::set_grad;
using testing::values_of;

// lr 0.1, beta1 0.9, beta2 0.999, eps 1e-8, weight_decay 0.01; p = 1, g1 = 0.5, g2 = 0.25.
TEST(AdamWTest, TwoStepsApplyDecoupledDecayAndBiasCorrection) {
  ParameterList parameters;
  auto& weight = parameters.add("weight", {1.0f}, {0.5f});
  AdamW adamw(parameters.named(),
              {.beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.01});
  adamw.step(0.1);
  // step 1: p = 1 * (1 - 0.1 * 0.01) = 0.999;  m = 0.1 * 0.5 = 0.05;  v = 0.001 * 0.25 = 0.00025
  //   bias corrections 1 - 0.9 = 0.1 and 1 - 0.999 = 0.001: m_hat = 0.5, sqrt(v_hat) = 0.5
  //   p = 0.999 - 0.1 * 0.5 / (0.5 + 1e-8) = 0.899
  expect_near(values_of(weight), {0.899f}, 1e-6);
  set_grad(weight, {0.25f});
  adamw.step(0.1);
  // step 2: p = 0.899 * 0.999 = 0.898101
  //   m = 0.9 * 0.05 + 0.1 * 0.25 = 0.07;  v = 0.999 * 0.00025 + 0.001 * 0.0625 = 0.00031225
  //   bias corrections 1 - 0.81 = 0.19 and 1 - 0.998001 = 0.001999
  //   m_hat = 0.07 / 0.19 = 0.36842105;  sqrt(v_hat) = sqrt(0.00031225 / 0.001999) = 0.39522538
  //   p = 0.898101 - 0.1 * 0.36842105 / 0.39522538 = 0.898101 - 0.09321796 = 0.80488304
  expect_near(values_of(weight), {0.80488304f}, 1e-6);
  const auto state = adamw.export_state();
  ASSERT_EQ(state.tensors.size(), 2u);
  EXPECT_EQ(state.tensors[0].name, "weight.exp_avg");
  EXPECT_EQ(state.tensors[1].name, "weight.exp_avg_sq");
  expect_near(state.tensors[0].values, {0.07f}, 1e-7);
  expect_near(state.tensors[1].values, {0.00031225f}, 1e-9);
}

TEST(AdamWTest, ExemptBiasIsNotDecayed) {
  ParameterList parameters;
  auto& weight = parameters.add("fc.weight", {1.0f}, {0.5f});
  auto& bias = parameters.add("fc.bias", {1.0f}, {0.5f}, /*is_bias_or_norm=*/true);
  AdamW adamw(parameters.named(), {.weight_decay = 0.01, .exempt_bias_and_norm = true});
  adamw.step(0.1);
  // weight: 1 * 0.999 - 0.1 = 0.899;  bias: 1 - 0.1 = 0.9 (the Adam step alone)
  expect_near(values_of(weight), {0.899f}, 1e-6);
  expect_near(values_of(bias), {0.9f}, 1e-6);
}

TEST(AdamWTest, LargeParameterTakesTheParallelLoopWithTheSameArithmetic) {
  const auto count = static_cast<size_t>(Optimizer::kParallelElements * 2);
  ParameterList parameters;
  auto& weight =
      parameters.add("weight", std::vector<float>(count, 1.0f), std::vector<float>(count, 0.5f));
  AdamW adamw(parameters.named(), {.weight_decay = 0.01});
  adamw.step(0.1);
  expect_near(values_of(weight), std::vector<float>(count, 0.899f), 1e-6);
}

// Golden values from torch 1.13: torch.optim.AdamW with two parameter groups (the second with
// weight_decay 0), lr 0.1 and defaults otherwise (betas 0.9/0.999, eps 1e-8, weight_decay
// 0.01), three steps with the gradients below (the bias gets the first gradient component).
TEST(AdamWTest, MatchesTorchOverThreeStepsWithExemptBias) {
  ParameterList parameters;
  auto& weight = parameters.add("weight", {1.0f, -2.0f, 0.3f}, {0.0f, 0.0f, 0.0f});
  auto& bias = parameters.add("bias", {0.5f}, {0.0f}, /*is_bias_or_norm=*/true);
  AdamW adamw(parameters.named(), {.exempt_bias_and_norm = true});
  const std::vector<std::vector<float>> grads = {
      {0.5f, 0.25f, -1.0f}, {0.25f, -0.5f, 2.0f}, {1.0f, 1.0f, 1.0f}};
  for (const auto& grad : grads) {
    set_grad(weight, grad);
    set_grad(bias, {grad[0]});
    adamw.step(0.1);
  }
  expect_near(values_of(weight), {0.713169515132904f, -2.0991978645324707f, 0.31040316820144653f},
              1e-6);
  expect_near(values_of(bias), {0.21587339043617249f}, 1e-6);
}

TEST(AdamWTest, RejectsBetaOutsideTheUnitIntervalNamingTheField) {
  ParameterList parameters;
  parameters.add("weight", {1.0f}, {0.5f});
  EXPECT_THAT([&] { AdamW adamw(parameters.named(), {.beta2 = 1.0}); },
              ThrowsMessage<ConfigError>(HasSubstr("beta2 must be in [0, 1)")));
  EXPECT_THROW(AdamW(parameters.named(), {.eps = 0.0}), ConfigError);
}

}  // namespace
}  // namespace convoy
