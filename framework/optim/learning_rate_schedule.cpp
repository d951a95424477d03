#include "framework/optim/learning_rate_schedule.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "framework/common/error.hpp"

namespace convoy {
namespace {

[[noreturn]] void fail(const LearningRateScheduleConfig& config, const std::string& field,
                       const std::string& expected, double got) {
  throw ConfigError("learning rate schedule '" + config.name + "': " + field + " must be " +
                    expected + ", got " + std::to_string(got));
}

}  // namespace

LearningRateSchedule::LearningRateSchedule(LearningRateScheduleConfig config)
    : config_(std::move(config)) {
  const auto& c = config_;
  if (c.name == "constant") {
    kind_ = Kind::constant;
  } else if (c.name == "step") {
    kind_ = Kind::step;
  } else if (c.name == "multistep") {
    kind_ = Kind::multistep;
  } else if (c.name == "cosine") {
    kind_ = Kind::cosine;
  } else {
    throw ConfigError("learning rate schedule: unknown name '" + c.name +
                      "', expected constant, step, multistep or cosine");
  }
  if (!(c.base_learning_rate >= 0.0) || !std::isfinite(c.base_learning_rate)) {
    fail(c, "base_learning_rate", "finite and >= 0", c.base_learning_rate);
  }
  if (c.steps_per_epoch < 1) {
    fail(c, "steps_per_epoch", ">= 1", static_cast<double>(c.steps_per_epoch));
  }
  if (!(c.warmup_epochs >= 0.0) || !std::isfinite(c.warmup_epochs)) {
    fail(c, "warmup_epochs", "finite and >= 0", c.warmup_epochs);
  }
  if (c.warmup_epochs > 0.0 && !(c.warmup_start_factor > 0.0 && c.warmup_start_factor <= 1.0)) {
    fail(c, "warmup_start_factor", "in (0, 1]", c.warmup_start_factor);
  }
  if ((kind_ == Kind::step || kind_ == Kind::multistep) && !(c.gamma > 0.0)) {
    fail(c, "gamma", "> 0", c.gamma);
  }
  if (kind_ == Kind::step && !(c.step_size_epochs > 0.0)) {
    fail(c, "step_size_epochs", "> 0", c.step_size_epochs);
  }
  if (kind_ == Kind::multistep) {
    if (c.milestones_epochs.empty()) {
      throw ConfigError("learning rate schedule 'multistep': milestones_epochs is empty");
    }
    for (size_t i = 0; i < c.milestones_epochs.size(); ++i) {
      const double previous = i == 0 ? 0.0 : c.milestones_epochs[i - 1];
      if (!(c.milestones_epochs[i] > previous)) {
        fail(c, "milestones_epochs[" + std::to_string(i) + "]",
             "> " + std::to_string(previous) + " (positive, increasing)", c.milestones_epochs[i]);
      }
    }
  }
  if (kind_ == Kind::cosine) {
    if (!(c.total_epochs > c.warmup_epochs)) {
      fail(c, "total_epochs", "> warmup_epochs (" + std::to_string(c.warmup_epochs) + ")",
           c.total_epochs);
    }
    if (!(c.min_learning_rate >= 0.0 && c.min_learning_rate <= c.base_learning_rate)) {
      fail(c, "min_learning_rate", "in [0, base_learning_rate]", c.min_learning_rate);
    }
  }
}

double LearningRateSchedule::epoch_of(int64_t step) const {
  return static_cast<double>(step) / static_cast<double>(config_.steps_per_epoch);
}

double LearningRateSchedule::learning_rate(int64_t step) const {
  const double epoch = epoch_of(std::max<int64_t>(step, 0));
  return warmup_factor(epoch) * main_learning_rate(epoch);
}

double LearningRateSchedule::warmup_factor(double epoch) const {
  if (epoch >= config_.warmup_epochs) return 1.0;
  const double start = config_.warmup_start_factor;
  return start + (1.0 - start) * epoch / config_.warmup_epochs;
}

double LearningRateSchedule::main_learning_rate(double epoch) const {
  const auto& c = config_;
  switch (kind_) {
    case Kind::constant:
      return c.base_learning_rate;
    case Kind::step:
      return c.base_learning_rate * std::pow(c.gamma, std::floor(epoch / c.step_size_epochs));
    case Kind::multistep: {
      const auto passed =
          std::upper_bound(c.milestones_epochs.begin(), c.milestones_epochs.end(), epoch) -
          c.milestones_epochs.begin();
      return c.base_learning_rate * std::pow(c.gamma, static_cast<double>(passed));
    }
    case Kind::cosine: {
      const double length = c.total_epochs - c.warmup_epochs;
      const double progress = std::clamp(epoch - c.warmup_epochs, 0.0, length) / length;
      return c.min_learning_rate + (c.base_learning_rate - c.min_learning_rate) *
                                       (1.0 + std::cos(std::numbers::pi * progress)) / 2.0;
    }
  }
  return c.base_learning_rate;
}

std::string LearningRateSchedule::describe() const {
  const auto& c = config_;
  std::string text = c.name + "(base_learning_rate=" + std::to_string(c.base_learning_rate);
  switch (kind_) {
    case Kind::constant:
      break;
    case Kind::step:
      text += ", step_size_epochs=" + std::to_string(c.step_size_epochs) +
              ", gamma=" + std::to_string(c.gamma);
      break;
    case Kind::multistep:
      text += ", milestones_epochs=[";
      for (size_t i = 0; i < c.milestones_epochs.size(); ++i) {
        text += (i ? ", " : "") + std::to_string(c.milestones_epochs[i]);
      }
      text += "], gamma=" + std::to_string(c.gamma);
      break;
    case Kind::cosine:
      text += ", total_epochs=" + std::to_string(c.total_epochs) +
              ", min_learning_rate=" + std::to_string(c.min_learning_rate);
      break;
  }
  if (c.warmup_epochs > 0.0) {
    text += ", warmup_epochs=" + std::to_string(c.warmup_epochs) +
            ", warmup_start_factor=" + std::to_string(c.warmup_start_factor);
  }
  return text + ", steps_per_epoch=" + std::to_string(c.steps_per_epoch) + ")";
}

double scaled_learning_rate(double base_learning_rate, int64_t global_batch,
                            int64_t reference_batch) {
  if (global_batch < 1 || reference_batch < 1) {
    throw ConfigError("linear scaling rule: global_batch and reference_batch must be >= 1, got " +
                      std::to_string(global_batch) + " and " + std::to_string(reference_batch));
  }
  return base_learning_rate * static_cast<double>(global_batch) /
         static_cast<double>(reference_batch);
}

}  // namespace convoy
