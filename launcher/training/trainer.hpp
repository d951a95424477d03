#pragma once
// Trainer: one data-parallel training run. Every rank runs the same loop on its shard:
// loader -> forward -> loss -> backward (gradient buckets allreduced as they fill) -> wait ->
// optimizer -> log -> (checkpoint). Rank 0 writes checkpoints and metrics.

#include <memory>
#include <string>

#include "launcher/run_config.hpp"

namespace convoy::launcher {

struct TrainingSetup;  // everything the loop works with; defined in trainer.cpp

class Trainer {
 public:
  explicit Trainer(RunConfig config);
  ~Trainer();
  // Trains until the last epoch (or --max-steps) and returns kExitSuccess, or stops at a
  // signal after a checkpoint and returns kExitPreempted.
  int run();

 private:
  std::unique_ptr<TrainingSetup> setup_;
};

}  // namespace convoy::launcher
