#include "launcher/training/optimization_setup.hpp"

#include "framework/optim/optimizer_factory.hpp"

namespace convoy::launcher {

std::unique_ptr<Optimizer> optimizer_from_config(const RunConfig& c,
                                                 const std::vector<NamedParameter>& parameters) {
  OptimizerConfig config;
  config.name = c.optimizer;
  config.sgd.momentum = c.momentum;
  config.sgd.nesterov = c.nesterov;
  config.sgd.weight_decay = c.weight_decay;
  config.sgd.exempt_bias_and_norm = c.no_decay_bias_norm;
  config.adamw.beta1 = c.adam_beta1;
  config.adamw.beta2 = c.adam_beta2;
  config.adamw.eps = c.adam_epsilon;
  config.adamw.weight_decay = c.weight_decay;
  config.adamw.exempt_bias_and_norm = c.no_decay_bias_norm;
  return make_optimizer(config, parameters);
}

LearningRateSchedule schedule_from_config(const RunConfig& c, int64_t steps_per_epoch) {
  LearningRateScheduleConfig config;
  config.name = c.schedule;
  config.base_learning_rate =
      c.lr_reference_batch > 0
          ? scaled_learning_rate(c.learning_rate, c.batch_size, c.lr_reference_batch)
          : c.learning_rate;
  config.steps_per_epoch = steps_per_epoch;
  config.warmup_epochs = c.warmup_epochs;
  config.warmup_start_factor = c.warmup_start_factor;
  config.gamma = c.gamma;
  config.step_size_epochs = static_cast<double>(c.step_size);
  for (int64_t milestone : c.milestones)
    config.milestones_epochs.push_back(static_cast<double>(milestone));
  config.total_epochs = static_cast<double>(c.epochs);
  config.min_learning_rate = c.min_learning_rate;
  return LearningRateSchedule(config);
}

}  // namespace convoy::launcher
