// The Trainer's checkpoint save and resume, and its per-epoch evaluation.

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <sstream>

#include "checkpoints/checkpoint_reader.hpp"
#include "framework/common/error.hpp"
#include "framework/distributed/faults.hpp"
#include "framework/distributed/model_consistency.hpp"
#include "launcher/training/checkpoint_state.hpp"
#include "launcher/training/evaluator.hpp"
#include "launcher/training/failure_injection.hpp"
#include "launcher/training/training_setup.hpp"

namespace convoy::launcher {

namespace fs = std::filesystem;

namespace {

// The global step counts from the start of the run; with another epoch length it would fall at
// another place in another epoch (and the schedule would read it so), so that is refused,
// naming the options that changed the length.
void check_same_epoch_length(const Checkpoint& checkpoint, const std::string& path,
                             int64_t steps_per_epoch,
                             const std::vector<OptionDifference>& differences) {
  const auto stored = checkpoint.schedule.find("steps_per_epoch");
  if (stored == checkpoint.schedule.end() ||
      static_cast<int64_t>(stored->second) == steps_per_epoch) {
    return;
  }
  std::string causes;
  for (const auto& [option, before, now] : differences) {
    if (option == "train-samples" || option == "drop-last" || option == "dataset" ||
        option == "data-dir") {
      causes += (causes.empty() ? " (" : ", ") + ("--" + option) + " " + now +
                " where the checkpoint's run had " + before;
    }
  }
  if (!causes.empty()) causes += ")";
  throw ConfigError("checkpoint " + path + " was saved by a run of " +
                    std::to_string(static_cast<int64_t>(stored->second)) +
                    " steps per epoch; this run has " + std::to_string(steps_per_epoch) + causes +
                    ": an exact resume needs the same epoch length");
}

// SGD keeps momentum buffers only with a momentum: a checkpoint from the other side of zero
// cannot be resumed exactly, and the optimizer alone could only name a missing or extra entry.
void check_same_momentum_use(const std::string& path, const std::string& optimizer,
                             const std::vector<OptionDifference>& differences) {
  if (optimizer != "sgd") return;
  for (const auto& [option, before, now] : differences) {
    const bool had_buffers = option == "momentum" && std::stod(before) != 0;
    if (option != "momentum" || had_buffers == (std::stod(now) != 0)) continue;
    throw ConfigError("checkpoint " + path + " was trained with --momentum " + before +
                      (had_buffers ? " and holds momentum buffers, which this run's --momentum " +
                                         now + " cannot use"
                                   : " and holds no momentum buffers, which this run's "
                                     "--momentum " +
                                         now + " needs") +
                      ": resume with --momentum " + before);
  }
}

}  // namespace

void save_checkpoint(TrainingSetup& s, const std::string& reason) {
  // Rank 0 writes; the other ranks go on with the next step at once (nothing to wait for: the
  // state they would write is bit-identical).
  if (s.communicator.rank() != 0) return;
  Checkpoint checkpoint;
  checkpoint.recipe = s.config.recipe;
  checkpoint.step = s.step;
  checkpoint.epoch = s.step / s.steps_per_epoch;
  checkpoint.world_size = s.communicator.world_size();
  checkpoint.global_batch = s.config.batch_size;
  const ModelGeometry& geometry = s.data.geometry;
  checkpoint.input_shape = {geometry.channels, geometry.height, geometry.width};
  checkpoint.configuration = s.config.to_text();
  checkpoint.metrics_json = s.last_evaluation.is_null() ? "" : s.last_evaluation.dump();
  const OptimizerSnapshot snapshot = s.optimizer->export_state();
  checkpoint.optimizer_scalars = snapshot.scalars;
  checkpoint.optimizer_scalars["kind_is_adamw"] = snapshot.optimizer == "adamw" ? 1.0 : 0.0;
  for (const auto& state : snapshot.tensors) {
    checkpoint.optimizer.push_back({state.name, state.shape, state.values});
  }
  checkpoint.schedule = {{"step", static_cast<double>(s.step)},
                         {"learning_rate", s.schedule->learning_rate(s.step)},
                         {"steps_per_epoch", static_cast<double>(s.steps_per_epoch)}};
  checkpoint.data.sampler_seed = s.config.seed;
  checkpoint.data.epoch = checkpoint.epoch;
  checkpoint.data.global_position = (s.step % s.steps_per_epoch) * s.config.batch_size;
  checkpoint.model = model_state(*s.net);
  if (s.model_ema) {
    checkpoint.model_ema = model_ema_state(*s.net, *s.model_ema);
    checkpoint.model_ema_updates = s.model_ema->updates();
  }
  const std::string path = s.checkpoints->save(checkpoint);
  s.log->event({{"kind", "checkpoint"}, {"step", s.step}, {"path", path}, {"reason", reason}},
               "checkpoint " + path + " (" + reason + ")");
}

bool resume_if_asked(TrainingSetup& s) {
  const RunConfig& c = s.config;
  const std::string& resume = c.resume;
  if (resume == "none" || resume.empty()) return false;
  std::string path = resume;
  if (resume == "auto") {
    auto found = s.checkpoints->find_latest_valid();
    for (const auto& skipped : found.skipped) {
      s.log->message("skipping invalid checkpoint " + skipped.path + ": " + skipped.reason);
    }
    if (!found.path) return false;  // a fresh run
    path = *found.path;
  }
  if (fs::is_directory(path)) {
    throw ConfigError("--resume " + path + " is a directory; --resume takes a checkpoint file (" +
                      "or auto, with --run-dir " + path + " for its newest valid checkpoint)");
  }
  Checkpoint checkpoint = CheckpointReader::read(path);
  check_compatible(checkpoint, model_tensor_infos(*s.net));
  if (checkpoint.global_batch != s.config.batch_size) {
    throw ConfigError("checkpoint " + path + " was trained with global batch " +
                      std::to_string(checkpoint.global_batch) + ", this run has --batch-size " +
                      std::to_string(s.config.batch_size) +
                      "; an exact resume needs the same global batch");
  }
  const auto differences = configuration_differences(checkpoint.configuration, c.to_text());
  check_same_epoch_length(checkpoint, path, s.steps_per_epoch, differences);
  const int64_t expected_position = (checkpoint.step % s.steps_per_epoch) * s.config.batch_size;
  if (checkpoint.data.global_position != expected_position ||
      checkpoint.data.sampler_seed != s.config.seed) {
    throw ConfigError("checkpoint " + path + " stands at sample " +
                      std::to_string(checkpoint.data.global_position) + " of epoch " +
                      std::to_string(checkpoint.data.epoch) + " with seed " +
                      std::to_string(checkpoint.data.sampler_seed) +
                      ", which this run's data set, batch and seed cannot continue");
  }
  load_model_state(*s.net, checkpoint.model);
  OptimizerSnapshot snapshot;
  snapshot.optimizer = s.optimizer->kind();
  snapshot.scalars = checkpoint.optimizer_scalars;
  snapshot.scalars.erase("kind_is_adamw");
  for (const auto& array : checkpoint.optimizer) {
    snapshot.tensors.push_back({array.name, array.shape, array.values});
  }
  if (const auto kind_is_adamw = checkpoint.optimizer_scalars.find("kind_is_adamw");
      kind_is_adamw != checkpoint.optimizer_scalars.end()) {
    const std::string stored_kind = kind_is_adamw->second != 0 ? "adamw" : "sgd";
    if (stored_kind != s.optimizer->kind()) {
      throw ConfigError("checkpoint " + path + " holds " + stored_kind +
                        " optimizer state; this run uses --optimizer " + s.optimizer->kind());
    }
  }
  check_same_momentum_use(path, s.optimizer->kind(), differences);
  try {
    s.optimizer->import_state(snapshot);
  } catch (const ConfigError& error) {
    throw ConfigError("checkpoint " + path + ": " + error.what());
  }
  if (s.model_ema && !checkpoint.model_ema.empty()) {
    load_model_ema_state(*s.net, *s.model_ema, checkpoint.model_ema, checkpoint.model_ema_updates);
  } else if (s.model_ema) {
    s.log->message("checkpoint " + path + " holds no model EMA; the average starts from the " +
                   "resumed weights");
  } else if (!checkpoint.model_ema.empty()) {
    s.log->message("checkpoint " + path + " holds a model EMA, which this run (without " +
                   "--model-ema) does not keep");
  }
  if (!differences.empty()) {
    std::string changed;
    for (const auto& [option, before, now] : differences)
      changed += (changed.empty() ? "" : ", ") + option + " = " + now + " (was " + before + ")";
    s.log->message("resumed with options that differ from the checkpoint's: " + changed);
  }
  s.step = checkpoint.step;
  s.resumed_from = path;
  if (!checkpoint.metrics_json.empty())
    s.last_evaluation = nlohmann::json::parse(checkpoint.metrics_json);
  s.log->message("resumed from " + path + " at step " + std::to_string(s.step) + " (epoch " +
                 std::to_string(checkpoint.epoch) + ", saved by " +
                 std::to_string(checkpoint.world_size) + " rank(s))");
  if (s.step >= s.total_steps && !evaluation_owed(s)) {
    // As when a finished run is started again: no step, no evaluation, no checkpoint; said, so
    // a checkpoint from a longer run is not taken for a silent success.
    const bool by_max_steps = c.max_steps > 0 && c.max_steps < s.steps_per_epoch * c.epochs;
    const std::string limit = by_max_steps
                                  ? "--max-steps " + std::to_string(c.max_steps)
                                  : "--epochs " + std::to_string(c.epochs) + " x " +
                                        std::to_string(s.steps_per_epoch) + " steps per epoch";
    s.log->message("checkpoint " + path + " is at step " + std::to_string(s.step) +
                   (s.step > s.total_steps ? ", past" : ", at") + " this run's end (" +
                   std::to_string(s.total_steps) + " steps: " + limit +
                   "); nothing left to train (score it with convoy eval --checkpoint)");
  }
  if (!c.init_from.empty()) {
    s.log->message("--init-from " + c.init_from + " is not used: the run resumed from " + path);
  }
  return true;
}

void initialize_from_if_asked(TrainingSetup& s) {
  const RunConfig& c = s.config;
  if (c.init_from.empty()) return;
  const std::string& path = c.init_from;
  if (fs::is_directory(path)) {
    throw ConfigError("--init-from " + path + " is a directory; it takes a checkpoint file (" +
                      path + "/latest for a run's newest)");
  }
  Checkpoint checkpoint;
  try {
    checkpoint = CheckpointReader::read(path);
  } catch (const FileError& error) {
    throw FileError(std::string("--init-from: ") + error.what());
  }
  std::vector<std::string> prefixes;
  std::istringstream list(c.init_skip);
  for (std::string prefix; std::getline(list, prefix, ',');) {
    if (!prefix.empty()) prefixes.push_back(prefix);
  }
  auto under = [](const std::string& prefix, const std::string& name) {
    return name == prefix || name.rfind(prefix + ".", 0) == 0;
  };
  auto skipped = [&](const std::string& name) {
    return std::any_of(prefixes.begin(), prefixes.end(),
                       [&](const std::string& prefix) { return under(prefix, name); });
  };
  // This model's fresh values for the skipped tensors, the checkpoint's for the rest.
  std::vector<NamedArray> start = model_state(*s.net);
  std::vector<TensorInfo> loaded_infos;
  std::vector<NamedArray> loaded;
  int64_t kept_fresh = 0;
  for (const auto& info : model_tensor_infos(*s.net)) {
    if (skipped(info.name)) {
      ++kept_fresh;
    } else {
      loaded_infos.push_back(info);
    }
  }
  for (const auto& prefix : prefixes) {
    if (std::none_of(start.begin(), start.end(),
                     [&](const NamedArray& a) { return under(prefix, a.name); })) {
      throw ConfigError("--init-skip " + prefix + " names no tensor of this " + c.architecture +
                        " (prefixes of names such as " + start.front().name + " or " +
                        s.net->parameters().back().name + ")");
    }
  }
  for (const auto& array : checkpoint.model) {
    if (!skipped(array.name)) loaded.push_back(array);
  }
  try {
    check_compatible(loaded, "--init-from " + path, loaded_infos);
  } catch (const ConfigError& error) {
    throw ConfigError(std::string(error.what()) +
                      " (--init-skip PREFIX keeps this model's fresh tensors under PREFIX)");
  }
  for (auto& array : start) {
    const auto found = std::find_if(loaded.begin(), loaded.end(),
                                    [&](const NamedArray& a) { return a.name == array.name; });
    if (found != loaded.end()) array.values = found->values;
  }
  load_model_state(*s.net, start);
  // Every rank read the file; rank 0's copy wins should the ranks have read different files
  // under one path (node-local disks).
  broadcast_parameters(s.communicator, s.net->parameters(), s.net->buffers());
  if (s.model_ema) s.model_ema->restart();
  s.log->message("initialized from " + path + " (recipe " + checkpoint.recipe + ", step " +
                 std::to_string(checkpoint.step) + "): " + std::to_string(loaded.size()) +
                 " tensors" +
                 (kept_fresh == 0 ? ""
                                  : "; " + std::to_string(kept_fresh) +
                                        " freshly initialized under --init-skip " + c.init_skip));
}

bool evaluation_due(const TrainingSetup& s) {
  const bool epoch_done = s.step % s.steps_per_epoch == 0;
  const int64_t epochs_done = s.step / s.steps_per_epoch;
  const int64_t every = s.config.eval_every;
  return (epoch_done && every > 0 && epochs_done % every == 0) || s.step == s.total_steps;
}

bool evaluation_owed(const TrainingSetup& s) {
  if (s.step == 0 || s.step > s.total_steps || !evaluation_due(s)) return false;
  // The checkpoint's metrics are the newest evaluation before it, with its step.
  return !s.last_evaluation.is_object() || s.last_evaluation.value("step", int64_t{-1}) != s.step;
}

double run_evaluation(TrainingSetup& s) {
  // The training forward's batch: evaluation keeps every node's output as training does, so a
  // larger batch here would raise the run's peak memory above what training needs.
  auto evaluate_net = [&] {
    const ModelGeometry& g = s.data.geometry;
    return evaluate(*s.net, *s.data.test, s.data.eval_transform, {g.channels, g.height, g.width},
                    s.communicator, s.micro_batch);
  };
  // Collective like a step, so watched like one: a peer that stops here would hang the job.
  const int64_t shard = s.micro_batch * s.communicator.world_size();
  const int64_t batches = (s.data.test->size() + shard - 1) / shard;
  s.hang_detector->evaluation_started(s.step, s.model_ema ? 2 * batches : batches);
  inject_failure_at_evaluation(s.config, s.communicator.rank(), s.step);
  EvaluationResult result = evaluate_net();
  std::optional<EvaluationResult> averaged;
  if (s.model_ema) {
    s.model_ema->swap_with_net();
    averaged = evaluate_net();  // the swap back below restores the weights bit for bit
    s.model_ema->swap_with_net();
  }
  s.hang_detector->evaluation_finished();
  s.last_evaluation = {
      {"kind", "eval"},
      {"step", s.step},
      {"epoch", static_cast<double>(s.step) / s.steps_per_epoch},
      {"loss", result.loss()},
      {"accuracy", result.top1_accuracy()},
      {"top5", result.top5_accuracy()},
      {"samples", result.samples},
      // Wall time since this process started training, evaluations included:
      // what a time-to-accuracy comparison reads.
      {"seconds",
       std::chrono::duration<double>(std::chrono::steady_clock::now() - s.started).count()}};
  char line[240];
  int length = std::snprintf(
      line, sizeof line,
      "eval at step %lld (epoch %.3g): loss %.4f top-1 %.2f %% top-5 %.2f %% (%lld images)",
      static_cast<long long>(s.step), static_cast<double>(s.step) / s.steps_per_epoch,
      result.loss(), 100 * result.top1_accuracy(), 100 * result.top5_accuracy(),
      static_cast<long long>(result.samples));
  if (averaged) {
    s.last_evaluation["ema_loss"] = averaged->loss();
    s.last_evaluation["ema_accuracy"] = averaged->top1_accuracy();
    s.last_evaluation["ema_top5"] = averaged->top5_accuracy();
    std::snprintf(line + length, sizeof line - length,
                  "; EMA: loss %.4f top-1 %.2f %% top-5 %.2f %%", averaged->loss(),
                  100 * averaged->top1_accuracy(), 100 * averaged->top5_accuracy());
  }
  s.log->event(s.last_evaluation, line);
  return result.top1_accuracy();
}

}  // namespace convoy::launcher
