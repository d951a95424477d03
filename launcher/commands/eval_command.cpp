// `convoy eval --checkpoint PATH`: rebuilds the model the checkpoint was trained with (from its
// stored configuration), loads its weights and evaluates on the test split, sharded over the
// ranks of the job; text or --json.

#include <fstream>
#include <iostream>
#include <sstream>

#include "checkpoints/checkpoint_reader.hpp"
#include "framework/distributed/communicator.hpp"
#include "framework/kernels/context.hpp"
#include "launcher/command.hpp"
#include "launcher/model_factory.hpp"
#include "launcher/training/checkpoint_state.hpp"
#include "launcher/training/data_factory.hpp"
#include "launcher/training/evaluator.hpp"
#include "launcher/usage_error.hpp"

namespace convoy::launcher {

namespace po = boost::program_options;

// The run's configuration as stored in the checkpoint, then the command line on top.
static RunConfig configuration_of(const Checkpoint& checkpoint,
                                  const std::vector<std::string>& overrides) {
  RunConfig config;
  po::options_description options;
  add_run_options(options, config);
  po::variables_map values;
  po::store(po::command_line_parser(overrides)
                .options(options)
                .style(kCommandLineStyle)
                .allow_unregistered()
                .run(),
            values);
  std::istringstream stored(checkpoint.configuration);
  po::store(po::parse_config_file(stored, options, /*allow_unregistered=*/true), values);
  // A checkpoint imported from PyTorch stores no configuration: its recipe file fills the gaps.
  try {
    std::ifstream recipe(find_recipe(checkpoint.recipe));
    po::store(po::parse_config_file(recipe, options, /*allow_unregistered=*/true), values);
  } catch (const UsageError&) {
    // No such recipe: the stored configuration and the command line are all there is.
  }
  po::notify(values);
  config.recipe = checkpoint.recipe;
  return config;
}

int run_eval(const std::vector<std::string>& arguments) {
  RunConfig parsed;
  std::string checkpoint_path, json_path;
  bool json = false;
  int64_t batch = 256;
  po::options_description options("Evaluation");
  options.add_options()("checkpoint", po::value(&checkpoint_path),
                        "checkpoint file (or run-dir/latest)")("json", po::bool_switch(&json),
                                                               "print the report as JSON")(
      "json-file", po::value(&json_path), "also write the JSON report to this file")(
      "eval-batch", po::value(&batch)->default_value(batch), "images per forward pass");
  add_run_options(options, parsed);
  if (!parse_command_line(arguments, options,
                          "usage: convoy eval --checkpoint PATH [--data-dir DIR] [--json]",
                          nullptr)) {
    return kExitSuccess;
  }
  if (checkpoint_path.empty()) throw UsageError("--checkpoint is required (see --help)");
  Communicator communicator;
  Checkpoint checkpoint = CheckpointReader::read(checkpoint_path);
  // Options given on this command line (data-dir, threads, test-samples) override the stored.
  RunConfig config = configuration_of(checkpoint, arguments);
  kernels::set_thread_count(config.threads > 0 ? config.threads
                                               : communicator.recommended_threads());
  TrainingData data = open_evaluation_data(config);
  auto net = build_model(model_config(config, data.geometry));
  check_compatible(checkpoint, model_tensor_infos(*net));
  load_model_state(*net, checkpoint.model);
  EvaluationResult result = evaluate(*net, *data.test, data.eval_transform, communicator, batch);
  if (communicator.rank() == 0) {
    nlohmann::json report = result.to_json();
    report["checkpoint"] = checkpoint_path;
    report["recipe"] = checkpoint.recipe;
    report["step"] = checkpoint.step;
    report["ranks"] = communicator.world_size();
    if (json) {
      std::cout << report.dump() << std::endl;  // one line: scripts read the last line
    } else {
      std::cout << "checkpoint " << checkpoint_path << " (" << checkpoint.recipe << ", step "
                << checkpoint.step << "), " << communicator.world_size() << " rank(s)\n"
                << result.to_text();
    }
    if (!json_path.empty()) {
      std::ofstream file(json_path);
      if (!(file << report.dump(2) << "\n")) throw FileError("cannot write " + json_path);
    }
  }
  return kExitSuccess;
}

}  // namespace convoy::launcher
