#include "framework/optim/sgd.hpp"

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

constexpr double kTolerance = 1e-6;

TEST(SgdTest, PlainStepSubtractsLearningRateTimesGradient) {
  ParameterList parameters;
  auto& weight = parameters.add("weight", {1.0f, -2.0f}, {0.5f, 0.25f});
  SGD sgd(parameters.named(), {});
  sgd.step(0.1);
  // 1 - 0.1 * 0.5 = 0.95;  -2 - 0.1 * 0.25 = -2.025
  expect_near(values_of(weight), {0.95f, -2.025f}, kTolerance);
  EXPECT_EQ(sgd.step_count(), 1);
}

// Without momentum there is no buffer and the update has a loop of its own: torch's
// d = g + weight_decay * p there too, in the serial and the parallel loop alike.
TEST(SgdTest, WeightDecayWithoutMomentumIsAddedToTheGradient) {
  for (const auto count : {size_t{1}, static_cast<size_t>(Optimizer::kParallelElements + 5)}) {
    ParameterList parameters;
    auto& weight =
        parameters.add("weight", std::vector<float>(count, 2.0f), std::vector<float>(count, 0.5f));
    SGD sgd(parameters.named(), {.weight_decay = 0.01});
    sgd.step(0.1);
    // d = 0.5 + 0.01 * 2 = 0.52;  p = 2 - 0.1 * 0.52 = 1.948
    expect_near(values_of(weight), std::vector<float>(count, 1.948f), kTolerance);
    EXPECT_TRUE(sgd.export_state().tensors.empty()) << "no momentum buffer";
  }
}

TEST(SgdTest, MomentumBufferStartsAtTheFirstGradient) {
  ParameterList parameters;
  auto& weight = parameters.add("weight", {1.0f}, {0.5f});
  SGD sgd(parameters.named(), {.momentum = 0.9});
  sgd.step(0.1);
  // step 1: buffer = g = 0.5 (not 0.1 * 0.5);  p = 1 - 0.1 * 0.5 = 0.95
  expect_near(values_of(weight), {0.95f}, kTolerance);
  set_grad(weight, {0.25f});
  sgd.step(0.1);
  // step 2: buffer = 0.9 * 0.5 + 0.25 = 0.7;  p = 0.95 - 0.1 * 0.7 = 0.88
  expect_near(values_of(weight), {0.88f}, kTolerance);
  const auto state = sgd.export_state();
  ASSERT_EQ(state.tensors.size(), 1u);
  expect_near(state.tensors[0].values, {0.7f}, kTolerance);
}

TEST(SgdTest, DampeningScalesNewGradientsButNotTheFirst) {
  ParameterList parameters;
  auto& weight = parameters.add("weight", {1.0f}, {0.5f});
  SGD sgd(parameters.named(), {.momentum = 0.9, .dampening = 0.5});
  sgd.step(0.1);
  // step 1: buffer = g = 0.5 (torch skips dampening here);  p = 0.95
  expect_near(values_of(weight), {0.95f}, kTolerance);
  set_grad(weight, {0.25f});
  sgd.step(0.1);
  // step 2: buffer = 0.9 * 0.5 + (1 - 0.5) * 0.25 = 0.575;  p = 0.95 - 0.0575 = 0.8925
  expect_near(values_of(weight), {0.8925f}, kTolerance);
}

TEST(SgdTest, NesterovStepsAlongGradientPlusMomentumTimesBuffer) {
  ParameterList parameters;
  auto& weight = parameters.add("weight", {1.0f}, {0.5f});
  SGD sgd(parameters.named(), {.momentum = 0.9, .nesterov = true});
  sgd.step(0.1);
  // step 1: buffer = 0.5;  d = 0.5 + 0.9 * 0.5 = 0.95;  p = 1 - 0.095 = 0.905
  expect_near(values_of(weight), {0.905f}, kTolerance);
  set_grad(weight, {0.25f});
  sgd.step(0.1);
  // step 2: buffer = 0.45 + 0.25 = 0.7;  d = 0.25 + 0.9 * 0.7 = 0.88;  p = 0.905 - 0.088 = 0.817
  expect_near(values_of(weight), {0.817f}, kTolerance);
}

TEST(SgdTest, WeightDecayIsAddedToTheGradientBeforeMomentum) {
  ParameterList parameters;
  auto& weight = parameters.add("weight", {2.0f}, {0.5f});
  SGD sgd(parameters.named(), {.momentum = 0.9, .weight_decay = 0.01});
  sgd.step(0.1);
  // step 1: d = 0.5 + 0.01 * 2 = 0.52 = buffer;  p = 2 - 0.052 = 1.948
  expect_near(values_of(weight), {1.948f}, kTolerance);
  sgd.step(0.1);
  // step 2: d = 0.5 + 0.01 * 1.948 = 0.51948;  buffer = 0.9 * 0.52 + 0.51948 = 0.98748;
  //         p = 1.948 - 0.098748 = 1.849252
  expect_near(values_of(weight), {1.849252f}, kTolerance);
}

TEST(SgdTest, ExemptionSkipsWeightDecayOnlyForBiasAndNormParameters) {
  for (const bool exempt : {false, true}) {
    ParameterList parameters;
    auto& weight = parameters.add("conv.weight", {2.0f}, {0.5f});
    auto& bias = parameters.add("bn.bias", {2.0f}, {0.5f}, /*is_bias_or_norm=*/true);
    SGD sgd(parameters.named(),
            {.momentum = 0.9, .weight_decay = 0.01, .exempt_bias_and_norm = exempt});
    sgd.step(0.1);
    // decayed: d = 0.5 + 0.01 * 2 = 0.52, p = 2 - 0.052 = 1.948;  exempt: p = 2 - 0.05 = 1.95
    expect_near(values_of(weight), {1.948f}, kTolerance);
    expect_near(values_of(bias), {exempt ? 1.95f : 1.948f}, kTolerance);
  }
}

TEST(SgdTest, LargeParameterTakesTheParallelLoopWithTheSameArithmetic) {
  const auto count = static_cast<size_t>(Optimizer::kParallelElements + 123);
  ParameterList parameters;
  auto& weight =
      parameters.add("weight", std::vector<float>(count, 1.0f), std::vector<float>(count, 0.5f));
  SGD sgd(parameters.named(), {.momentum = 0.9, .nesterov = true});
  sgd.step(0.1);
  // Same numbers as the nesterov test: every element becomes 0.905.
  expect_near(values_of(weight), std::vector<float>(count, 0.905f), kTolerance);
}

// Golden values from torch 1.13: torch.optim.SGD with two parameter groups (the second with
// weight_decay 0), lr 0.1, momentum 0.9, nesterov, weight_decay 0.01, three steps with the
// gradients below (the bias gets the first gradient component).
TEST(SgdTest, MatchesTorchOverThreeNesterovStepsWithExemptBias) {
  ParameterList parameters;
  auto& weight = parameters.add("weight", {1.0f, -2.0f, 0.3f}, {0.0f, 0.0f, 0.0f});
  auto& bias = parameters.add("bias", {0.5f}, {0.0f}, /*is_bias_or_norm=*/true);
  SGD sgd(parameters.named(),
          {.momentum = 0.9, .nesterov = true, .weight_decay = 0.01, .exempt_bias_and_norm = true});
  const std::vector<std::vector<float>> grads = {
      {0.5f, 0.25f, -1.0f}, {0.25f, -0.5f, 2.0f}, {1.0f, 1.0f, 1.0f}};
  for (const auto& grad : grads) {
    set_grad(weight, grad);
    set_grad(bias, {grad[0]});
    sgd.step(0.1);
  }
  expect_near(values_of(weight), {0.5628697276115417f, -2.124328136444092f, -0.09081762284040451f},
              1e-6);
  expect_near(values_of(bias), {0.07029999792575836f}, 1e-6);
}

TEST(SgdTest, RejectsNesterovWithoutMomentumNamingTheFields) {
  ParameterList parameters;
  parameters.add("weight", {1.0f}, {0.5f});
  EXPECT_THAT([&] { SGD sgd(parameters.named(), {.nesterov = true}); },
              ThrowsMessage<ConfigError>(HasSubstr("nesterov needs momentum > 0")));
  EXPECT_THROW(SGD(parameters.named(), {.momentum = -0.5}), ConfigError);
}

TEST(SgdTest, RejectsANonFiniteLearningRate) {
  ParameterList parameters;
  parameters.add("weight", {1.0f}, {0.5f});
  SGD sgd(parameters.named(), {});
  EXPECT_THROW(sgd.step(std::nan("")), TrainingError);
  EXPECT_EQ(sgd.step_count(), 0);
}

TEST(SgdTest, RejectsAParameterListedTwice) {
  ParameterList parameters;
  parameters.add("weight", {1.0f}, {0.5f});
  auto named = parameters.named();
  named.push_back(named[0]);
  EXPECT_THAT([&] { SGD sgd(named, {}); },
              ThrowsMessage<ConfigError>(HasSubstr("'weight' is listed twice")));
}

}  // namespace
}  // namespace convoy
