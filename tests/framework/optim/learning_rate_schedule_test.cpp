#include "framework/optim/learning_rate_schedule.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "framework/common/error.hpp"

namespace convoy {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

constexpr double kTolerance = 1e-12;

void expect_config_error(const LearningRateScheduleConfig& config, const std::string& fragment) {
  EXPECT_THAT([&] { LearningRateSchedule schedule(config); },
              ThrowsMessage<ConfigError>(HasSubstr(fragment)));
}

TEST(LearningRateScheduleTest, ConstantNeverChanges) {
  LearningRateSchedule schedule({.name = "constant", .base_learning_rate = 0.1});
  EXPECT_NEAR(schedule.learning_rate(0), 0.1, kTolerance);
  EXPECT_NEAR(schedule.learning_rate(123456), 0.1, kTolerance);
}

// base 0.1, 100 steps per epoch, warmup 5 epochs from factor 0.01, cosine to 0.001 at epoch 105
// (so the cosine spans the 100 epochs after warmup).
TEST(LearningRateScheduleTest, WarmupThenCosineAtChosenSteps) {
  LearningRateSchedule schedule({.name = "cosine",
                                 .base_learning_rate = 0.1,
                                 .steps_per_epoch = 100,
                                 .warmup_epochs = 5,
                                 .warmup_start_factor = 0.01,
                                 .total_epochs = 105,
                                 .min_learning_rate = 0.001});
  // warmup start: 0.1 * 0.01
  EXPECT_NEAR(schedule.learning_rate(0), 0.001, kTolerance);
  // epoch 2.5 (fractional): factor 0.01 + 0.99 * 2.5 / 5 = 0.505
  EXPECT_NEAR(schedule.learning_rate(250), 0.0505, kTolerance);
  // end of warmup = start of the cosine: the base rate
  EXPECT_NEAR(schedule.learning_rate(500), 0.1, kTolerance);
  // a quarter in (epoch 30): 0.001 + 0.099 * (1 + cos(pi / 4)) / 2 = 0.0855017856687341
  EXPECT_NEAR(schedule.learning_rate(3000), 0.0855017856687341, kTolerance);
  // midpoint (epoch 55): 0.001 + 0.099 / 2
  EXPECT_NEAR(schedule.learning_rate(5500), 0.0505, kTolerance);
  // end (epoch 105) and beyond: the minimum
  EXPECT_NEAR(schedule.learning_rate(10500), 0.001, kTolerance);
  EXPECT_NEAR(schedule.learning_rate(20000), 0.001, kTolerance);
}

TEST(LearningRateScheduleTest, StepDecaysExactlyAtTheEpochBoundary) {
  LearningRateSchedule schedule({.name = "step",
                                 .base_learning_rate = 0.1,
                                 .steps_per_epoch = 10,
                                 .gamma = 0.1,
                                 .step_size_epochs = 30});
  EXPECT_NEAR(schedule.learning_rate(299), 0.1, kTolerance);    // epoch 29.9
  EXPECT_NEAR(schedule.learning_rate(300), 0.01, kTolerance);   // epoch 30
  EXPECT_NEAR(schedule.learning_rate(599), 0.01, kTolerance);   // epoch 59.9
  EXPECT_NEAR(schedule.learning_rate(600), 0.001, kTolerance);  // epoch 60
}

// Goyal et al.'s ImageNet recipe shape: 5 warmup epochs, decay by 10 at epochs 30, 60, 80.
TEST(LearningRateScheduleTest, MultiStepWithWarmupUsesAbsoluteMilestones) {
  LearningRateSchedule schedule({.name = "multistep",
                                 .base_learning_rate = 0.1,
                                 .steps_per_epoch = 10,
                                 .warmup_epochs = 5,
                                 .warmup_start_factor = 0.1,
                                 .gamma = 0.1,
                                 .milestones_epochs = {30, 60, 80}});
  EXPECT_NEAR(schedule.learning_rate(0), 0.01, kTolerance);
  // epoch 2.5: 0.1 * (0.1 + 0.9 * 0.5) = 0.055
  EXPECT_NEAR(schedule.learning_rate(25), 0.055, kTolerance);
  EXPECT_NEAR(schedule.learning_rate(50), 0.1, kTolerance);
  EXPECT_NEAR(schedule.learning_rate(299), 0.1, kTolerance);
  EXPECT_NEAR(schedule.learning_rate(300), 0.01, kTolerance);
  EXPECT_NEAR(schedule.learning_rate(600), 0.001, kTolerance);
  EXPECT_NEAR(schedule.learning_rate(800), 0.0001, kTolerance);
}

TEST(LearningRateScheduleTest, OneStepPerEpochMakesEpochFieldsCountSteps) {
  LearningRateSchedule schedule(
      {.name = "cosine", .base_learning_rate = 1.0, .steps_per_epoch = 1, .total_epochs = 4});
  // cosine over 4 steps: (1 + cos(pi * t / 4)) / 2 for t = 0, 2, 4
  EXPECT_NEAR(schedule.learning_rate(0), 1.0, kTolerance);
  EXPECT_NEAR(schedule.learning_rate(2), 0.5, kTolerance);
  EXPECT_NEAR(schedule.learning_rate(4), 0.0, kTolerance);
  EXPECT_NEAR(schedule.epoch_of(3), 3.0, kTolerance);
}

TEST(LearningRateScheduleTest, IsAPureFunctionOfTheStepSoResumeNeedsNoReplay) {
  const LearningRateScheduleConfig config{.name = "cosine",
                                          .base_learning_rate = 0.1,
                                          .steps_per_epoch = 7,
                                          .warmup_epochs = 2,
                                          .total_epochs = 10};
  LearningRateSchedule first(config);
  std::vector<double> in_order;
  for (int64_t step = 0; step < 70; ++step) in_order.push_back(first.learning_rate(step));
  LearningRateSchedule resumed(config);  // a fresh object, queried backwards
  for (int64_t step = 69; step >= 0; --step) {
    EXPECT_EQ(resumed.learning_rate(step), in_order[static_cast<size_t>(step)]) << step;
  }
}

TEST(LearningRateScheduleTest, LinearScalingRuleMultipliesByBatchRatio) {
  // Goyal et al.: 0.1 per 256 images, so a global batch of 1024 trains at 0.4.
  EXPECT_NEAR(scaled_learning_rate(0.1, 1024, 256), 0.4, kTolerance);
  EXPECT_NEAR(scaled_learning_rate(0.1, 128, 256), 0.05, kTolerance);
  EXPECT_THROW(scaled_learning_rate(0.1, 0, 256), ConfigError);
}

TEST(LearningRateScheduleTest, InvalidConfigsNameTheField) {
  expect_config_error({.name = "linear"}, "unknown name 'linear'");
  expect_config_error({.name = "cosine", .warmup_epochs = 5, .total_epochs = 5},
                      "total_epochs must be > warmup_epochs");
  expect_config_error({.name = "multistep", .milestones_epochs = {30, 30}},
                      "milestones_epochs[1] must be > 30");
  expect_config_error({.name = "multistep"}, "milestones_epochs is empty");
  expect_config_error({.name = "step", .step_size_epochs = 0}, "step_size_epochs must be > 0");
  expect_config_error({.name = "constant", .steps_per_epoch = 0}, "steps_per_epoch must be >= 1");
  expect_config_error({.name = "constant", .warmup_epochs = 1, .warmup_start_factor = 0},
                      "warmup_start_factor must be in (0, 1]");
  expect_config_error(
      {.name = "cosine", .base_learning_rate = 0.1, .total_epochs = 9, .min_learning_rate = 0.2},
      "min_learning_rate must be in [0, base_learning_rate]");
}

}  // namespace
}  // namespace convoy
