#pragma once
// From a RunConfig to a model: the input geometry a dataset implies (without reading it) and
// the ModelConfig for the builders.

#include <string>

#include "framework/common/shape.hpp"
#include "framework/models/model_builder.hpp"
#include "launcher/run_config.hpp"

namespace convoy::launcher {

struct ModelGeometry {
  int64_t channels = 1, height = 28, width = 28, classes = 10;
};

// The geometry the network sees: the dataset's image size after --pad-to.
ModelGeometry model_geometry(const RunConfig& config);
ModelConfig model_config(const RunConfig& config, const ModelGeometry& geometry);
// --precision: fp32, or bf16 (mixed precision; a ConfigError on a CPU without native bf16).
DataType compute_type_of(const std::string& precision);
// --im2col-matmul, --winograd or --winograd-groups (`option`): auto, always or never; anything
// else is a UsageError naming the option.
kernels::LoweringChoice lowering_choice_of(const std::string& option, const std::string& when);
// --winograd-tile: auto (0), 2 or 4; anything else is a UsageError naming the option.
int64_t winograd_tile_of(const std::string& block);
// "3x32x32" -> (3, 32, 32); a bad value is a UsageError naming the option.
Shape parse_shape(const std::string& text, const std::string& option);
// The --input CxHxW and --classes options of bench, summary and gradcheck over a geometry
// (empty and 0 keep what it has).
void override_geometry(ModelGeometry& geometry, const std::string& input_text, int64_t classes);

}  // namespace convoy::launcher
