#pragma once
// StatisticsReducer: how a synchronized BatchNorm sums its per-channel statistics over the
// ranks of a data-parallel job. The distributed module implements it over MPI; tests fake it.

#include <span>

namespace convoy {

class StatisticsReducer {
 public:
  virtual ~StatisticsReducer() = default;
  // Replaces every value by its sum over all ranks (an allreduce-SUM, in place). Every rank
  // calls it the same number of times with the same length.
  virtual void allreduce_sum(std::span<double> values) = 0;
};

}  // namespace convoy
