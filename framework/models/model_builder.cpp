#include "framework/models/model_builder.hpp"

#include <random>

#include "framework/common/error.hpp"
#include "framework/layers/conv2d.hpp"
#include "framework/models/net_blocks.hpp"

namespace convoy {

std::vector<std::string> available_architectures() {
  return {"resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnet20",
          "resnet32", "resnet44", "resnet56", "resnet110", "vgg11",     "vgg11_bn",
          "vgg13",    "vgg13_bn", "vgg16",    "vgg16_bn",  "vgg19",     "vgg19_bn"};
}

// torchvision's initialization: ResNet and VGG draw conv weights from kaiming_normal
// (fan_out, relu); VGG also zeroes conv biases and draws Linear weights from N(0, 0.01).
// BatchNorm starts at weight 1, bias 0 and ResNet's fc keeps nn.Linear's default.
static void initialize(Net& net, const ModelConfig& config) {
  net.reset_parameters(config.seed);
  std::mt19937_64 generator(config.seed ^ 0x9E3779B97F4A7C15ull);
  const bool vgg = config.architecture.starts_with("vgg");
  for (auto& [name, layer] : net.layers()) {
    for (Parameter* parameter : layer->parameters()) {
      if (layer->type() == "Conv2d") {
        if (parameter->name == "weight") blocks::kaiming_normal_fan_out(*parameter, generator);
        if (parameter->name == "bias") blocks::constant(*parameter, 0.0f);
      } else if (vgg && layer->type() == "Linear") {
        if (parameter->name == "weight") blocks::normal(*parameter, 0.01, generator);
        if (parameter->name == "bias") blocks::constant(*parameter, 0.0f);
      }
    }
  }
}

std::unique_ptr<Net> build_model(const ModelConfig& config) {
  if (config.variant != "cifar" && config.variant != "imagenet") {
    throw ConfigError("model variant must be 'cifar' or 'imagenet', got '" + config.variant + "'");
  }
  if (config.in_channels < 1 || config.num_classes < 1) {
    throw ConfigError("model needs in_channels >= 1 and num_classes >= 1");
  }
  auto net = std::make_unique<Net>();
  const std::string& a = config.architecture;
  if (a == "resnet20" || a == "resnet32" || a == "resnet44" || a == "resnet56" ||
      a == "resnet110") {
    build_cifar_resnet(*net, config);
  } else if (a.starts_with("resnet")) {
    if (a != "resnet18" && a != "resnet34" && a != "resnet50" && a != "resnet101" &&
        a != "resnet152") {
      throw ConfigError("unknown architecture '" + a + "'");
    }
    build_resnet(*net, config);
  } else if (a.starts_with("vgg")) {
    bool known = false;
    for (const auto& name : available_architectures()) known = known || name == a;
    if (!known) throw ConfigError("unknown architecture '" + a + "'");
    build_vgg(*net, config);
  } else {
    std::string names;
    for (const auto& name : available_architectures()) names += " " + name;
    throw ConfigError("unknown architecture '" + a + "'; available:" + names);
  }
  net->finalize();
  initialize(*net, config);
  if (config.fuse_relus) net->fuse_relus();
  // After fusion: an output that now carries a fused ReLU is read by its backward.
  if (config.in_place_adds) net->set_in_place_adds(true);
  if (config.compute_type != DataType::f32) net->set_compute_type(config.compute_type);
  for (const auto& [name, layer] : net->layers()) {
    auto* conv = dynamic_cast<Conv2d*>(layer);
    if (conv == nullptr) continue;
    if (config.convolution_paths != conv->options().paths) {
      conv->set_paths(config.convolution_paths);
    }
  }
  return net;
}

}  // namespace convoy
