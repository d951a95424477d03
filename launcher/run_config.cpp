#include "launcher/run_config.hpp"

#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <sstream>

#include "framework/models/model_builder.hpp"
#include "launcher/model_factory.hpp"
#include "launcher/option_value.hpp"
#include "launcher/usage_error.hpp"

namespace convoy::launcher {

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

template <typename T>
std::string join(const std::vector<T>& values) {
  std::ostringstream out;
  for (size_t i = 0; i < values.size(); ++i) out << (i ? "," : "") << values[i];
  return out.str();
}

// Comma-separated lists ("0.5,0.5,0.5") as one option value, as recipe files write them.
template <typename T>
struct ListOption {
  std::vector<T>* target;
};

template <typename T>
std::vector<T> parse_list(const std::string& text, const std::string& option) {
  std::vector<T> values;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    if (item.empty()) continue;
    std::istringstream parser(item);
    T value;
    if (!(parser >> value) || !parser.eof()) {
      throw UsageError("option --" + option + ": '" + item + "' is not a number");
    }
    values.push_back(value);
  }
  return values;
}

// --seed as a whole number in uint64_t's range. Boost reads "-1" into an unsigned option as
// 2^64 - 1 (strtoull's rule), so a negative seed used to run with another seed without a word.
uint64_t parse_seed(const std::string& text) {
  uint64_t seed = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), seed);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
    throw UsageError("--seed must be a whole number in [0, " +
                     std::to_string(std::numeric_limits<uint64_t>::max()) + "], got '" + text +
                     "'");
  }
  return seed;
}

}  // namespace

std::string RunConfig::to_text() const {
  std::ostringstream out;
  out << "recipe = " << recipe << "\n"
      << "architecture = " << architecture << "\nvariant = " << variant << "\n"
      << "dataset = " << dataset << "\ndata-dir = " << data_dir << "\npad-to = " << pad_to
      << "\ncrop-padding = " << crop_padding << "\nrandom-resized-crop = " << random_resized_crop
      << "\nresize = " << resize << "\ncenter-crop = " << center_crop
      << "\nhorizontal-flip = " << horizontal_flip << "\nnormalize-mean = " << join(normalize_mean)
      << "\nnormalize-std = " << join(normalize_std) << "\nworkers = " << workers
      << "\ndrop-last = " << drop_last << "\ntrain-samples = " << train_samples
      << "\ntest-samples = " << test_samples << "\nepochs = " << epochs
      << "\nbatch-size = " << batch_size << "\naccumulation-steps = " << accumulation_steps
      << "\noptimizer = " << optimizer << "\nlr = " << learning_rate
      << "\nlr-reference-batch = " << lr_reference_batch << "\nmomentum = " << momentum
      << "\nnesterov = " << nesterov << "\nweight-decay = " << weight_decay
      << "\nno-decay-bias-norm = " << no_decay_bias_norm << "\nadam-beta1 = " << adam_beta1
      << "\nadam-beta2 = " << adam_beta2 << "\nadam-epsilon = " << adam_epsilon
      << "\nschedule = " << schedule << "\nwarmup-epochs = " << warmup_epochs
      << "\nwarmup-start-factor = " << warmup_start_factor << "\nmilestones = " << join(milestones)
      << "\nstep-size = " << step_size << "\ngamma = " << gamma
      << "\nmin-lr = " << min_learning_rate << "\nlabel-smoothing = " << label_smoothing
      << "\nclip-grad-norm = " << clip_grad_norm << "\nmodel-ema = " << model_ema
      << "\nmodel-ema-steps = " << model_ema_steps << "\nmodel-ema-decay = " << model_ema_decay
      << "\nseed = " << seed << "\ninit-from = " << init_from << "\ninit-skip = " << init_skip
      << "\nsync-bn = " << sync_batch_norm << "\nbucket-mb = " << bucket_megabytes
      << "\ncompress-bf16 = " << compress_bf16 << "\nprecision = " << precision
      << "\nfuse-relu = " << fuse_relu << "\nwhole-map-matmul = " << whole_map_matmul
      << "\nim2col-matmul = " << im2col_matmul << "\nwinograd = " << winograd
      << "\nwinograd-tile = " << winograd_tile << "\nwinograd-groups = " << winograd_groups << "\n";
  return out.str();
}

std::vector<std::string> RunConfig::options_every_rank_shares() const {
  std::ostringstream out;
  out << to_text() << "max-steps = " << max_steps << "\neval-every = " << eval_every
      << "\ncheckpoint-every = " << checkpoint_every << "\nkeep-checkpoints = " << keep_checkpoints
      << "\ntarget-accuracy = " << target_accuracy << "\nhealth-every = " << health_every
      << "\non-nonfinite = " << on_nonfinite << "\nresume = " << resume << "\nrun-dir = " << run_dir
      << "\ntrace = " << trace << "\ntrace-steps = " << trace_steps << "\n";
  std::vector<std::string> lines;
  std::istringstream text(out.str());
  for (std::string line; std::getline(text, line);) lines.push_back(line);
  return lines;
}

namespace {

// "key = value" lines as (key, value) pairs in their order; other lines are skipped.
std::vector<std::pair<std::string, std::string>> option_lines(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> options;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    const auto separator = line.find(" = ");
    if (separator != std::string::npos)
      options.emplace_back(line.substr(0, separator), line.substr(separator + 3));
  }
  return options;
}

}  // namespace

std::vector<OptionDifference> configuration_differences(const std::string& before,
                                                        const std::string& now) {
  std::map<std::string, std::string> earlier;
  for (auto& [option, value] : option_lines(before)) earlier[option] = value;
  std::vector<OptionDifference> differences;
  for (auto& [option, value] : option_lines(now)) {
    const auto found = earlier.find(option);
    if (found != earlier.end() && found->second != value)
      differences.push_back({option, found->second, value});
  }
  return differences;
}

namespace {

// "--epochs must be at least 1, got 0", as the later checks of the run word it.
template <typename T>
void require(bool ok, const std::string& option, const T& value, const std::string& expected) {
  if (ok) return;
  std::ostringstream message;
  message << "--" << option << " must be " << expected << ", got " << value;
  throw UsageError(message.str());
}

void require_one_of(const std::string& option, const std::string& value,
                    const std::vector<std::string>& words) {
  std::string expected;
  for (size_t i = 0; i < words.size(); ++i) {
    if (words[i] == value) return;
    expected += (i == 0 ? "" : i + 1 == words.size() ? " or " : ", ") + words[i];
  }
  require(false, option, "'" + value + "'", expected);
}

void require_at_least(const std::string& option, int64_t value, int64_t minimum) {
  require(value >= minimum, option, value, "at least " + std::to_string(minimum));
}

// Written as a negation of the wanted range's test so that NaN (false in every comparison)
// fails it.
void require_finite_at_least(const std::string& option, double value, double minimum) {
  require(std::isfinite(value) && value >= minimum, option, value,
          "finite and at least " + std::string(minimum == 0 ? "0" : std::to_string(minimum)));
}

void require_in_unit_interval(const std::string& option, double value, bool include_one,
                              const std::string& expected) {
  require(value >= 0 && (include_one ? value <= 1 : value < 1), option, value, expected);
}

}  // namespace

void check_run_options(const RunConfig& c) {
  require_one_of("architecture", c.architecture, available_architectures());
  require_one_of("variant", c.variant, {"cifar", "imagenet"});
  // An image side beyond this is a typo, not a CNN input: 128 such images would not fit in any
  // node's memory, and the failure would otherwise be an allocation naming no option.
  constexpr int64_t kLargestImageSide = 8192;
  for (const auto& [option, size] : {std::pair{"pad-to", c.pad_to},
                                     {"crop-padding", c.crop_padding},
                                     {"random-resized-crop", c.random_resized_crop},
                                     {"resize", c.resize},
                                     {"center-crop", c.center_crop}}) {
    require(size >= 0 && size <= kLargestImageSide, option, size,
            "in [0, " + std::to_string(kLargestImageSide) + "] pixels");
  }
  for (const auto& [option, size] : {std::pair{"train-samples", c.train_samples},
                                     {"test-samples", c.test_samples},
                                     {"workers", int64_t{c.workers}},
                                     {"lr-reference-batch", c.lr_reference_batch},
                                     {"threads", int64_t{c.threads}},
                                     {"log-every", c.log_every},
                                     {"checkpoint-every", c.checkpoint_every},
                                     {"keep-checkpoints", c.keep_checkpoints},
                                     {"max-steps", c.max_steps},
                                     {"eval-every", c.eval_every},
                                     {"health-every", c.health_every},
                                     {"inject-failure-step", c.inject_failure_step},
                                     {"inject-failure-rank", int64_t{c.inject_failure_rank}}}) {
    require_at_least(option, size, 0);
  }
  require_at_least("epochs", c.epochs, 1);
  require_at_least("batch-size", c.batch_size, 1);
  require_at_least("accumulation-steps", c.accumulation_steps, 1);
  require_at_least("model-ema-steps", c.model_ema_steps, 1);
  require_at_least("trace-steps", c.trace_steps, 1);

  require(c.init_from.empty() || c.resume == "auto" || c.resume == "none", "resume", c.resume,
          "auto or none with --init-from (a resumed run keeps its own weights)");
  require(c.init_skip.empty() || !c.init_from.empty(), "init-skip", c.init_skip,
          "given with --init-from");
  // The words the data and model factories read are checked here too: they refused them only
  // after the run folder was made and the data set listed (minutes for an image folder).
  require_one_of("dataset", c.dataset,
                 {"fashion-mnist", "mnist", "cifar10", "cifar100", "image-folder", "hdf5",
                  "synthetic"});
  require_one_of("precision", c.precision, {"fp32", "bf16"});
  lowering_choice_of("--im2col-matmul", c.im2col_matmul);
  lowering_choice_of("--winograd", c.winograd);
  lowering_choice_of("--winograd-groups", c.winograd_groups);
  winograd_tile_of(c.winograd_tile);
  require_one_of("optimizer", c.optimizer, {"sgd", "adamw"});
  require_finite_at_least("lr", c.learning_rate, 0);
  require_finite_at_least("momentum", c.momentum, 0);
  require(c.optimizer != "sgd" || !c.nesterov || c.momentum > 0, "momentum", c.momentum,
          "above 0 with --nesterov true");
  require_finite_at_least("weight-decay", c.weight_decay, 0);
  require_in_unit_interval("adam-beta1", c.adam_beta1, false, "in [0, 1)");
  require_in_unit_interval("adam-beta2", c.adam_beta2, false, "in [0, 1)");
  require(std::isfinite(c.adam_epsilon) && c.adam_epsilon > 0, "adam-epsilon", c.adam_epsilon,
          "finite and above 0");
  require_in_unit_interval("label-smoothing", c.label_smoothing, true, "in [0, 1]");
  require_finite_at_least("clip-grad-norm", c.clip_grad_norm, 0);
  require_in_unit_interval("model-ema-decay", c.model_ema_decay, false, "in [0, 1)");

  require_one_of("schedule", c.schedule, {"constant", "step", "multistep", "cosine"});
  require_finite_at_least("warmup-epochs", c.warmup_epochs, 0);
  require(c.warmup_start_factor > 0 && c.warmup_start_factor <= 1, "warmup-start-factor",
          c.warmup_start_factor, "in (0, 1]");
  require_finite_at_least("min-lr", c.min_learning_rate, 0);
  require(std::isfinite(c.gamma) && c.gamma > 0, "gamma", c.gamma, "finite and above 0");
  require_at_least("step-size", c.step_size, 1);
  if (c.schedule == "cosine") {
    std::ostringstream warmup;
    warmup << "more than --warmup-epochs (" << c.warmup_epochs << ") for the cosine schedule";
    require(c.warmup_epochs < static_cast<double>(c.epochs), "epochs", c.epochs, warmup.str());
  }
  if (c.schedule == "multistep") {
    require(!c.milestones.empty(), "milestones", "none",
            "the epochs at which the multistep schedule decays, e.g. 30,60,80");
    for (size_t i = 0; i < c.milestones.size(); ++i) {
      require(c.milestones[i] > (i == 0 ? 0 : c.milestones[i - 1]), "milestones",
              join(c.milestones), "positive epochs in increasing order");
    }
  }

  require_one_of("progress", c.progress, {"bar", "lines", "auto"});
  require_in_unit_interval("target-accuracy", c.target_accuracy, true,
                           "a fraction in [0, 1] (0: off)");
  require(std::isfinite(c.bucket_megabytes) && c.bucket_megabytes > 0, "bucket-mb",
          c.bucket_megabytes, "finite and above 0");
  require_one_of("on-nonfinite", c.on_nonfinite, {"stop", "skip"});
  // Steps on a shared node vary by more than half the median; a tighter watch aborts healthy
  // runs.
  require(c.hang_factor == 0 || (std::isfinite(c.hang_factor) && c.hang_factor >= 2), "hang-factor",
          c.hang_factor, "0 (off) or at least 2");
  require_finite_at_least("hang-min-seconds", c.hang_min_seconds, 0);
  require_one_of("inject-failure", c.inject_failure,
                 {"throw", "hang", "signal", "hang-in-evaluation"});
}

void add_run_options(po::options_description& options, RunConfig& c) {
  auto list_double = [](std::vector<double>* target, const char* name) {
    return po::value<std::string>()->notifier(
        [target, name](const std::string& text) { *target = parse_list<double>(text, name); });
  };
  po::options_description model("Model");
  model.add_options()("architecture", defaulted(&c.architecture),
                      "resnet18/34/50/101/152, resnet20/32/44/56/110, vgg11/13/16/19[_bn]")(
      "variant", defaulted(&c.variant),
      "cifar (3x3 stem / 512->classes head, inputs up to 64 px) or imagenet");
  po::options_description data("Data");
  data.add_options()("dataset", defaulted(&c.dataset),
                     "fashion-mnist, mnist, cifar10, cifar100, image-folder, hdf5, synthetic")(
      "data-dir", defaulted(&c.data_dir),
      "dataset folder or file (default: the dataset's standard location)")(
      "pad-to", defaulted(&c.pad_to), "zero-pad images to this size (0: keep)")(
      "crop-padding", defaulted(&c.crop_padding),
      "random crop after padding each side by this many pixels (0: off)")(
      "random-resized-crop", defaulted(&c.random_resized_crop),
      "training: random-resized-crop to this size (ImageNet style; 0: off)")(
      "resize", defaulted(&c.resize), "evaluation: resize the shorter side to this size (0: off)")(
      "center-crop", defaulted(&c.center_crop), "evaluation: center crop to this size (0: off)")(
      "horizontal-flip", defaulted(&c.horizontal_flip), "random horizontal flips")(
      "normalize-mean", list_double(&c.normalize_mean, "normalize-mean"),
      "per-channel mean, comma-separated (pixels in [0,1])")(
      "normalize-std", list_double(&c.normalize_std, "normalize-std"),
      "per-channel standard deviation, comma-separated")(
      "workers", defaulted(&c.workers), "background threads decoding and augmenting")(
      "drop-last", defaulted(&c.drop_last),
      "drop the last incomplete batch (else pad it by wrapping around)")(
      "train-samples", defaulted(&c.train_samples), "train on the first N samples only (0: all)")(
      "test-samples", defaulted(&c.test_samples),
      "evaluate on the first N test samples only (0: all)");
  po::options_description optimization("Optimization");
  optimization.add_options()("epochs", defaulted(&c.epochs), "training epochs")(
      "batch-size", defaulted(&c.batch_size),
      "GLOBAL batch size (per-rank batch = batch-size / ranks)")(
      "accumulation-steps", defaulted(&c.accumulation_steps),
      "run each rank's batch as this many micro-batches, gradients summed locally and "
      "allreduced once per step (less memory; BatchNorm sees micro-batches)")(
      "optimizer", defaulted(&c.optimizer), "sgd or adamw")("lr", defaulted(&c.learning_rate),
                                                            "base learning rate")(
      "lr-reference-batch", defaulted(&c.lr_reference_batch),
      "linear scaling rule: lr * batch-size / this (0: off)")(
      "momentum", defaulted(&c.momentum), "SGD momentum")("nesterov", defaulted(&c.nesterov),
                                                          "Nesterov momentum")(
      "weight-decay", defaulted(&c.weight_decay), "weight decay")(
      "no-decay-bias-norm", defaulted(&c.no_decay_bias_norm),
      "exempt biases and normalization parameters from weight decay")(
      "adam-beta1", defaulted(&c.adam_beta1), "AdamW beta1")("adam-beta2", defaulted(&c.adam_beta2),
                                                             "AdamW beta2")(
      "adam-epsilon", defaulted(&c.adam_epsilon), "AdamW epsilon")(
      "schedule", defaulted(&c.schedule), "constant, step, multistep or cosine")(
      "warmup-epochs", defaulted(&c.warmup_epochs), "linear warmup length in epochs")(
      "warmup-start-factor", defaulted(&c.warmup_start_factor), "warmup starts at lr * this")(
      "milestones", po::value<std::string>()->notifier([&c](const std::string& text) {
        c.milestones = parse_list<int64_t>(text, "milestones");
      }),
      "multistep: epochs at which lr *= gamma, comma-separated")(
      "step-size", defaulted(&c.step_size), "step: epochs per decay")(
      "gamma", defaulted(&c.gamma), "step/multistep decay factor")(
      "min-lr", defaulted(&c.min_learning_rate), "cosine: final learning rate")(
      "label-smoothing", defaulted(&c.label_smoothing), "cross-entropy label smoothing")(
      "clip-grad-norm", defaulted(&c.clip_grad_norm),
      "clip gradients to this global norm (0: off)")(
      "model-ema", defaulted(&c.model_ema),
      "keep an exponential moving average of the weights and buffers, evaluate and checkpoint "
      "it too (torchvision's --model-ema)")("model-ema-steps", defaulted(&c.model_ema_steps),
                                            "update the average every N steps")(
      "model-ema-decay", defaulted(&c.model_ema_decay),
      "decay per image, as torchvision: per update 1 - (1 - decay) * batch-size * "
      "model-ema-steps / epochs, at most 1");
  po::options_description run("Run");
  run.add_options()("run-dir", defaulted(&c.run_dir),
                    "folder for checkpoints and metrics (default: runs/<recipe>)")(
      "seed",
      po::value<std::string>()
          ->default_value(std::to_string(c.seed))
          ->notifier([&c](const std::string& text) { c.seed = parse_seed(text); }),
      "seed for weights, data order, augmentation")(
      "threads", defaulted(&c.threads),
      "OpenMP threads per rank (0: cores per node / ranks per node)")(
      "log-every", defaulted(&c.log_every), "log every N steps")(
      "progress", defaulted(&c.progress),
      "bar, lines, or auto (a bar on an interactive terminal outside mpirun)")(
      "checkpoint-every", defaulted(&c.checkpoint_every),
      "also checkpoint every N steps (0: epoch ends and the end only)")(
      "keep-checkpoints", defaulted(&c.keep_checkpoints), "keep the newest K checkpoints (0: all)")(
      "resume", defaulted(&c.resume),
      "auto (newest valid checkpoint in run-dir), none, or a checkpoint path")(
      "init-from", defaulted(&c.init_from),
      "start a fresh run from this checkpoint's weights and BatchNorm statistics (fine-tuning; "
      "optimizer, schedule and data start anew; a checkpoint in run-dir resumes instead)")(
      "init-skip", defaulted(&c.init_skip),
      "with --init-from: comma-separated tensor name prefixes to keep freshly initialized "
      "(e.g. fc, for another number of classes)")(
      "max-steps", defaulted(&c.max_steps),
      "stop after this many global steps (0: run all epochs)")(
      "eval-every", defaulted(&c.eval_every),
      "evaluate on the test split every N epochs (0: only at the end)")(
      "target-accuracy", defaulted(&c.target_accuracy),
      "stop after the first evaluation whose top-1 accuracy reaches this, 0..1 (0: off)")(
      "sync-bn", defaulted(&c.sync_batch_norm), "BatchNorm statistics over all ranks")(
      "bucket-mb", defaulted(&c.bucket_megabytes), "gradient bucket size for the allreduce, MB")(
      "compress-bf16", defaulted(&c.compress_bf16),
      "allreduce gradients in bf16 (fp32 accumulation)")(
      "on-nonfinite", defaulted(&c.on_nonfinite),
      "stop or skip a step whose loss or gradients are not finite")(
      "hang-factor", defaulted(&c.hang_factor),
      "abort when a step or evaluation takes this many times the recent median (0: off)")(
      "hang-min-seconds", defaulted(&c.hang_min_seconds),
      "... and at least this long (the first step, which builds the kernels: at least 600)")(
      "precision", defaulted(&c.precision),
      "fp32, or bf16: convolutions and linear layers in bf16 with f32 master weights")(
      "fuse-relu", defaulted(&c.fuse_relu),
      "fold each ReLU into the convolution, BatchNorm or Add before it (same results)")(
      "in-place-add", defaulted(&c.in_place_add),
      "residual sums overwrite their main branch's output (same results, less memory)")(
      "whole-map-matmul", defaulted(&c.whole_map_matmul),
      "convolutions whose every window covers the whole input map (VGG's 2x2 maps) run as "
      "matmuls (faster; other rounding than the convolution primitives)")(
      "im2col-matmul", defaulted(&c.im2col_matmul),
      "convolutions as im2col + matmul: auto (small maps with many channels on AVX2, where "
      "measured faster), always (every f32 convolution without groups) or never")(
      "winograd", defaulted(&c.winograd),
      "3x3 stride-1 convolutions as Winograd tiles + matmuls: auto (f32: at least 16 channels "
      "in and out on AVX2, 32 on AVX-512; bf16: 64 to 127 in tile groups, f32 inside; 256, or "
      "128 on maps up to 16x16, with 2x2 blocks on bf16 operands; where measured faster), always "
      "(every such convolution without groups; --im2col-matmul always takes precedence) or "
      "never")(
      "winograd-tile", defaulted(&c.winograd_tile),
      "Winograd's output block: 2 (F(2x2, 3x3)), 4 (F(4x4, 3x3): 2.25 multiplications per "
      "output and channel pair instead of 4, more rounding; in bf16 layers it runs in f32 "
      "inside) or auto (bf16 batched: 2; else 4 where 4x4 blocks cut the map little, as 7, 8, 16 "
      "or 32 wide, or 14 wide in tile groups; else 2)")(
      "winograd-groups", defaulted(&c.winograd_groups),
      "Winograd's schedule: a cache-sized group of tiles transformed, summed over channels by "
      "convoy's own kernel and transformed back at a time, or the whole batch's tiles through "
      "batched oneDNN matmuls: auto (groups below 64 channels in or out on AVX2, below 128 with "
      "AVX-512, where measured faster), always (groups) or never (batched matmuls)")(
      "health-every", defaulted(&c.health_every),
      "log per-layer training-health statistics every N steps (0: off)")(
      "trace", defaulted(&c.trace),
      "write a Chrome trace (JSON, one process per rank; ui.perfetto.dev or chrome://tracing) "
      "to this file: every layer's forward and backward, each allreduce bucket, the optimizer, "
      "the wait for data (train: --trace-steps steps after the first 10; bench: the timed "
      "steps)")("trace-steps", defaulted(&c.trace_steps),
                "train --trace: how many steps to record");
  po::options_description testing("Testing (fault injection)");
  testing.add_options()("inject-failure-step", po::value(&c.inject_failure_step)->default_value(0),
                        "make a rank fail at this global step (0: never)")(
      "inject-failure-rank", po::value(&c.inject_failure_rank)->default_value(0),
      "the rank that fails")(
      "inject-failure", defaulted(&c.inject_failure),
      "throw (an exception mid-step), hang (stop responding), signal (SIGUSR1 at the "
      "step's start, as a preemption) or hang-in-evaluation (stop "
      "responding in the evaluation after the step)");
  options.add(model).add(data).add(optimization).add(run).add(testing);
}

std::string find_recipe(const std::string& name_or_path) {
  if (fs::exists(name_or_path) && fs::is_regular_file(name_or_path)) return name_or_path;
  std::vector<fs::path> folders = {CONVOY_RECIPE_DIR};
  if (const char* extra = std::getenv("CONVOY_RECIPES")) folders.insert(folders.begin(), extra);
  std::error_code ignored;
  auto self = fs::read_symlink("/proc/self/exe", ignored);
  if (!ignored) folders.push_back(self.parent_path() / "recipes");
  std::string tried;
  for (const auto& folder : folders) {
    auto candidate = folder / (name_or_path + ".cfg");
    if (fs::exists(candidate)) return candidate.string();
    tried += " " + candidate.string();
  }
  std::string available;
  for (const auto& folder : folders) {
    if (!fs::is_directory(folder)) continue;
    for (const auto& entry : fs::directory_iterator(folder)) {
      if (entry.path().extension() == ".cfg") available += " " + entry.path().stem().string();
    }
  }
  throw UsageError("no recipe '" + name_or_path + "' (tried" + tried + "); available:" + available);
}

bool parse_command_line(const std::vector<std::string>& arguments, po::options_description& options,
                        const std::string& usage, RunConfig* config) {
  std::string recipe;
  po::options_description general("General");
  general.add_options()("help,h", "show this help");
  if (config) {
    general.add_options()("recipe", po::value(&recipe),
                          "recipe name (launcher/recipes/NAME.cfg) or path to a .cfg file");
  }
  po::options_description all;
  all.add(general).add(options);
  po::variables_map values;
  try {
    const auto parsed =
        po::command_line_parser(arguments).options(all).style(kCommandLineStyle).run();
    // Boost keeps words that belong to no option aside instead of refusing them, so
    // "train --recipe fashion-resnet20 10" would quietly drop the 10.
    const auto stray = po::collect_unrecognized(parsed.options, po::include_positional);
    if (!stray.empty()) {
      throw UsageError("unexpected argument '" + stray.front() +
                       "' (every value follows its --option; see --help)");
    }
    po::store(parsed, values);
    if (values.count("help")) {
      std::cout << usage << "\n" << all << "\n";
      return false;
    }
    if (config && values.count("recipe")) {
      const std::string path = find_recipe(values["recipe"].as<std::string>());
      std::ifstream file(path);
      if (!file) throw UsageError("cannot read recipe file " + path);
      // Values stored first win, so the command line (already stored) overrides the recipe.
      try {
        po::store(po::parse_config_file(file, all), values);
      } catch (const po::error& error) {
        throw UsageError("recipe " + path + ": " + error.what());
      }
      config->recipe = fs::path(path).stem().string();
    }
    po::notify(values);
    if (config) check_run_options(*config);
  } catch (const po::error& error) {
    throw UsageError(std::string(error.what()) + " (see --help)");
  }
  return true;
}

}  // namespace convoy::launcher
