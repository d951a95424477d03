#pragma once
// GradientAccumulator: sums the parameter gradients of several backward passes on one rank, so
// a large per-rank batch runs as micro-batches with one allreduce per optimizer step (Horovod's
// backward_passes_per_step, PyTorch DDP's no_sync()).
//
// Why it works this way:
// 1. Layers write (never add) their parameter gradients, so each micro-batch's backward
//    overwrites the previous one's; the sum lives here, in one contiguous copy of the gradients.
// 2. The last micro-batch's backward folds the sum into each gradient as that layer reports it
//    ready, just before the Reducer sees it, so the allreduce still overlaps that backward.
// 3. The last pass adds the sum of the earlier ones to its own gradient (g_last + (g_0 + ...)).
//    With two micro-batches that is g_1 + g_0, the same bits as an allreduce over two ranks that
//    each ran one of them: 1 rank x 2 micro-batches trains exactly like 2 ranks x 1.

#include <span>
#include <vector>

#include "framework/graph/named_tensors.hpp"

namespace convoy {

class GradientAccumulator {
 public:
  explicit GradientAccumulator(std::vector<NamedParameter> parameters);

  // Forgets the sum: the next keep() starts a new optimizer step.
  void start_step();
  // After a backward that is not the step's last: adds every gradient to the sum (the first
  // call of a step copies).
  void keep();
  // During the step's last backward: gradient += sum for these parameters (indices into the
  // parameter list), each at most once per step. Without an earlier keep() it does nothing.
  void fold_into(std::span<const int> parameter_indices);

 private:
  std::vector<NamedParameter> parameters_;
  std::vector<int64_t> offsets_;  // where each parameter's gradient starts in sums_
  std::vector<float> sums_;
  int kept_ = 0;  // backward passes summed this step
};

}  // namespace convoy
