#pragma once
// Optimizer: updates a list of named parameters from their gradients, after
// torch.optim.Optimizer.
//
// Why it looks this way:
// 1. Parameters and gradients are plain f32 (Parameter's contract), so an update is a flat loop
//    over floats: one pass per parameter that reads the gradient once and writes the value and
//    every state buffer once, vectorized, and split over OpenMP threads when the parameter is
//    large enough to pay for the fork.
// 2. The learning rate is an argument of step(), not a member: the schedule is a pure function
//    of the step count, so resuming needs only the step count and the state buffers.
// 3. State buffers live here, keyed by (parameter, state key) like torch's state_dict, and are
//    created at the first step (torch creates them lazily too), so a snapshot taken before any
//    step is empty and one taken after holds every buffer.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "framework/graph/named_tensors.hpp"
#include "framework/optim/optimizer_state.hpp"

namespace convoy {

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // Applies one update with this learning rate to every parameter, from its current gradient.
  void step(double learning_rate);
  int64_t step_count() const { return step_count_; }
  const std::string& kind() const { return kind_; }
  // One line with the hyperparameters, for logs.
  virtual std::string describe() const = 0;

  // Parameters with at least this many elements are updated by all OpenMP threads; below it
  // the fork costs more than the loop.
  static constexpr int64_t kParallelElements = int64_t{1} << 15;

  OptimizerSnapshot export_state() const;
  // Replaces the state with a snapshot from export_state() of the same kind of optimizer over
  // the same parameters. Validates everything first and throws ConfigError naming the first
  // entry that is unknown, missing, duplicated or of the wrong shape; on error nothing changes.
  void import_state(const OptimizerSnapshot& snapshot);

 protected:
  // `state_keys` name the per-parameter buffers (each shaped like the parameter), e.g.
  // {"momentum_buffer"}; throws ConfigError on duplicate names or unusable tensors.
  Optimizer(std::string kind, std::vector<NamedParameter> parameters,
            std::vector<std::string> state_keys);

  // Updates one parameter in place. `state` holds one buffer per state key, in the order given
  // to the constructor, zero-filled when created; step_count() already counts this step.
  virtual void update(Parameter& parameter, std::span<std::vector<float>> state,
                      double learning_rate) = 0;

 private:
  std::string kind_;
  std::vector<NamedParameter> parameters_;
  std::vector<std::string> state_keys_;
  std::vector<std::vector<std::vector<float>>> state_;  // [parameter][state key][element]
  int64_t step_count_ = 0;
};

}  // namespace convoy
