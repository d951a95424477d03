#include "launcher/model_factory.hpp"

#include <sstream>

#include "framework/common/error.hpp"
#include "framework/kernels/context.hpp"
#include "launcher/usage_error.hpp"

namespace convoy::launcher {

ModelGeometry model_geometry(const RunConfig& config) {
  ModelGeometry geometry;
  const std::string& d = config.dataset;
  if (d == "fashion-mnist" || d == "mnist") {
    geometry = {1, 28, 28, 10};
  } else if (d == "cifar10") {
    geometry = {3, 32, 32, 10};
  } else if (d == "cifar100") {
    geometry = {3, 32, 32, 100};
  } else if (d == "image-folder" || d == "synthetic" || d == "hdf5") {
    geometry = {3, 224, 224, 1000};
  } else {
    throw UsageError("--dataset: unknown dataset '" + d +
                     "' (fashion-mnist, mnist, cifar10, cifar100, image-folder, hdf5, synthetic)");
  }
  if (config.random_resized_crop > 0 || config.center_crop > 0) {
    geometry.height = geometry.width =
        config.random_resized_crop > 0 ? config.random_resized_crop : config.center_crop;
  }
  if (config.pad_to > 0) {
    if (config.pad_to < geometry.height || config.pad_to < geometry.width) {
      throw UsageError("--pad-to " + std::to_string(config.pad_to) + " is smaller than the " +
                       std::to_string(geometry.height) + "x" + std::to_string(geometry.width) +
                       " images");
    }
    geometry.height = geometry.width = config.pad_to;
  }
  return geometry;
}

ModelConfig model_config(const RunConfig& config, const ModelGeometry& geometry) {
  ModelConfig model;
  model.architecture = config.architecture;
  model.variant = config.variant;
  model.in_channels = geometry.channels;
  model.num_classes = geometry.classes;
  model.seed = config.seed;
  model.compute_type = compute_type_of(config.precision);
  model.fuse_relus = config.fuse_relu;
  auto& paths = model.convolution_paths;
  paths.whole_map_matmul = config.whole_map_matmul;
  paths.im2col_matmul = lowering_choice_of("--im2col-matmul", config.im2col_matmul);
  paths.winograd = lowering_choice_of("--winograd", config.winograd);
  paths.winograd_tile = winograd_tile_of(config.winograd_tile);
  paths.winograd_tile_groups = lowering_choice_of("--winograd-groups", config.winograd_groups);
  // Health statistics read every hidden activation, which in-place sums overwrite.
  model.in_place_adds = config.in_place_add && config.health_every == 0;
  return model;
}

int64_t winograd_tile_of(const std::string& block) {
  if (block == "auto") return 0;
  if (block == "2") return 2;
  if (block == "4") return 4;
  throw UsageError("--winograd-tile " + block + ": expected auto, 2 or 4");
}

kernels::LoweringChoice lowering_choice_of(const std::string& option, const std::string& when) {
  if (when == "auto") return kernels::LoweringChoice::automatic;
  if (when == "always") return kernels::LoweringChoice::always;
  if (when == "never") return kernels::LoweringChoice::never;
  throw UsageError(option + " " + when + ": expected auto, always or never");
}

DataType compute_type_of(const std::string& precision) {
  if (precision == "fp32") return DataType::f32;
  if (precision != "bf16") {
    throw UsageError("--precision " + precision + ": expected fp32 or bf16");
  }
  // oneDNN would fall back to slow emulation (or refuse) without native bf16 instructions.
  if (!kernels::cpu_has_bf16()) {
    throw ConfigError(std::string("--precision bf16 needs a CPU with AVX512-BF16 or AMX; this one "
                                  "has ") +
                      kernels::cpu_isa_name() + " (use --precision fp32)");
  }
  return DataType::bf16;
}

Shape parse_shape(const std::string& text, const std::string& option) {
  Shape shape;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, 'x')) {
    try {
      size_t used = 0;
      const long long value = std::stoll(item, &used);
      if (used != item.size() || value < 1) throw std::invalid_argument(item);
      shape.push_back(value);
    } catch (const std::exception&) {
      throw UsageError(option + ": '" + text + "' is not a shape like 3x32x32");
    }
  }
  if (shape.size() != 3) throw UsageError(option + ": '" + text + "' is not a shape like 3x32x32");
  return shape;
}

void override_geometry(ModelGeometry& geometry, const std::string& input_text, int64_t classes) {
  if (!input_text.empty()) {
    const Shape input = parse_shape(input_text, "--input");
    geometry.channels = input[0];
    geometry.height = input[1];
    geometry.width = input[2];
  }
  if (classes < 0) {
    throw UsageError("--classes must be at least 1 (or 0 for the dataset's), got " +
                     std::to_string(classes));
  }
  if (classes > 0) geometry.classes = classes;
}

}  // namespace convoy::launcher
