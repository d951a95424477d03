// `convoy units --checkpoint PATH --layer NAME`: for chosen channels of a layer, the test
// images that excite each channel most (strongest activation anywhere in the map), each
// cropped to that unit's theoretical receptive field around where the maximum sits, as a PNG
// grid with one row per channel, best first (Zeiler & Fergus 2014).
//
// Where a unit looks: unit (y, x) of the layer is centred on input pixel
// (y * jump + centre_offset, x * jump + centre_offset), both from Net::summarize; each
// convolution or pooling adds jump_in * (dilation * (kernel - 1) / 2 - padding) to the offset,
// so padded "same" stacks keep it at 0. Crops are cut from the network's input (after the
// evaluation transform and normalization) and zero-padded where the field leaves the image,
// which is exactly what the padded convolutions see.

#include <cstdio>
#include <sstream>

#include "datasets/batch_loader.hpp"
#include "framework/distributed/communicator.hpp"
#include "framework/kernels/context.hpp"
#include "framework/visual/unit_examples.hpp"
#include "launcher/checkpoint_model.hpp"
#include "launcher/command.hpp"
#include "launcher/option_value.hpp"
#include "launcher/picture_scale.hpp"
#include "launcher/spatial_layer.hpp"
#include "launcher/training/data_factory.hpp"
#include "launcher/usage_error.hpp"

namespace convoy::launcher {

namespace po = boost::program_options;

static std::vector<int64_t> parse_channels(const std::string& text) {
  std::vector<int64_t> channels;
  std::istringstream stream(text);
  for (std::string item; std::getline(stream, item, ',');) {
    try {
      size_t used = 0;
      channels.push_back(std::stoll(item, &used));
      if (used != item.size() || channels.back() < 0) throw std::invalid_argument(item);
    } catch (const std::exception&) {
      throw UsageError("--channels: '" + item + "' is not a channel index (e.g. 0,1,2)");
    }
  }
  if (channels.empty()) throw UsageError("--channels: no channel given (e.g. 0,1,2)");
  return channels;
}

int run_units(const std::vector<std::string>& arguments) {
  RunConfig parsed;
  std::string checkpoint_path, layer, channels_text, output, weights;
  int top = 8, scale = 0;
  int64_t samples = 1000, batch = 256;
  po::options_description options("Units");
  options.add_options()("checkpoint", po::value(&checkpoint_path),
                        "checkpoint file (or run-dir/latest)")(
      "layer", po::value(&layer), "layer whose units to show, e.g. layer1.0.conv1")(
      "channels", po::value(&channels_text),
      "channels (units) to show, e.g. 0,1,2 (default: "
      "the first 8)")("top", defaulted(&top),
                      "images per channel, strongest first")(
      "samples", defaulted(&samples),
      "search the first N test images (0: all)")("output", po::value(&output),
                                                 "PNG to write (default: units-LAYER.png)")(
      "scale", po::value(&scale)->default_value(0),
      "pixels per input pixel (default: enough for crops about 48 px wide)")(
      "eval-batch", defaulted(&batch), "images per forward pass");
  add_weights_option(options, weights);
  add_run_options(options, parsed);
  if (!parse_command_line(arguments, options,
                          "usage: convoy units --checkpoint PATH --layer NAME [--channels 0,1,2] "
                          "[--top K] [--samples N] [--data-dir DIR]",
                          nullptr)) {
    return kExitSuccess;
  }
  if (checkpoint_path.empty()) throw UsageError("--checkpoint is required (see --help)");
  if (layer.empty()) throw UsageError("--layer is required (see --help)");
  if (top < 1 || samples < 0 || batch < 1 || scale < 0) {
    throw UsageError("--top and --eval-batch must be positive, --samples and --scale >= 0");
  }
  Communicator communicator;
  if (communicator.world_size() > 1) {
    throw UsageError(
        "convoy units runs on one rank (it writes one picture); start it without mpirun");
  }
  const Checkpoint checkpoint = read_checkpoint_weights(checkpoint_path, weights);
  const RunConfig config = configuration_of(checkpoint, arguments);
  kernels::set_thread_count(config.threads > 0 ? config.threads
                                               : communicator.recommended_threads());
  TrainingData data = open_evaluation_data(config);
  auto net = load_checkpoint_net(checkpoint, config, data.geometry);
  const ModelGeometry& g = data.geometry;
  const Net::NodeSummary unit =
      spatial_layer_summary(*net, layer, {1, g.channels, g.height, g.width});
  std::vector<int64_t> channels;
  if (channels_text.empty()) {
    for (int64_t c = 0; c < std::min<int64_t>(8, unit.output_shape[1]); ++c) channels.push_back(c);
  } else {
    channels = parse_channels(channels_text);
  }
  for (int64_t channel : channels) {
    if (channel >= unit.output_shape[1]) {
      throw UsageError("--channels: " + layer + " has " + std::to_string(unit.output_shape[1]) +
                       " channels (0.." + std::to_string(unit.output_shape[1] - 1) + "), not " +
                       std::to_string(channel));
    }
  }
  if (output.empty()) output = "units-" + layer + ".png";

  const int64_t searched = samples > 0 ? std::min(samples, data.test->size()) : data.test->size();
  const int field = static_cast<int>(unit.receptive_field);
  visual::GridLayout layout;
  layout.columns = static_cast<int>(std::min<int64_t>(top, searched));
  if (scale > 0) {
    const int64_t crops = static_cast<int64_t>(channels.size()) * layout.columns;
    check_picture_scale(scale, visual::grid_size(crops, field, field, layout),
                        std::to_string(crops) + " crops of " + std::to_string(field) + "x" +
                            std::to_string(field) + " in " + std::to_string(layout.columns) +
                            " columns");
  }
  layout.scale = scale > 0 ? scale : std::max(1, 48 / field);
  visual::TopUnitActivations best(channels, layout.columns);  // one column per image kept
  for (int64_t begin = 0; begin < searched; begin += batch) {
    std::vector<int64_t> indices;
    for (int64_t i = begin; i < std::min(searched, begin + batch); ++i) indices.push_back(i);
    data::Batch images = data::load_batch(*data.test, data.eval_transform, 0, indices, 0, 0);
    net->forward(Tensor::from_plain(images.shape, images.images), Mode::eval);
    const Tensor& activation = net->activation(layer);
    best.add(activation.to_plain(), activation.shape(), indices);
  }

  std::vector<visual::Tile> tiles;
  std::printf(
      "%s: receptive field %d px, jump %lld, centre offset %.1f; %lld test images "
      "searched\n",
      layer.c_str(), field, static_cast<long long>(unit.jump), unit.centre_offset,
      static_cast<long long>(searched));
  for (size_t position = 0; position < channels.size(); ++position) {
    std::printf("channel %lld:", static_cast<long long>(channels[position]));
    for (const visual::UnitExample& example : best.top(position)) {
      const data::Batch image =
          data::load_batch(*data.test, data.eval_transform, 0, {example.sample}, 0, 0);
      const Shape chw(image.shape.begin() + 1, image.shape.end());
      tiles.push_back(visual::crop_window(
          image.images, chw, static_cast<double>(example.y * unit.jump) + unit.centre_offset,
          static_cast<double>(example.x * unit.jump) + unit.centre_offset, field));
      std::printf(
          " sample %lld (%s) at (%lld, %lld) = %.4g;", static_cast<long long>(example.sample),
          data.test->class_names()[static_cast<size_t>(image.labels[0])].c_str(),
          static_cast<long long>(example.y), static_cast<long long>(example.x), example.activation);
    }
    std::printf("\n");
  }
  const visual::RasterImage grid = visual::make_grid(tiles, layout);
  visual::write_png(grid, output);
  std::printf("wrote %s (%dx%d px: one row per channel, %d crops of %dx%d px, strongest first)\n",
              output.c_str(), grid.width(), grid.height(), layout.columns, field * layout.scale,
              field * layout.scale);
  return kExitSuccess;
}

}  // namespace convoy::launcher
