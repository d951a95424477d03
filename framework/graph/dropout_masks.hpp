#pragma once
// DropoutMasks: keys every Dropout layer of a training net by the run's seed, the global step
// and the micro-batch's place in the global batch, before each forward.
//
// Why: a Dropout that counts its own forward calls restarts its masks when a run resumes (the
// count is not in the checkpoint) and, with the same seed everywhere, draws the same masks on
// every rank for different samples. Keyed by (seed, step, global sample), a resumed run draws
// the masks the uninterrupted one would, and 1 rank x 2 micro-batches draws those of 2 ranks.

#include <cstdint>
#include <vector>

#include "framework/graph/net.hpp"
#include "framework/layers/dropout.hpp"

namespace convoy {

class DropoutMasks {
 public:
  DropoutMasks(Net& net, uint64_t seed);
  // Before the forward of the micro-batch whose first sample is `first_sample` of the global
  // batch of optimizer step `step` (0-based).
  void key(int64_t step, int64_t first_sample);
  bool empty() const { return layers_.empty(); }

 private:
  std::vector<Dropout*> layers_;
};

}  // namespace convoy
