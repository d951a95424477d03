#pragma once
// RunConfig: every setting of a training or evaluation run, read from a recipe file
// (launcher/recipes/NAME.cfg, Boost.Program_options config syntax) and overridden by the
// command line. The effective configuration is logged and stored in every checkpoint.

#include <boost/program_options.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace convoy::launcher {

struct RunConfig {
  std::string recipe;
  std::string run_dir;

  // Model
  std::string architecture = "resnet20";
  std::string variant = "cifar";

  // Data
  std::string dataset = "fashion-mnist";  // fashion-mnist, mnist, cifar10, cifar100,
                                          // image-folder, hdf5, synthetic
  std::string data_dir;                   // defaults per dataset
  int64_t pad_to = 0;                     // zero-pad images to this size (VGG on 28 px)
  int64_t crop_padding = 0;               // random crop after padding by this much
  int64_t random_resized_crop = 0;        // ImageNet-style training crop size (0: off)
  int64_t resize = 0;                     // evaluation: shorter side to this size (0: off)
  int64_t center_crop = 0;                // evaluation: center crop size (0: off)
  bool horizontal_flip = false;
  std::vector<double> normalize_mean, normalize_std;
  int workers = 1;
  bool drop_last = true;
  int64_t train_samples = 0;  // use only the first N training samples (0: all)
  int64_t test_samples = 0;   // evaluate on the first N test samples (0: all)

  // Optimization
  int64_t epochs = 1;
  int64_t batch_size = 128;  // global: per-rank batch = batch_size / world size
  // Forward/backward passes per optimizer step on each rank (gradient accumulation).
  int64_t accumulation_steps = 1;
  std::string optimizer = "sgd";
  double learning_rate = 0.1;
  int64_t lr_reference_batch = 0;  // linear scaling: lr * batch_size / reference (0 = off)
  double momentum = 0.9;
  bool nesterov = false;
  double weight_decay = 0.0;
  bool no_decay_bias_norm = false;
  double adam_beta1 = 0.9, adam_beta2 = 0.999, adam_epsilon = 1e-8;
  std::string schedule = "cosine";
  double warmup_epochs = 0;
  double warmup_start_factor = 0.1;
  std::vector<int64_t> milestones;
  int64_t step_size = 30;
  double gamma = 0.1;
  double min_learning_rate = 0;
  double label_smoothing = 0;
  double clip_grad_norm = 0;
  // Exponential moving average of the weights, evaluated beside them (torchvision's names).
  bool model_ema = false;
  int64_t model_ema_steps = 32;
  double model_ema_decay = 0.99998;

  // Run
  uint64_t seed = 42;
  int threads = 0;  // 0: cores per node / ranks per node
  int64_t log_every = 50;
  std::string progress = "auto";  // bar | lines | auto (bar on a terminal, not under mpirun)
  int64_t checkpoint_every = 0;   // steps; 0: only at epoch ends and at the end
  int64_t keep_checkpoints = 3;
  std::string resume = "auto";  // auto | none | PATH
  // A fresh run's starting weights: another run's checkpoint (fine-tuning), less the tensors
  // under the comma-separated init_skip prefixes (e.g. "fc" for other classes).
  std::string init_from;
  std::string init_skip;
  int64_t max_steps = 0;       // stop after this many global steps (0: all epochs)
  int64_t eval_every = 1;      // epochs
  double target_accuracy = 0;  // stop after the first evaluation reaching this (0: off)
  bool sync_batch_norm = false;
  double bucket_megabytes = 25;
  bool compress_bf16 = false;
  std::string on_nonfinite = "stop";  // stop | skip
  double hang_factor = 20;
  double hang_min_seconds = 120;
  std::string precision = "fp32";
  bool fuse_relu = true;
  bool in_place_add = true;
  // The options' words for kernels::ConvolutionPaths (model_config turns them into one).
  bool whole_map_matmul = true;
  std::string im2col_matmul = "auto";    // auto, always or never
  std::string winograd = "auto";         // auto, always or never
  std::string winograd_groups = "auto";  // auto, always or never (winograd_tile_groups)
  std::string winograd_tile = "auto";    // auto, 2 or 4
  // --trace: a Chrome trace of steps (bench: the timed ones; train: --trace-steps of them).
  std::string trace;
  int64_t trace_steps = 20;
  int64_t health_every = 0;
  // Fault injection for the tests of the failure paths: at this global step, rank
  // fail_rank throws (failure "throw"), stops responding (failure "hang"), raises SIGUSR1
  // as a preemption would (failure "signal"), or stops responding in the evaluation after
  // that step (failure "hang-in-evaluation").
  int64_t inject_failure_step = 0;
  int inject_failure_rank = 0;
  std::string inject_failure = "throw";

  // "key = value" lines in recipe syntax: logs, checkpoints, reproduction.
  std::string to_text() const;
  // to_text()'s lines and the options that steer collective work (when to evaluate,
  // checkpoint or stop): what every rank of a job must agree on, or the ranks would diverge or
  // wait for each other forever. Per-rank settings (threads, workers, logging) are left out.
  std::vector<std::string> options_every_rank_shares() const;
};

// Throws UsageError naming the first option whose value is out of its range or not one of
// its words (exit code 2), before any work starts.
void check_run_options(const RunConfig& config);

// One option whose value differs between two to_text() configurations.
struct OptionDifference {
  std::string option, before, now;
};
// The options of `now` whose values differ from `before` (both in to_text()'s "key = value"
// lines), in `now`'s order; an option `before` lacks (an older convoy) is not a difference.
std::vector<OptionDifference> configuration_differences(const std::string& before,
                                                        const std::string& now);

// Boost's default style minus abbreviations: "--checkpoint" must never be taken for
// "--checkpoint-every".
constexpr int kCommandLineStyle = boost::program_options::command_line_style::default_style &
                                  ~boost::program_options::command_line_style::allow_guessing;

// Adds every RunConfig option (with its default) to `options`.
void add_run_options(boost::program_options::options_description& options, RunConfig& config);

// Parses `arguments` and, when --recipe is given, the recipe file; the command line wins.
// Returns false when --help was asked (the help text is then printed).
bool parse_command_line(const std::vector<std::string>& arguments,
                        boost::program_options::options_description& options,
                        const std::string& usage, RunConfig* config_for_recipe);

// Finds a recipe by name (launcher/recipes/NAME.cfg, also next to the executable) or path.
std::string find_recipe(const std::string& name_or_path);

}  // namespace convoy::launcher
