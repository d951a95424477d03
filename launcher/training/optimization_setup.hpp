#pragma once
// From a RunConfig to the optimizer and the learning-rate schedule.

#include <memory>

#include "framework/optim/learning_rate_schedule.hpp"
#include "framework/optim/optimizer.hpp"
#include "launcher/run_config.hpp"

namespace convoy::launcher {

std::unique_ptr<Optimizer> optimizer_from_config(const RunConfig& config,
                                                 const std::vector<NamedParameter>& parameters);
// The base learning rate is scaled by the linear rule when --lr-reference-batch is set.
LearningRateSchedule schedule_from_config(const RunConfig& config, int64_t steps_per_epoch);

}  // namespace convoy::launcher
