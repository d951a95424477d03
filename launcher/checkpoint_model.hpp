#pragma once
// A trained model back from its checkpoint: the run's stored configuration (with the command
// line on top) and the network rebuilt and loaded, for eval, filters, units and
// receptive-field.

#include <memory>
#include <string>
#include <vector>

#include "checkpoints/checkpoint.hpp"
#include "framework/graph/net.hpp"
#include "launcher/model_factory.hpp"
#include "launcher/run_config.hpp"

namespace convoy::launcher {

// The run's configuration as stored in the checkpoint (or, for a checkpoint imported from
// PyTorch, its recipe file), with the options given in `overrides` on top.
RunConfig configuration_of(const Checkpoint& checkpoint, const std::vector<std::string>& overrides);

// Builds the checkpoint's architecture for `geometry` and loads its parameters and buffers;
// ConfigError naming the first tensor that does not fit.
std::unique_ptr<Net> load_checkpoint_net(const Checkpoint& checkpoint, const RunConfig& config,
                                         const ModelGeometry& geometry);

}  // namespace convoy::launcher
