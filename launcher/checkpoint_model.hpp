#pragma once
// A trained model back from its checkpoint: the run's stored configuration (with the command
// line on top) and the network rebuilt and loaded, for eval, filters, units and
// receptive-field.

#include <boost/program_options.hpp>
#include <memory>
#include <string>
#include <vector>

#include "checkpoints/checkpoint.hpp"
#include "framework/graph/net.hpp"
#include "launcher/model_factory.hpp"
#include "launcher/run_config.hpp"

namespace convoy::launcher {

// --weights for the commands that load a trained model: "model" (the weights) or "ema" (the
// moving average a --model-ema run saved beside them, /model_ema).
void add_weights_option(boost::program_options::options_description& options, std::string& weights);

// Reads the checkpoint at `path` with the chosen weights in `model`: for "ema" the moving
// average takes their place. UsageError for another choice, ConfigError naming the file when
// it holds no average.
Checkpoint read_checkpoint_weights(const std::string& path, const std::string& weights);

// The run's configuration as stored in the checkpoint (or, for a checkpoint imported from
// PyTorch, its recipe file), with the options given in `overrides` on top.
RunConfig configuration_of(const Checkpoint& checkpoint, const std::vector<std::string>& overrides);

// Builds the checkpoint's architecture for `geometry` and loads its parameters and buffers;
// ConfigError naming the first tensor that does not fit.
std::unique_ptr<Net> load_checkpoint_net(const Checkpoint& checkpoint, const RunConfig& config,
                                         const ModelGeometry& geometry);

}  // namespace convoy::launcher
