// `convoy gradcheck`: finite differences against backward for a sample of every parameter
// tensor and the input of a recipe's network at a small input size, BatchNorm in training
// mode included; a per-layer table and a non-zero exit when any layer fails.

#include <cmath>
#include <cstdio>
#include <map>
#include <random>

#include "framework/gradient_checker.hpp"
#include "framework/kernels/context.hpp"
#include "framework/layers/dropout.hpp"
#include "framework/models/model_builder.hpp"
#include "launcher/command.hpp"
#include "launcher/model_factory.hpp"
#include "launcher/option_value.hpp"
#include "launcher/usage_error.hpp"

namespace convoy::launcher {

namespace po = boost::program_options;

// The layer a tensor belongs to: its name without the last component ("layer1.0.conv1").
// Input tensors of a layer ("layer1.0.conv1.input0") belong to that layer too.
static std::string layer_of(const std::string& tensor) {
  const auto dot = tensor.rfind('.');
  return dot == std::string::npos ? tensor : tensor.substr(0, dot);
}

int run_gradcheck(const std::vector<std::string>& arguments) {
  RunConfig config;
  std::string input_text, perturb_layer;
  int64_t batch = 4, samples = 6, classes = 0;
  GradientCheckOptions check;
  check.tolerance = 1e-2;
  // ReLU and max-pooling have kinks at 0 (after a ReLU many inputs are exactly 0): skip input
  // elements within the step of it.
  po::options_description options("Gradient check");
  options.add_options()(
      "input", po::value(&input_text),
      "input shape CxHxW (default: the smallest the network takes, at most 32x32)")(
      "batch", defaulted(&batch), "batch size (BatchNorm needs >= 2)")(
      "samples", defaulted(&samples), "elements checked per tensor")(
      "classes", po::value(&classes)->default_value(0), "classes (default: the dataset's)")(
      "step", defaulted(&check.step), "finite-difference step")(
      "tolerance", defaulted(&check.tolerance),
      "max |analytic - numeric| / max(|analytic|, |numeric|, 1)")(
      "perturb-layer", po::value(&perturb_layer),
      "corrupt this layer's gradients on purpose (to see the check fail)");
  add_run_options(options, config);
  if (!parse_command_line(arguments, options,
                          "usage: convoy gradcheck --recipe NAME [--input CxHxW] [--batch B]",
                          &config)) {
    return kExitSuccess;
  }
  kernels::set_thread_count(config.threads > 0 ? config.threads : 1);
  ModelGeometry geometry = model_geometry(config);
  if (input_text.empty()) {
    // Small enough to be quick, large enough for every down-sampling stage.
    const bool deep_stride = config.variant == "imagenet" || config.architecture.starts_with("vgg");
    geometry.height = geometry.width = deep_stride ? 32 : 8;
  }
  override_geometry(geometry, input_text, classes);
  check.max_elements_per_tensor = samples;
  check.kink = 0.0;
  check.kink_range = 2 * check.step;
  // ReLUs fused into convolutions, BatchNorms and Adds put kinks inside those layers.
  check.skip_kinks_inside = true;

  ModelConfig model = model_config(config, geometry);
  model.in_place_adds = false;  // layer-wise checks re-run each layer on its recorded inputs
  auto net = build_model(model);
  const Shape input_shape{batch, geometry.channels, geometry.height, geometry.width};
  std::vector<float> pixels(static_cast<size_t>(element_count(input_shape)));
  std::mt19937_64 generator(config.seed);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  for (auto& pixel : pixels) pixel = uniform(generator);
  const Tensor input = Tensor::from_plain(input_shape, pixels);
  GradientChecker checker(check);
  // Dropout draws a new mask per forward; finite differences need the same mask every time.
  for (auto& [name, layer] : net->layers()) {
    if (auto* dropout = dynamic_cast<Dropout*>(layer)) dropout->freeze_mask(true);
  }
  if (!perturb_layer.empty()) net->layer(perturb_layer);  // an unknown name fails here, clearly
  auto corrupt = [&](const std::string& node, Layer& layer) {
    if (node != perturb_layer) return;
    for (Parameter* parameter : layer.parameters()) {
      float* grad = parameter->grad.plain_data();
      for (int64_t i = 0; i < parameter->grad.element_count(); ++i) grad[i] = grad[i] * 1.5f + 0.1f;
    }
  };
  GradientCheckReport report = checker.check_net_layerwise(*net, input, Mode::train, corrupt);

  // One row per layer: the worst tensor of that layer.
  std::vector<std::string> order;
  std::map<std::string, GradientCheckReport::TensorResult> worst;
  for (const auto& tensor : report.tensors) {
    const std::string layer = layer_of(tensor.name);
    auto [it, inserted] = worst.try_emplace(layer, tensor);
    if (inserted) order.push_back(layer);
    auto& row = it->second;
    if (!inserted) {
      row.checked += tensor.checked;
      row.skipped_at_kinks += tensor.skipped_at_kinks;
      row.passed = row.passed && tensor.passed;
      row.max_relative_error = std::max(row.max_relative_error, tensor.max_relative_error);
    }
  }
  std::printf(
      "gradient check of %s (%s), input %lldx%lldx%lldx%lld, training mode, step %g, "
      "tolerance %g\n",
      config.architecture.c_str(), config.variant.c_str(), static_cast<long long>(batch),
      static_cast<long long>(geometry.channels), static_cast<long long>(geometry.height),
      static_cast<long long>(geometry.width), check.step, check.tolerance);
  std::printf("%-32s %8s %8s %14s %s\n", "layer", "checked", "at kink", "max rel error", "result");
  for (const auto& layer : order) {
    const auto& row = worst[layer];
    std::printf("%-32s %8lld %8lld %14.3e %s\n", layer.c_str(), static_cast<long long>(row.checked),
                static_cast<long long>(row.skipped_at_kinks), row.max_relative_error,
                row.passed ? "pass" : "FAIL");
  }
  if (!report.passed()) {
    std::string failed;
    for (const auto& layer : order) {
      if (!worst[layer].passed) failed += (failed.empty() ? "" : ", ") + layer;
    }
    std::fprintf(stderr, "convoy gradcheck: gradients do not match finite differences in: %s\n",
                 failed.c_str());
    return kExitFailure;
  }
  std::printf("all %zu layers pass\n", order.size());
  return kExitSuccess;
}

}  // namespace convoy::launcher
