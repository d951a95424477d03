#pragma once
// The layer a picture command looks inside (`convoy units`, `convoy receptive-field`): it must
// exist and output a spatial map, and its receptive field says what input a unit sees.

#include <string>

#include "framework/graph/net.hpp"

namespace convoy::launcher {

// The summary row (shape, receptive field, jump, centre offset) of `layer` for input batches
// of `input_shape` (N, C, H, W). ConfigError naming the valid layers for an unknown name, and
// what the layer outputs when that is not (N, C, H, W).
Net::NodeSummary spatial_layer_summary(Net& net, const std::string& layer,
                                       const Shape& input_shape);

}  // namespace convoy::launcher
