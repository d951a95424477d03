#include "framework/distributed/gradient_accumulator.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../optim/optimizer_testing.hpp"
#include "framework/common/error.hpp"

namespace convoy {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

using testing::ParameterList;
using testing::set_grad;

std::vector<float> grad_of(const Parameter& parameter) { return parameter.grad.to_plain(); }

// Values are small integers and halves, so every sum below is exact and compared with ==.
TEST(GradientAccumulatorTest, TheLastBackwardAddsTheSumOfTheEarlierOnes) {
  ParameterList parameters;
  auto& weight = parameters.add("weight", {0, 0, 0}, {1, 2, 3});
  auto& bias = parameters.add("bias", {0}, {0.5f});
  GradientAccumulator accumulator(parameters.named());
  accumulator.start_step();
  accumulator.keep();  // micro-batch 0: weight {1, 2, 3}, bias 0.5
  set_grad(weight, {10, 20, 30});
  set_grad(bias, {4});
  accumulator.keep();  // micro-batch 1
  set_grad(weight, {100, 200, 300});
  set_grad(bias, {-8});
  // The last backward reports bias first (backward order), then weight.
  accumulator.fold_into(std::vector<int>{1});
  EXPECT_EQ(grad_of(bias), std::vector<float>({-3.5f}));
  EXPECT_EQ(grad_of(weight), std::vector<float>({100, 200, 300})) << "not reported yet";
  accumulator.fold_into(std::vector<int>{0});
  EXPECT_EQ(grad_of(weight), std::vector<float>({111, 222, 333}));
}

TEST(GradientAccumulatorTest, ANewStepForgetsTheLastStepsSum) {
  ParameterList parameters;
  auto& weight = parameters.add("weight", {0, 0}, {1, 1});
  GradientAccumulator accumulator(parameters.named());
  accumulator.start_step();
  accumulator.keep();
  set_grad(weight, {2, 2});
  accumulator.fold_into(std::vector<int>{0});
  EXPECT_EQ(grad_of(weight), std::vector<float>({3, 3}));

  accumulator.start_step();
  set_grad(weight, {5, 6});
  accumulator.keep();  // copies: the previous step's {1, 1} is gone
  set_grad(weight, {7, 8});
  accumulator.fold_into(std::vector<int>{0});
  EXPECT_EQ(grad_of(weight), std::vector<float>({12, 14}));
}

TEST(GradientAccumulatorTest, AStepWithOneBackwardLeavesTheGradientAlone) {
  ParameterList parameters;
  auto& weight = parameters.add("weight", {0, 0}, {1, 1});
  GradientAccumulator accumulator(parameters.named());
  accumulator.start_step();
  accumulator.keep();
  accumulator.start_step();  // nothing kept in this step
  set_grad(weight, {4, -4});
  accumulator.fold_into(std::vector<int>{0});
  EXPECT_EQ(grad_of(weight), std::vector<float>({4, -4}));
}

TEST(GradientAccumulatorTest, AnUnknownParameterIndexIsNamed) {
  ParameterList parameters;
  parameters.add("weight", {0}, {1});
  GradientAccumulator accumulator(parameters.named());
  accumulator.start_step();
  accumulator.keep();
  EXPECT_THAT([&] { accumulator.fold_into(std::vector<int>{3}); },
              ThrowsMessage<DistributedError>(HasSubstr("unknown parameter index 3")));
}

}  // namespace
}  // namespace convoy
