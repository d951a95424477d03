#include "launcher/checkpoint_model.hpp"

#include <fstream>
#include <sstream>

#include "checkpoints/checkpoint_reader.hpp"
#include "launcher/training/checkpoint_state.hpp"
#include "launcher/usage_error.hpp"

namespace convoy::launcher {

namespace po = boost::program_options;

void add_weights_option(po::options_description& options, std::string& weights) {
  options.add_options()(
      "weights", po::value(&weights)->default_value("model"),
      "model, or ema: the moving average a --model-ema run saved beside the weights");
}

Checkpoint read_checkpoint_weights(const std::string& path, const std::string& weights) {
  if (weights != "model" && weights != "ema") {
    throw UsageError("--weights must be model or ema, got '" + weights + "'");
  }
  Checkpoint checkpoint = CheckpointReader::read(path);
  if (weights == "ema") {
    if (checkpoint.model_ema.empty()) {
      throw ConfigError("checkpoint " + path +
                        " holds no model EMA (/model_ema): it was trained without --model-ema");
    }
    checkpoint.model = std::move(checkpoint.model_ema);
    checkpoint.model_ema.clear();
  }
  return checkpoint;
}

RunConfig configuration_of(const Checkpoint& checkpoint,
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
  check_run_options(config);
  return config;
}

std::unique_ptr<Net> load_checkpoint_net(const Checkpoint& checkpoint, const RunConfig& config,
                                         const ModelGeometry& geometry) {
  ModelConfig model = model_config(config, geometry);
  model.in_place_adds = false;  // the picture commands read hidden activations
  auto net = build_model(model);
  check_compatible(checkpoint, model_tensor_infos(*net));
  load_model_state(*net, checkpoint.model);
  return net;
}

}  // namespace convoy::launcher
