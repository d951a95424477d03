#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "framework/common/error.hpp"
#include "framework/optim/optimizer_factory.hpp"
#include "optimizer_testing.hpp"

namespace convoy {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

using testing::ParameterList;
using testing::set_grad;
using testing::values_of;

ParameterList two_parameters() {
  ParameterList parameters;
  parameters.add("layer1.0.conv1.weight", {1.0f, -2.0f, 0.3f}, {0.0f, 0.0f, 0.0f});
  parameters.add("layer1.0.bn1.bias", {0.5f}, {0.0f}, /*is_bias_or_norm=*/true);
  return parameters;
}

void set_step_grads(ParameterList& parameters, int step) {
  const float s = static_cast<float>(step + 1);
  set_grad(parameters[0], {0.5f * s, -0.25f / s, 1.0f - s});
  set_grad(parameters[1], {0.1f * s});
}

const OptimizerConfig kSgd{.name = "sgd",
                           .sgd = {.momentum = 0.9, .nesterov = true, .weight_decay = 1e-4}};
const OptimizerConfig kAdamW{.name = "adamw", .adamw = {.weight_decay = 0.05}};

// Trains 3 steps straight through, and separately 2 steps, snapshot, a fresh optimizer over a
// copy of the weights that imports the snapshot, then step 3: the weights must be identical.
void expect_resume_continues_identically(const OptimizerConfig& config) {
  auto straight = two_parameters();
  auto straight_optimizer = make_optimizer(config, straight.named());
  auto first = two_parameters();
  auto first_optimizer = make_optimizer(config, first.named());
  for (int step = 0; step < 2; ++step) {
    set_step_grads(straight, step);
    straight_optimizer->step(0.1);
    set_step_grads(first, step);
    first_optimizer->step(0.1);
  }
  const OptimizerSnapshot snapshot = first_optimizer->export_state();
  EXPECT_EQ(snapshot.scalars.at("step"), 2.0);

  auto resumed = two_parameters();
  for (size_t i = 0; i < 2; ++i) resumed[i].value.copy_from(first[i].value);
  auto resumed_optimizer = make_optimizer(config, resumed.named());
  resumed_optimizer->import_state(snapshot);
  EXPECT_EQ(resumed_optimizer->step_count(), 2);

  set_step_grads(straight, 2);
  straight_optimizer->step(0.1);
  set_step_grads(resumed, 2);
  resumed_optimizer->step(0.1);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(values_of(resumed[i]), values_of(straight[i])) << "parameter " << i;
  }
}

TEST(OptimizerStateTest, SgdResumeFromSnapshotContinuesIdentically) {
  expect_resume_continues_identically(kSgd);
}

TEST(OptimizerStateTest, AdamWResumeFromSnapshotContinuesIdenticallyIncludingBiasCorrection) {
  expect_resume_continues_identically(kAdamW);
}

TEST(OptimizerStateTest, SnapshotNamesEachBufferByParameterAndKey) {
  auto parameters = two_parameters();
  auto optimizer = make_optimizer(kSgd, parameters.named());
  auto before = optimizer->export_state();
  EXPECT_EQ(before.optimizer, "sgd");
  EXPECT_TRUE(before.tensors.empty());  // torch's state is empty before the first step
  EXPECT_EQ(before.scalars.at("step"), 0.0);

  set_step_grads(parameters, 0);
  optimizer->step(0.1);
  auto after = optimizer->export_state();
  ASSERT_EQ(after.tensors.size(), 2u);
  EXPECT_EQ(after.tensors[0].name, "layer1.0.conv1.weight.momentum_buffer");
  EXPECT_EQ(after.tensors[0].shape, (Shape{3}));
  // the first buffer is the first gradient plus weight decay: 0.5 + 1e-4 * 1
  EXPECT_NEAR(after.tensors[0].values[0], 0.5 + 1e-4, 1e-7);
  EXPECT_EQ(after.tensors[1].name, "layer1.0.bn1.bias.momentum_buffer");
}

void expect_import_error(const OptimizerConfig& config,
                         const std::function<void(OptimizerSnapshot&)>& corrupt,
                         const std::string& fragment) {
  auto parameters = two_parameters();
  auto optimizer = make_optimizer(config, parameters.named());
  set_step_grads(parameters, 0);
  optimizer->step(0.1);
  OptimizerSnapshot snapshot = optimizer->export_state();
  const OptimizerSnapshot original = snapshot;
  corrupt(snapshot);
  EXPECT_THAT([&] { optimizer->import_state(snapshot); },
              ThrowsMessage<ConfigError>(HasSubstr(fragment)));
  // A failed import changes nothing.
  const OptimizerSnapshot unchanged = optimizer->export_state();
  EXPECT_EQ(unchanged.scalars, original.scalars);
  ASSERT_EQ(unchanged.tensors.size(), original.tensors.size());
  for (size_t i = 0; i < unchanged.tensors.size(); ++i) {
    EXPECT_EQ(unchanged.tensors[i].values, original.tensors[i].values);
  }
}

TEST(OptimizerStateTest, ImportRejectsAnotherOptimizersState) {
  expect_import_error(
      kSgd, [](OptimizerSnapshot& s) { s.optimizer = "adamw"; },
      "sgd optimizer state: snapshot is for optimizer 'adamw'");
}

TEST(OptimizerStateTest, ImportRejectsAShapeMismatchNamingTheEntry) {
  expect_import_error(
      kAdamW,
      [](OptimizerSnapshot& s) {
        s.tensors[2].shape = {2, 2};
      },
      "entry 'layer1.0.bn1.bias.exp_avg' has shape (2, 2), expected (1)");
}

TEST(OptimizerStateTest, ImportRejectsAMissingEntryNamingIt) {
  expect_import_error(
      kAdamW, [](OptimizerSnapshot& s) { s.tensors.erase(s.tensors.begin() + 1); },
      "entry 'layer1.0.conv1.weight.exp_avg_sq' is missing");
}

TEST(OptimizerStateTest, ImportRejectsAnUnknownEntryNamingIt) {
  expect_import_error(
      kSgd, [](OptimizerSnapshot& s) { s.tensors[0].name = "layer9.weight.momentum_buffer"; },
      "unexpected entry 'layer9.weight.momentum_buffer'");
}

TEST(OptimizerStateTest, ImportRejectsTooFewValues) {
  expect_import_error(
      kSgd, [](OptimizerSnapshot& s) { s.tensors[0].values.pop_back(); },
      "entry 'layer1.0.conv1.weight.momentum_buffer' holds 2 values, expected 3");
}

TEST(OptimizerStateTest, ImportRejectsAMissingOrFractionalStepCount) {
  expect_import_error(
      kSgd, [](OptimizerSnapshot& s) { s.scalars.clear(); }, "scalar 'step' is missing");
  expect_import_error(
      kSgd, [](OptimizerSnapshot& s) { s.scalars["step"] = 1.5; },
      "scalar 'step' must be a whole number");
}

TEST(OptimizerStateTest, FactoryRejectsAnUnknownName) {
  auto parameters = two_parameters();
  EXPECT_THAT([&] { make_optimizer({.name = "lamb"}, parameters.named()); },
              ThrowsMessage<ConfigError>(HasSubstr("unknown name 'lamb'")));
  EXPECT_EQ(make_optimizer(kAdamW, parameters.named())->kind(), "adamw");
}

}  // namespace
}  // namespace convoy
