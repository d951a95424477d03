// `convoy filters --checkpoint PATH [--layer NAME] [--output FILE.png]`: a convolution's
// filters read straight from the checkpoint (no model, no data) as a PNG grid, and one number
// for how much they repeat each other: the mean |Pearson r| between distinct filters.

#include <cmath>
#include <cstdio>

#include "framework/visual/filter_bank.hpp"
#include "launcher/checkpoint_model.hpp"
#include "launcher/command.hpp"
#include "launcher/option_value.hpp"
#include "launcher/picture_scale.hpp"
#include "launcher/run_config.hpp"
#include "launcher/usage_error.hpp"

namespace convoy::launcher {

namespace po = boost::program_options;

// The checkpoint's convolution weights: every 4-D "<layer>.weight", in state_dict order.
static std::vector<const NamedArray*> convolution_weights(const Checkpoint& checkpoint) {
  std::vector<const NamedArray*> weights;
  for (const auto& array : checkpoint.model) {
    if (array.shape.size() == 4 && array.name.ends_with(".weight")) weights.push_back(&array);
  }
  return weights;
}

static std::string layer_of(const NamedArray& weight) {
  return weight.name.substr(0, weight.name.size() - std::string(".weight").size());
}

static const NamedArray& find_convolution(const Checkpoint& checkpoint, const std::string& layer,
                                          const std::string& path) {
  const auto weights = convolution_weights(checkpoint);
  if (weights.empty()) throw ConfigError("checkpoint " + path + " holds no convolution weight");
  if (layer.empty()) return *weights.front();
  std::string names;
  for (const NamedArray* weight : weights) {
    if (layer_of(*weight) == layer) return *weight;
    names += (names.empty() ? "" : ", ") + layer_of(*weight);
  }
  throw ConfigError("no convolution named '" + layer + "' in checkpoint " + path +
                    "; convolutions: " + names);
}

int run_filters(const std::vector<std::string>& arguments) {
  std::string checkpoint_path, layer, output, weights;
  int scale = 8, columns = 0;
  po::options_description options("Filters");
  options.add_options()("checkpoint", po::value(&checkpoint_path),
                        "checkpoint file (or run-dir/latest)")(
      "layer", po::value(&layer), "convolution to show (default: the first, e.g. conv1)")(
      "output", po::value(&output), "PNG to write (default: filters-LAYER.png)")(
      "scale", defaulted(&scale),
      "pixels per weight (nearest neighbour), so a 3x3 filter is visible")(
      "columns", po::value(&columns)->default_value(0),
      "tiles per row (default: a square grid; with other than 1 or 3 input channels, one "
      "filter per row)");
  add_weights_option(options, weights);
  if (!parse_command_line(arguments, options,
                          "usage: convoy filters --checkpoint PATH [--layer NAME] "
                          "[--output FILE.png]",
                          nullptr)) {
    return kExitSuccess;
  }
  if (checkpoint_path.empty()) throw UsageError("--checkpoint is required (see --help)");
  if (scale < 1) throw UsageError("--scale must be at least 1");
  const Checkpoint checkpoint = read_checkpoint_weights(checkpoint_path, weights);
  const NamedArray& weight = find_convolution(checkpoint, layer, checkpoint_path);
  const std::string name = layer_of(weight);
  const Shape& oihw = weight.shape;
  if (output.empty()) output = "filters-" + name + ".png";

  const auto tiles = visual::filter_tiles(weight.values, oihw);
  visual::GridLayout layout;
  layout.scale = scale;
  layout.columns = columns;
  if (columns <= 0) {
    const bool one_tile_per_filter = oihw[1] == 1 || oihw[1] == 3;
    layout.columns = one_tile_per_filter
                         ? static_cast<int>(std::ceil(std::sqrt(static_cast<double>(oihw[0]))))
                         : static_cast<int>(oihw[1]);
  }
  check_picture_scale(scale,
                      visual::grid_size(static_cast<int64_t>(tiles.size()), tiles.front().height,
                                        tiles.front().width, layout),
                      std::to_string(tiles.size()) + " tiles of " +
                          std::to_string(tiles.front().height) + "x" +
                          std::to_string(tiles.front().width) + " in " +
                          std::to_string(layout.columns) + " columns");
  const visual::RasterImage grid = visual::make_grid(tiles, layout);
  visual::write_png(grid, output);

  std::printf("%s%s: %lld filters of %lldx%lldx%lld (%s)\n", name.c_str(),
              weights == "ema" ? " (model EMA)" : "", static_cast<long long>(oihw[0]),
              static_cast<long long>(oihw[1]), static_cast<long long>(oihw[2]),
              static_cast<long long>(oihw[3]),
              oihw[1] == 3   ? "RGB tiles"
              : oihw[1] == 1 ? "gray tiles"
                             : "one row per filter");
  if (oihw[0] >= 2) {
    const double correlation = visual::mean_absolute_filter_correlation(weight.values, oihw);
    std::printf(
        "mean |correlation| between filters: %.4f (Pearson over each flattened filter, "
        "mean over pairs of distinct filters)\n",
        correlation);
  }
  std::printf("wrote %s (%dx%d px, each tile min-max normalized)\n", output.c_str(), grid.width(),
              grid.height());
  return kExitSuccess;
}

}  // namespace convoy::launcher
