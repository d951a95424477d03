#pragma once
// ExponentialMovingAverage: a running average of a Net's parameters and BatchNorm buffers that
// can be evaluated in their place (torchvision's ExponentialMovingAverage with use_buffers=True,
// the reference recipes' --model-ema).
//
// Why it works this way:
// 1. The average is one flat copy of every parameter and buffer, in the Net's order.
// 2. Evaluating and checkpointing it swap the average with the Net's values and back: a swap
//    moves bits, never rounds, so training continues from exactly the weights it had, and the
//    average is saved and restored under the model's own names by the model's own code.
// 3. The update is torchvision's, in float: average = decay * average + (1 - decay) * value,
//    where the first update after construction or restart() copies the values. BatchNorm's
//    num_batches_tracked is a counter, not a statistic: the average takes the Net's count
//    (torchvision truncates its blend to an integer), so it stays a whole number.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "framework/graph/net.hpp"

namespace convoy {

class ExponentialMovingAverage {
 public:
  // ConfigError unless 0 <= decay < 1. Keeps a reference to `net`: it must outlive this.
  ExponentialMovingAverage(Net& net, double decay);

  double decay() const { return decay_; }
  // Folds the Net's current values into the average.
  void update();
  // The next update copies the values (torchvision restarts the average during lr warmup).
  void restart() { updates_ = 0; }
  // Exchanges the average with the Net's values; call again to exchange them back.
  void swap_with_net();

  // Updates since the last restart (torchvision's n_averaged).
  int64_t updates() const { return updates_; }
  // After restoring a saved average (swap it in, load the Net's values, swap back).
  void set_updates(int64_t updates) { updates_ = updates; }
  // The average: each of net.parameters(), then each of net.buffers(), back to back.
  std::span<const float> values() const { return average_; }

 private:
  // Calls visit(net values, average values, count, is a counter) for every parameter and
  // buffer in order.
  template <typename Visit>
  void for_each_tensor(Visit visit);
  static bool is_counter(const std::string& buffer_name);

  Net& net_;
  double decay_;
  std::vector<float> average_;
  int64_t updates_ = 0;
};

}  // namespace convoy
