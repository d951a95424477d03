#pragma once
// TrainingSetup: everything one training run works with, shared by the files that implement
// the Trainer (the loop, checkpoint save and resume, evaluation).

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "checkpoints/checkpoint_directory.hpp"
#include "datasets/batch_loader.hpp"
#include "framework/distributed/communicator.hpp"
#include "framework/distributed/faults.hpp"
#include "framework/distributed/gradient_accumulator.hpp"
#include "framework/distributed/reducer.hpp"
#include "framework/graph/dropout_masks.hpp"
#include "framework/graph/net.hpp"
#include "framework/layers/statistics_reducer.hpp"
#include "framework/loss/softmax_cross_entropy.hpp"
#include "framework/optim/exponential_moving_average.hpp"
#include "framework/optim/learning_rate_schedule.hpp"
#include "framework/optim/optimizer.hpp"
#include "launcher/run_config.hpp"
#include "launcher/trace_recorder.hpp"
#include "launcher/training/data_factory.hpp"
#include "launcher/training/health_recorder.hpp"
#include "launcher/training/progress_log.hpp"

namespace convoy::launcher {

struct TrainingSetup {
  RunConfig config;
  Communicator communicator;
  TrainingData data;
  std::unique_ptr<Net> net;
  std::unique_ptr<DropoutMasks> dropout_masks;  // keys the net's Dropout layers each forward
  SoftmaxCrossEntropy loss;
  std::unique_ptr<Optimizer> optimizer;
  std::unique_ptr<ExponentialMovingAverage> model_ema;  // with --model-ema only
  std::optional<LearningRateSchedule> schedule;
  std::unique_ptr<Reducer> reducer;
  std::unique_ptr<GradientAccumulator> accumulator;  // with --accumulation-steps > 1 only
  std::unique_ptr<StatisticsReducer> sync_batch_norm;
  std::unique_ptr<data::BatchLoader> loader;
  std::unique_ptr<HangDetector> hang_detector;
  std::unique_ptr<CheckpointDirectory> checkpoints;
  std::unique_ptr<ProgressLog> log;
  std::unique_ptr<HealthRecorder> health;  // rank 0 with --health-every > 0
  std::unique_ptr<TraceRecorder> trace;    // with --trace
  int64_t per_rank_batch = 0;              // this rank's samples per optimizer step
  int64_t micro_batch = 0;  // per forward/backward: per_rank_batch / accumulation steps
  int64_t steps_per_epoch = 0, total_steps = 0;
  int64_t step = 0;  // optimizer steps completed (global)
  std::string resumed_from;  // the checkpoint this run resumed, empty for a fresh start
  // Gradient allreduce over this process's steps: total time in flight, and the part backward
  // did not hide (finalize() waiting).
  double communication_seconds = 0, exposed_seconds = 0;
  int64_t steps_this_process = 0;
  nlohmann::json last_evaluation;
  std::chrono::steady_clock::time_point started;  // this process's first training step
  Tensor input;                                   // (micro_batch, C, H, W), reused every step
};

// Restores model, optimizer and position from --resume (auto: newest valid checkpoint);
// false when the run starts fresh.
bool resume_if_asked(TrainingSetup& setup);
// A fresh run with --init-from: loads that checkpoint's weights and buffers but for the
// --init-skip prefixes, the same on every rank; the optimizer and the rest start anew.
void initialize_from_if_asked(TrainingSetup& setup);
// True when the run stands at the end of an epoch whose evaluation --eval-every asks for, or
// at its last step.
bool evaluation_due(const TrainingSetup& setup);
// True when the run stands at the end of an epoch that is due an evaluation, or at its last
// step, and holds no evaluation of this step: a signal in an epoch's last step checkpoints
// before the evaluation, which the resumed run then owes.
bool evaluation_owed(const TrainingSetup& setup);
// Writes a checkpoint of the current state (rank 0 writes; all ranks call).
void save_checkpoint(TrainingSetup& setup, const std::string& reason);
// Sharded evaluation on the test split, logged and kept for the next checkpoint. Returns the
// top-1 accuracy, the same on every rank.
double run_evaluation(TrainingSetup& setup);

}  // namespace convoy::launcher
