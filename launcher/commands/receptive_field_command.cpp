// `convoy receptive-field --checkpoint PATH --layer NAME`: the effective receptive field of the
// centre unit of a layer (Luo et al. 2016): |d unit / d input| averaged over test images and
// input channels, as a heat map PNG, with its measured size beside the theoretical receptive
// field from Net::summarize. Trained networks typically use a small, roughly Gaussian part of
// the theoretical field; a linear stack of all-ones convolutions fills it exactly.

#include <cstdio>
#include <random>

#include "datasets/batch_loader.hpp"
#include "framework/distributed/communicator.hpp"
#include "framework/kernels/context.hpp"
#include "framework/visual/colormap.hpp"
#include "framework/visual/effective_receptive_field.hpp"
#include "launcher/checkpoint_model.hpp"
#include "launcher/command.hpp"
#include "launcher/option_value.hpp"
#include "launcher/picture_scale.hpp"
#include "launcher/spatial_layer.hpp"
#include "launcher/training/data_factory.hpp"
#include "launcher/usage_error.hpp"

namespace convoy::launcher {

namespace po = boost::program_options;

int run_receptive_field(const std::vector<std::string>& arguments) {
  RunConfig parsed;
  std::string checkpoint_path, layer, output, weights;
  int64_t images = 16;
  int scale = 0;
  double fraction = 0.95;
  bool noise = false;
  po::options_description options("Receptive field");
  options.add_options()("checkpoint", po::value(&checkpoint_path),
                        "checkpoint file (or run-dir/latest)")(
      "layer", po::value(&layer), "layer whose centre unit to measure, e.g. layer2.0.conv1")(
      "images", defaulted(&images), "test images averaged over")(
      "noise", po::bool_switch(&noise),
      "use standard normal noise images instead of the test split (no data needed)")(
      "fraction", defaulted(&fraction),
      "measured size: the side of the smallest centred square holding this share of |gradient|")(
      "output", po::value(&output), "PNG to write (default: receptive-field-LAYER.png)")(
      "scale", po::value(&scale)->default_value(0),
      "pixels per input pixel (default: about 256 px across)");
  add_weights_option(options, weights);
  add_run_options(options, parsed);
  if (!parse_command_line(arguments, options,
                          "usage: convoy receptive-field --checkpoint PATH --layer NAME "
                          "[--images N] [--output FILE.png]",
                          nullptr)) {
    return kExitSuccess;
  }
  if (checkpoint_path.empty()) throw UsageError("--checkpoint is required (see --help)");
  if (layer.empty()) throw UsageError("--layer is required (see --help)");
  if (images < 1 || scale < 0 || !(fraction > 0 && fraction <= 1)) {
    throw UsageError("--images must be positive, --scale >= 0 and --fraction in (0, 1]");
  }
  Communicator communicator;
  if (communicator.world_size() > 1) {
    throw UsageError(
        "convoy receptive-field runs on one rank (it writes one picture); start it without mpirun");
  }
  const Checkpoint checkpoint = read_checkpoint_weights(checkpoint_path, weights);
  const RunConfig config = configuration_of(checkpoint, arguments);
  kernels::set_thread_count(config.threads > 0 ? config.threads
                                               : communicator.recommended_threads());
  Tensor input;
  ModelGeometry geometry;
  if (noise) {
    geometry = model_geometry(config);
    const Shape shape{images, geometry.channels, geometry.height, geometry.width};
    std::vector<float> values(static_cast<size_t>(element_count(shape)));
    std::mt19937_64 generator(config.seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (float& value : values) value = normal(generator);
    input = Tensor::from_plain(shape, values);
  } else {
    TrainingData data = open_evaluation_data(config);
    geometry = data.geometry;
    images = std::min(images, data.test->size());
    std::vector<int64_t> indices(static_cast<size_t>(images));
    for (int64_t i = 0; i < images; ++i) indices[static_cast<size_t>(i)] = i;
    const data::Batch batch = data::load_batch(*data.test, data.eval_transform, 0, indices, 0, 0);
    input = Tensor::from_plain(batch.shape, batch.images);
  }
  // The heat map has one value per input pixel.
  if (scale > 0) {
    check_picture_scale(
        scale, {geometry.height, geometry.width},
        std::to_string(geometry.height) + "x" + std::to_string(geometry.width) + " input pixels");
  }
  auto net = load_checkpoint_net(checkpoint, config, geometry);
  const Net::NodeSummary unit =
      spatial_layer_summary(*net, layer, {1, geometry.channels, geometry.height, geometry.width});
  const visual::EffectiveReceptiveField field =
      visual::effective_receptive_field(*net, layer, input);

  if (output.empty()) output = "receptive-field-" + layer + ".png";
  visual::HeatMapOptions heat;
  heat.scale = scale > 0 ? scale : std::max(1, 256 / std::max(field.height, field.width));
  visual::write_png(visual::heat_map(field.map, field.height, field.width, heat), output);

  const double centre_y = static_cast<double>(field.centre_y * unit.jump) + unit.centre_offset;
  const double centre_x = static_cast<double>(field.centre_x * unit.jump) + unit.centre_offset;
  std::printf(
      "%s: centre unit (%lld, %lld) of its %lldx%lld map, centred on input (%.1f, %.1f) "
      "of %dx%d; %lld %s\n",
      layer.c_str(), static_cast<long long>(field.centre_y), static_cast<long long>(field.centre_x),
      static_cast<long long>(unit.output_shape[2]), static_cast<long long>(unit.output_shape[3]),
      centre_y, centre_x, field.height, field.width, static_cast<long long>(input.dim(0)),
      noise ? "noise images" : "test images");
  std::printf("theoretical receptive field: %lld px (jump %lld)\n",
              static_cast<long long>(unit.receptive_field), static_cast<long long>(unit.jump));
  std::printf(
      "effective receptive field: %lld px (smallest centred square holding %.0f %% of "
      "|gradient|); nonzero gradient within %lld px\n",
      static_cast<long long>(visual::centred_square_side(field, fraction)), 100 * fraction,
      static_cast<long long>(visual::centred_square_side(field, 1.0)));
  std::printf("wrote %s (%dx%d px heat map, viridis: dark = no influence)\n", output.c_str(),
              field.width * heat.scale, field.height * heat.scale);
  return kExitSuccess;
}

}  // namespace convoy::launcher
