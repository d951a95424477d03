#include "launcher/training/trainer.hpp"

#include "launcher/training/training_setup.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "checkpoints/checkpoint_directory.hpp"
#include "datasets/batch_loader.hpp"
#include "datasets/distributed_sampler.hpp"
#include "framework/common/error.hpp"
#include "framework/distributed/communicator.hpp"
#include "framework/distributed/faults.hpp"
#include "framework/distributed/gradient_accumulator.hpp"
#include "framework/distributed/model_consistency.hpp"
#include "framework/distributed/reducer.hpp"
#include "framework/distributed/sync_batch_norm.hpp"
#include "framework/graph/net.hpp"
#include "framework/kernels/context.hpp"
#include "framework/loss/softmax_cross_entropy.hpp"
#include "framework/optim/gradient_clipping.hpp"
#include "framework/optim/learning_rate_schedule.hpp"
#include "framework/optim/optimizer.hpp"
#include "launcher/command.hpp"
#include "launcher/model_factory.hpp"
#include "launcher/option_agreement.hpp"
#include "launcher/training/checkpoint_state.hpp"
#include "launcher/training/data_factory.hpp"
#include "launcher/training/evaluator.hpp"
#include "launcher/training/failure_injection.hpp"
#include "launcher/training/optimization_setup.hpp"
#include "launcher/training/preemption.hpp"
#include "launcher/training/progress_log.hpp"
#include "launcher/training/throughput_meter.hpp"

namespace convoy::launcher {

// Why the loop is shaped this way:
// 1. Every rank executes the same sequence of collectives in the same order: the gradient
//    buckets during backward, then ONE small allreduce per step that carries the loss, the
//    correct count and the stop request. Agreeing on "stop" inside that allreduce means a
//    signal on any rank stops all ranks after the same step, with no extra latency.
// 2. The loss is scaled by 1/global_batch on every rank, so the SUM allreduce of gradients is
//    the global-batch mean gradient: np=2 with batch B equals np=1 with batch 2B. Micro-batches
//    (--accumulation-steps) are scaled the same way, so their local sum is the rank's share.
// 3. The sample order is a pure function of (seed, epoch, global position) and the sampler
//    state is global, so a resume, on any number of ranks, continues the same sequence.

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

struct StepResult {
  double loss = 0;      // global mean over the batch
  double accuracy = 0;  // global top-1 on the training batch
  bool stop_requested = false;
  bool skipped = false;
};

// torchvision's decay adjustment: --model-ema-decay holds for a whole run of any length, batch
// and update interval, so the decay per update is 1 - (1 - decay) * batch * interval / epochs.
std::unique_ptr<ExponentialMovingAverage> model_ema_from_config(const RunConfig& c, Net& net) {
  const double adjust = static_cast<double>(c.batch_size) * c.model_ema_steps / c.epochs;
  const double alpha = std::min(1.0, (1.0 - c.model_ema_decay) * adjust);
  return std::make_unique<ExponentialMovingAverage>(net, 1.0 - alpha);
}

// " (2 micro-batches of 32 per rank and step)" when gradients are accumulated.
std::string micro_batch_note(const TrainingSetup& s) {
  if (s.config.accumulation_steps == 1) return "";
  return " (" + std::to_string(s.config.accumulation_steps) + " micro-batches of " +
         std::to_string(s.micro_batch) + " per rank and step)";
}

// --trace records --trace-steps steps after this many of the process: the first steps build
// the oneDNN primitives and would show start-up, not the steady state.
constexpr int64_t kStepsBeforeTrace = 10;

void finish_trace(TrainingSetup& s) {
  if (!s.trace || !s.trace->recording()) return;
  const size_t spans = s.trace->finish();
  s.log->message("trace of steps " +
                 std::to_string(s.step - (s.steps_this_process - kStepsBeforeTrace) + 1) + "-" +
                 std::to_string(s.step) + ": " + s.trace->path() + " (" + std::to_string(spans) +
                 " spans on rank 0; ui.perfetto.dev or chrome://tracing)");
}

// One training step, top to bottom. With --accumulation-steps N the rank's batch runs as N
// micro-batches: forward, loss and backward each, gradients summed locally, and only the last
// backward feeds the allreduce (see GradientAccumulator).
StepResult train_step(TrainingSetup& s, const data::Batch& batch) {
  inject_failure_at_step(s.config, s.communicator.rank(), s.step + 1);
  // the loss is scaled by the GLOBAL batch (see note 2 at the top)
  const double global_batch = static_cast<double>(s.per_rank_batch * s.communicator.world_size());
  const int64_t micro_batches = s.config.accumulation_steps;
  Shape batch_shape = s.input.shape();  // (micro-batch, C, H, W)
  batch_shape[0] = s.per_rank_batch;
  batch.check_shape(batch_shape);  // else the slices below could run past the batch
  const auto images = std::span<const float>(batch.images);
  const auto labels = std::span<const int32_t>(batch.labels);
  const int64_t image_values = s.input.element_count();
  double local_loss = 0;
  int64_t local_correct = 0;
  if (s.accumulator) s.accumulator->start_step();
  for (int64_t micro = 0; micro < micro_batches; ++micro) {
    // 1. loader output -> input tensor (this micro-batch's slice of the rank's batch)
    s.input.copy_from_plain(images.subspan(micro * image_values, image_values));
    const auto micro_labels = labels.subspan(micro * s.micro_batch, s.micro_batch);
    // 2. forward (rank r's batch is slice r of the global batch, see DistributedSampler)
    s.dropout_masks->key(s.step, s.communicator.rank() * s.per_rank_batch + micro * s.micro_batch);
    Tensor logits = s.net->forward(s.input, Mode::train);
    // 3. loss
    local_loss += s.loss.forward(logits, micro_labels, global_batch);
    local_correct += count_top_k(logits, micro_labels).top1;
    // 4. backward: an earlier micro-batch's gradients are kept for the sum; in the last one the
    //    reducer launches each bucket's allreduce as soon as it is full, the sum folded in first
    if (micro + 1 < micro_batches) {
      s.net->backward(s.loss.gradient());
      s.accumulator->keep();
      continue;
    }
    s.reducer->start_step();
    s.net->backward(s.loss.gradient(), [&](std::span<const int> indices) {
      if (s.accumulator) s.accumulator->fold_into(indices);
      s.reducer->gradients_ready(indices);
    });
  }
  // 5. wait for the last buckets; gradients are now the global-batch mean on every rank
  s.reducer->finalize();
  s.communication_seconds += s.reducer->last_timing().communication_seconds;
  s.exposed_seconds += s.reducer->last_timing().exposed_seconds;
  ++s.steps_this_process;
  // BatchNorm running statistics: the same on every rank after every step (see average_buffers)
  average_buffers(s.communicator, *s.net);
  // 6. one small allreduce: loss, correct count and the stop request of every rank
  std::array<double, 3> totals{local_loss, static_cast<double>(local_correct),
                               preemption_requested() ? 1.0 : 0.0};
  s.communicator.allreduce_sum(std::span<double>(totals));
  StepResult result{totals[0], totals[1] / global_batch, totals[2] > 0};
  // 7. non-finite loss or gradients: every rank sees the same reduced values, so every rank
  //    takes the same decision without another collective
  std::string bad_parameter = first_nonfinite_gradient(s.net->parameters());
  if (!std::isfinite(result.loss) || !bad_parameter.empty()) {
    const std::string what = !std::isfinite(result.loss)
                                 ? "the loss is " + std::to_string(result.loss)
                                 : "the gradient of " + bad_parameter + " is not finite";
    if (s.config.on_nonfinite != "skip") {
      // Every rank sees the same reduced values, so every rank throws this same error.
      throw CollectiveError("step " + std::to_string(s.step + 1) + ": " + what +
                            " (lower --lr, or --on-nonfinite skip)");
    }
    s.log->message("step " + std::to_string(s.step + 1) + ": " + what + "; step skipped");
    result.skipped = true;
    return result;
  }
  // 8. optimizer step at the scheduled learning rate; every --health-every steps rank 0 records
  //    gradients (before clipping) and activations before it and the update after it
  const bool record_health = s.health && (s.step + 1) % s.config.health_every == 0;
  if (record_health) s.health->before_update(*s.net);
  if (s.config.clip_grad_norm > 0) clip_grad_norm(s.net->parameters(), s.config.clip_grad_norm);
  const auto optimizer_start = Timeline::Clock::now();
  s.optimizer->step(s.schedule->learning_rate(s.step));
  if (s.trace) s.trace->add("optimizer", "compute", optimizer_start, Timeline::Clock::now());
  if (record_health) s.log->record(s.health->after_update(s.step + 1));
  return result;
}

// The end of an epoch or of the run: the evaluation when due, then the checkpoint. Returns true
// when the evaluation reached --target-accuracy, which ends the run.
bool finish_epoch(TrainingSetup& s) {
  const auto& c = s.config;
  const bool epoch_done = s.step % s.steps_per_epoch == 0;
  const bool finished = s.step == s.total_steps;
  if (evaluation_due(s)) {
    const auto evaluation_start = Timeline::Clock::now();
    const double accuracy = run_evaluation(s);
    if (s.trace) s.trace->add("evaluation", "compute", evaluation_start, Timeline::Clock::now());
    if (c.target_accuracy > 0 && accuracy >= c.target_accuracy) {
      save_checkpoint(s, "final");
      s.log->message("reached the target accuracy " + std::to_string(100 * c.target_accuracy) +
                     " % after step " + std::to_string(s.step) + "; stopping");
      return true;
    }
  }
  if (epoch_done || finished) {
    const auto checkpoint_start = Timeline::Clock::now();
    save_checkpoint(s, finished ? "final" : "epoch");
    if (s.trace) s.trace->add("checkpoint", "compute", checkpoint_start, Timeline::Clock::now());
  }
  return false;
}

}  // namespace

Trainer::Trainer(RunConfig config) : setup_(std::make_unique<TrainingSetup>()) {
  auto& s = *setup_;
  s.config = std::move(config);
  auto& c = s.config;
  const int rank = s.communicator.rank();
  const int ranks = s.communicator.world_size();
  if (c.inject_failure_step > 0 && c.inject_failure_rank >= ranks) {
    // else the injection never fires and a test of the failure path passes for nothing
    throw ConfigError("--inject-failure-rank " + std::to_string(c.inject_failure_rank) +
                      " is not a rank of this " + std::to_string(ranks) + "-rank job");
  }
  kernels::set_thread_count(c.threads > 0 ? c.threads : s.communicator.recommended_threads());
  // Before any collective whose count or size an option decides: ranks started with different
  // options would wait for each other forever or train on overlapping shards.
  verify_ranks_share_options(s.communicator, c);
  if (c.batch_size % (ranks * c.accumulation_steps) != 0) {
    throw ConfigError("--batch-size " + std::to_string(c.batch_size) +
                      " is the global batch and must be divisible by the " + std::to_string(ranks) +
                      " ranks" +
                      (c.accumulation_steps > 1 ? " x " + std::to_string(c.accumulation_steps) +
                                                      " micro-batches (--accumulation-steps)"
                                                : std::string()));
  }
  if (c.run_dir.empty()) c.run_dir = "runs/" + (c.recipe.empty() ? c.architecture : c.recipe);
  if (rank == 0) {
    std::error_code error;
    fs::create_directories(c.run_dir, error);
    if (error) {
      throw FileError("cannot create the run directory " + c.run_dir + " (--run-dir): " +
                      error.message());
    }
  }
  s.communicator.barrier();

  s.per_rank_batch = c.batch_size / ranks;
  s.micro_batch = s.per_rank_batch / c.accumulation_steps;
  s.data = open_training_data(c, s.communicator);
  s.steps_per_epoch = s.data.sampler->batches_per_epoch(s.per_rank_batch);
  if (s.steps_per_epoch < 1) {
    throw ConfigError("the training set has " + std::to_string(s.data.train->size()) +
                      " samples, fewer than one global batch of " + std::to_string(c.batch_size));
  }
  s.total_steps = s.steps_per_epoch * c.epochs;
  if (c.max_steps > 0) s.total_steps = std::min(s.total_steps, c.max_steps);

  s.net = build_model(model_config(c, s.data.geometry));
  s.dropout_masks = std::make_unique<DropoutMasks>(*s.net, c.seed);
  s.net->set_input_gradient_needed(false);  // nothing reads the image batch's gradient
  verify_same_model(s.communicator, *s.net);
  broadcast_parameters(s.communicator, s.net->parameters(), s.net->buffers());
  s.loss = SoftmaxCrossEntropy(c.label_smoothing);
  s.optimizer = optimizer_from_config(c, s.net->parameters());
  if (c.model_ema) s.model_ema = model_ema_from_config(c, *s.net);
  s.schedule = schedule_from_config(c, s.steps_per_epoch);
  ReducerOptions reducer_options;
  reducer_options.bucket_bytes = static_cast<int64_t>(c.bucket_megabytes * 1024 * 1024);
  reducer_options.compress_bf16 = c.compress_bf16;
  s.reducer = std::make_unique<Reducer>(s.communicator, s.net->parameters(), reducer_options);
  if (c.accumulation_steps > 1)
    s.accumulator = std::make_unique<GradientAccumulator>(s.net->parameters());
  if (c.sync_batch_norm) s.sync_batch_norm = enable_sync_batch_norm(*s.net, s.communicator);
  data::BatchLoaderOptions loader_options;
  loader_options.workers = c.workers;
  loader_options.seed = c.seed;
  s.loader = std::make_unique<data::BatchLoader>(*s.data.train, s.data.train_transform,
                                                 *s.data.sampler, s.per_rank_batch, loader_options);
  s.checkpoints = std::make_unique<CheckpointDirectory>(c.run_dir, c.keep_checkpoints);
  s.log = std::make_unique<ProgressLog>(c.run_dir + "/metrics.jsonl", rank == 0, c.log_every,
                                        c.progress);
  if (c.health_every > 0 && rank == 0) s.health = std::make_unique<HealthRecorder>();
  if (!c.trace.empty()) {
    s.trace = std::make_unique<TraceRecorder>(c.trace, s.communicator);
  }
  s.input = Tensor::zeros(
      {s.micro_batch, s.data.geometry.channels, s.data.geometry.height, s.data.geometry.width});
  s.hang_detector =
      std::make_unique<HangDetector>(s.communicator, c.hang_factor, c.hang_min_seconds);
}

Trainer::~Trainer() = default;

int Trainer::run() {
  auto& s = *setup_;
  auto& c = s.config;
  install_preemption_handlers();
  if (!resume_if_asked(s)) initialize_from_if_asked(s);
  // A resumed run redoes the steps its predecessor took past the checkpoint (and a fresh start
  // in a used run directory redoes them all): this record tells the readers of metrics.jsonl to
  // drop the earlier records of steps after it, as TensorBoard's purge_step does, while the
  // file keeps them for whoever wants to see what the lost steps did. A run with nothing left to
  // do writes nothing.
  if (s.step < s.total_steps || evaluation_owed(s)) {
    s.log->record({{"kind", "start"},
                   {"step", s.step},
                   {"resumed_from", s.resumed_from.empty() ? nlohmann::json(nullptr)
                                                           : nlohmann::json(s.resumed_from)}});
  }
  s.log->message("data: " + s.data.train->source() + " [" + s.data.train_transform.describe() +
                 "]; test: " + s.data.test->source());
  s.log->message("training " + c.architecture + " on " + c.dataset + ": " +
                 std::to_string(s.communicator.world_size()) + " rank(s) x " +
                 std::to_string(kernels::thread_count()) + " thread(s), global batch " +
                 std::to_string(c.batch_size) + micro_batch_note(s) + ", " +
                 std::to_string(s.steps_per_epoch) + " steps/epoch, " +
                 std::to_string(s.total_steps) + " steps, run dir " + c.run_dir);
  if (s.model_ema) {
    char line[160];
    std::snprintf(line, sizeof line,
                  "model EMA: decay %.6g per update, every %lld steps (copying during warmup)",
                  s.model_ema->decay(), static_cast<long long>(c.model_ema_steps));
    s.log->message(line);
  }

  const auto started = Clock::now();
  s.started = started;
  if (evaluation_owed(s)) {
    s.log->message("the checkpoint of step " + std::to_string(s.step) +
                   " was saved before its evaluation (a signal in the epoch's last step); "
                   "evaluating now");
    if (finish_epoch(s)) return kExitSuccess;
  }
  ThroughputMeter throughput;
  while (s.step < s.total_steps) {
    const int64_t epoch = s.step / s.steps_per_epoch;
    const int64_t first = s.step % s.steps_per_epoch;
    const int64_t last = std::min(s.steps_per_epoch, first + (s.total_steps - s.step));
    s.loader->start_epoch(epoch, first);
    throughput.restart();  // the evaluation and checkpoint before this are not training time
    for (int64_t step_in_epoch = first; step_in_epoch < last; ++step_in_epoch) {
      if (s.trace && s.steps_this_process == kStepsBeforeTrace && !s.trace->finished()) {
        s.trace->start(*s.net, s.reducer.get());
      }
      const auto step_start = Timeline::Clock::now();
      std::optional<data::Batch> next = s.loader->next();
      if (!next) throw Error("the data loader ended epoch " + std::to_string(epoch) + " early");
      if (s.trace) s.trace->add("data wait", "compute", step_start, Timeline::Clock::now());
      const data::Batch& batch = *next;
      s.hang_detector->step_started(s.step + 1);
      StepResult result = train_step(s, batch);
      s.hang_detector->step_finished();
      // torchvision's schedule: after the optimizer step of every model-ema-steps-th batch of
      // an epoch; during lr warmup the average keeps restarting, so it copies the weights.
      if (s.model_ema && !result.skipped && step_in_epoch % c.model_ema_steps == 0) {
        s.model_ema->update();
        if (epoch < c.warmup_epochs) s.model_ema->restart();
      }
      ++s.step;
      throughput.step_finished(c.batch_size, step_in_epoch + 1 == last);
      if (s.trace) {
        s.trace->add("step", "compute", step_start, Timeline::Clock::now());
        if (s.steps_this_process == kStepsBeforeTrace + c.trace_steps) finish_trace(s);
      }
      const double elapsed = std::chrono::duration<double>(Clock::now() - started).count();
      s.log->step({s.step, epoch + 1, step_in_epoch + 1, s.steps_per_epoch, s.total_steps,
                   s.schedule->learning_rate(s.step - 1), result.loss, result.accuracy,
                   throughput.images_per_second(),
                   elapsed / std::max<int64_t>(1, s.step) * (s.total_steps - s.step)});
      if (result.stop_requested) {
        finish_trace(s);
        save_checkpoint(s, "preempted");
        s.log->message("stopped by signal " + std::to_string(preemption_signal()) + " after step " +
                       std::to_string(s.step) + "; exit " + std::to_string(kExitPreempted) +
                       " asks for a requeue");
        return kExitPreempted;
      }
      if (c.checkpoint_every > 0 && s.step % c.checkpoint_every == 0 &&
          s.step % s.steps_per_epoch != 0 && s.step != s.total_steps) {
        save_checkpoint(s, "periodic");
      }
    }
    if (finish_epoch(s)) break;
  }
  finish_trace(s);  // a run shorter than the window writes what it recorded
  if (s.communicator.world_size() > 1 && s.communication_seconds > 0) {
    char line[200];
    const double steps = static_cast<double>(std::max<int64_t>(1, s.steps_this_process));
    std::snprintf(line, sizeof line,
                  "gradient allreduce: %.2f ms per step in flight, %.2f ms exposed, %.0f %% hidden "
                  "behind backward (rank 0)",
                  1e3 * s.communication_seconds / steps, 1e3 * s.exposed_seconds / steps,
                  100 * (1 - s.exposed_seconds / s.communication_seconds));
    s.log->event({{"kind", "allreduce"},
                  {"ms_in_flight_per_step", 1e3 * s.communication_seconds / steps},
                  {"ms_exposed_per_step", 1e3 * s.exposed_seconds / steps},
                  {"hidden_fraction", 1 - s.exposed_seconds / s.communication_seconds}},
                 line);
  }
  return kExitSuccess;
}

}  // namespace convoy::launcher
