#include "launcher/spatial_layer.hpp"

#include "framework/common/error.hpp"

namespace convoy::launcher {

Net::NodeSummary spatial_layer_summary(Net& net, const std::string& layer,
                                       const Shape& input_shape) {
  net.layer(layer);  // an unknown name throws here, listing the valid ones
  for (const auto& row : net.summarize(input_shape)) {
    if (row.name != layer) continue;
    if (row.output_shape.size() != 4) {
      throw ConfigError("layer " + layer + " outputs " + to_string(row.output_shape) +
                        ", not a spatial map (N, C, H, W); choose a convolution, normalization, "
                        "activation or pooling layer");
    }
    return row;
  }
  throw ConfigError("layer " + layer + " is missing from the network summary");
}

}  // namespace convoy::launcher
