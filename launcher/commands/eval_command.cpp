// `convoy eval --checkpoint PATH`: rebuilds the model the checkpoint was trained with (from its
// stored configuration), loads its weights and evaluates on the test split, sharded over the
// ranks of the job; text or --json, and --confusion-png for the confusion matrix as a picture.

#include <algorithm>
#include <fstream>
#include <iostream>

#include "framework/distributed/communicator.hpp"
#include "framework/kernels/context.hpp"
#include "framework/visual/colormap.hpp"
#include "launcher/checkpoint_model.hpp"
#include "launcher/command.hpp"
#include "launcher/option_agreement.hpp"
#include "launcher/option_value.hpp"
#include "launcher/training/data_factory.hpp"
#include "launcher/training/evaluator.hpp"
#include "launcher/usage_error.hpp"

namespace convoy::launcher {

namespace po = boost::program_options;

// Each row divided by its class's sample count (the recall of the true class), so rare and
// common classes read alike; viridis from 0 (dark) to 1 (yellow), one square per cell, about
// 320 pixels across in all.
static void write_confusion_png(const EvaluationResult& result, const std::string& path) {
  const int classes = static_cast<int>(result.class_names.size());
  std::vector<float> fractions(result.confusion.size(), 0.0f);
  for (int k = 0; k < classes; ++k) {
    int64_t total = 0;
    for (int p = 0; p < classes; ++p) total += result.confusion[k * classes + p];
    for (int p = 0; p < classes && total > 0; ++p)
      fractions[k * classes + p] = static_cast<float>(result.confusion[k * classes + p]) / total;
  }
  visual::HeatMapOptions options;
  options.scale = std::max(1, 320 / classes);
  options.low = 0.0;
  options.high = 1.0;
  visual::write_png(visual::heat_map(fractions, classes, classes, options), path);
}

int run_eval(const std::vector<std::string>& arguments) {
  RunConfig parsed;
  std::string checkpoint_path, json_path, confusion_path, weights = "model";
  bool json = false;
  int64_t batch = 256;
  po::options_description options("Evaluation");
  options.add_options()("checkpoint", po::value(&checkpoint_path),
                        "checkpoint file (or run-dir/latest)")("json", po::bool_switch(&json),
                                                               "print the report as JSON")(
      "json-file", po::value(&json_path), "also write the JSON report to this file")(
      "eval-batch", defaulted(&batch), "images per forward pass")(
      "confusion-png", po::value(&confusion_path),
      "also write the confusion matrix as a PNG heat map (rows: true class, divided by its "
      "count)");
  add_weights_option(options, weights);
  add_run_options(options, parsed);
  if (!parse_command_line(arguments, options,
                          "usage: convoy eval --checkpoint PATH [--data-dir DIR] [--json]",
                          nullptr)) {
    return kExitSuccess;
  }
  if (checkpoint_path.empty()) throw UsageError("--checkpoint is required (see --help)");
  if (batch < 1) throw UsageError("--eval-batch must be at least 1, got " + std::to_string(batch));
  Communicator communicator;
  const Checkpoint checkpoint = read_checkpoint_weights(checkpoint_path, weights);
  // Options given on this command line (data-dir, threads, test-samples) override the stored.
  RunConfig config = configuration_of(checkpoint, arguments);
  verify_ranks_share_options(communicator, config,
                             {"checkpoint = " + checkpoint_path,
                              "eval-batch = " + std::to_string(batch), "weights = " + weights});
  kernels::set_thread_count(config.threads > 0 ? config.threads
                                               : communicator.recommended_threads());
  TrainingData data = open_evaluation_data(config);
  auto net = load_checkpoint_net(checkpoint, config, data.geometry);
  const Shape input{data.geometry.channels, data.geometry.height, data.geometry.width};
  EvaluationResult result =
      evaluate(*net, *data.test, data.eval_transform, input, communicator, batch);
  // Scoring at another size than training's is allowed (as torchvision's --val-crop-size
  // allows it) but said: the options of this command line changed the transforms.
  const std::string other_size_note =
      checkpoint.input_shape.empty() || checkpoint.input_shape == input
          ? ""
          : " (trained on " + to_string(checkpoint.input_shape) + ")";
  if (communicator.rank() == 0) {
    nlohmann::json report = result.to_json();
    report["checkpoint"] = checkpoint_path;
    report["recipe"] = checkpoint.recipe;
    report["step"] = checkpoint.step;
    report["ranks"] = communicator.world_size();
    report["weights"] = weights;
    report["input_shape"] = input;
    if (!checkpoint.input_shape.empty()) report["trained_input_shape"] = checkpoint.input_shape;
    if (json) {
      std::cout << report.dump() << std::endl;  // one line: scripts read the last line
    } else {
      std::cout << "checkpoint " << checkpoint_path << " (" << checkpoint.recipe << ", step "
                << checkpoint.step << (weights == "ema" ? ", model EMA" : "") << "), "
                << communicator.world_size() << " rank(s), images " << to_string(input)
                << other_size_note << "\n"
                << result.to_text();
    }
    if (!json_path.empty()) {
      std::ofstream file(json_path);
      if (!(file << report.dump(2) << "\n")) throw FileError("cannot write " + json_path);
    }
    if (!confusion_path.empty()) write_confusion_png(result, confusion_path);
  }
  return kExitSuccess;
}

}  // namespace convoy::launcher
