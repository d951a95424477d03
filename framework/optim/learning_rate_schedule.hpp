#pragma once
// LearningRateSchedule: the learning rate as a pure function of the optimizer step, after the
// schedules of torchvision's classification reference recipes.
//
// Why it looks this way:
// 1. learning_rate(step) has no hidden state, so a resumed run needs only the step count that
//    the optimizer snapshot already carries; nothing is replayed.
// 2. Times are in epochs, fractional (epoch = step / steps_per_epoch), because recipes are
//    written in epochs and the step count per epoch depends on the global batch. Warmup and
//    cosine therefore move every step (smoother than torchvision's once-per-epoch scheduler
//    step; the same values at epoch boundaries), while step and multi-step decays happen
//    exactly at the epoch boundary. steps_per_epoch = 1 makes every epoch field a step count.
// 3. Warmup multiplies the main schedule by a factor rising linearly from warmup_start_factor
//    at epoch 0 to 1 at warmup_epochs (torchvision's LinearLR; Goyal et al. 2017 use the same
//    ramp). Step and multi-step milestones are absolute epochs, as in Goyal et al. (decay at
//    30, 60, 80 with 5 warmup epochs); cosine runs over the epochs after warmup, as
//    torchvision's CosineAnnealingLR(T_max = epochs - warmup_epochs).

#include <cstdint>
#include <string>
#include <vector>

namespace convoy {

struct LearningRateScheduleConfig {
  std::string name = "constant";    // "constant", "step", "multistep", "cosine"
  double base_learning_rate = 0.1;  // already scaled (see scaled_learning_rate) if the recipe is
  int64_t steps_per_epoch = 1;
  double warmup_epochs = 0.0;               // 0: no warmup
  double warmup_start_factor = 0.01;        // torchvision's --lr-warmup-decay default
  double gamma = 0.1;                       // step, multistep: factor per decay
  double step_size_epochs = 30.0;           // step: decay every this many epochs
  std::vector<double> milestones_epochs{};  // multistep: decay at each of these epochs
  double total_epochs = 0.0;                // cosine: reaches min_learning_rate here
  double min_learning_rate = 0.0;           // cosine: torch's eta_min
};

class LearningRateSchedule {
 public:
  // Validates the fields the named schedule uses; throws ConfigError naming the field.
  explicit LearningRateSchedule(LearningRateScheduleConfig config);

  // Learning rate of the update that follows `step` completed updates (0-based), so the
  // trainer calls optimizer.step(schedule.learning_rate(optimizer.step_count())).
  double learning_rate(int64_t step) const;
  double epoch_of(int64_t step) const;
  const LearningRateScheduleConfig& config() const { return config_; }
  std::string describe() const;  // one line for logs

 private:
  enum class Kind { constant, step, multistep, cosine };
  double warmup_factor(double epoch) const;
  double main_learning_rate(double epoch) const;

  LearningRateScheduleConfig config_;
  Kind kind_ = Kind::constant;
};

// The linear scaling rule (Goyal et al. 2017): base_learning_rate * global_batch /
// reference_batch. Throws ConfigError unless both batches are > 0.
double scaled_learning_rate(double base_learning_rate, int64_t global_batch,
                            int64_t reference_batch);

}  // namespace convoy
