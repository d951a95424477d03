#pragma once
// Checkpoints of a known model for end-to-end tests of the commands that load one (eval,
// filters, units, receptive-field), written without training.

#include <string>

#include "framework/graph/net.hpp"

namespace convoy::testing {

// Writes `net`'s parameters and buffers to `path` as a checkpoint whose stored configuration
// is `configuration` ("key = value" lines as in a recipe, e.g. "architecture = resnet20"), so
// the commands rebuild the same architecture and load exactly these values. With `model_ema`,
// its parameters and buffers are stored as the model EMA (/model_ema).
void write_model_checkpoint(const Net& net, const std::string& configuration,
                            const std::string& path, const Net* model_ema = nullptr);

}  // namespace convoy::testing
