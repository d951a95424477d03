// `convoy summary`: the lecture view of a CNN — per layer the output shape, parameters,
// forward FLOPs, and the receptive field and jump at that layer — and the totals.

#include <cstdio>
#include <iostream>

#include "framework/models/model_builder.hpp"
#include "launcher/command.hpp"
#include "launcher/model_factory.hpp"
#include "launcher/run_config.hpp"

namespace convoy::launcher {

int run_summary(const std::vector<std::string>& arguments) {
  RunConfig config;
  std::string input_text;
  int64_t classes = 0;
  boost::program_options::options_description options("Summary");
  options.add_options()("input", boost::program_options::value(&input_text),
                        "input shape CxHxW (default: the dataset's, after padding)")(
      "classes", boost::program_options::value(&classes)->default_value(0),
      "number of classes (default: the dataset's)");
  add_run_options(options, config);
  if (!parse_command_line(arguments, options,
                          "usage: convoy summary --recipe NAME [--input CxHxW] [options]",
                          &config)) {
    return kExitSuccess;
  }
  ModelGeometry geometry = model_geometry(config);
  override_geometry(geometry, input_text, classes);
  auto net = build_model(model_config(config, geometry));
  const Shape input{1, geometry.channels, geometry.height, geometry.width};
  auto rows = net->summarize(input);

  std::printf("%s (%s), input %s, %lld classes\n", config.architecture.c_str(),
              config.variant.c_str(), to_string(input).c_str(),
              static_cast<long long>(geometry.classes));
  std::printf("%-28s %-44s %-18s %11s %11s %6s %5s\n", "layer", "type", "output", "params",
              "MFLOPs", "RF", "jump");
  int64_t total_flops = 0;
  for (const auto& row : rows) {
    total_flops += row.forward_flops;
    std::string description =
        row.description.size() > 44 ? row.description.substr(0, 41) + "..." : row.description;
    std::printf("%-28s %-44s %-18s %11lld %11.2f %6lld %5lld\n", row.name.c_str(),
                description.c_str(), to_string(row.output_shape).c_str(),
                static_cast<long long>(row.parameter_count), row.forward_flops / 1e6,
                static_cast<long long>(row.receptive_field), static_cast<long long>(row.jump));
  }
  std::printf(
      "total: %lld parameters (%.2f MB fp32), %.2f MFLOPs (multiply-accumulates) per "
      "image forward, %zu layers\n",
      static_cast<long long>(net->parameter_count()), net->parameter_count() * 4 / 1e6,
      total_flops / 1e6, rows.size());
  return kExitSuccess;
}

}  // namespace convoy::launcher
