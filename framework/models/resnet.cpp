#include <map>

#include "framework/common/error.hpp"
#include "framework/models/model_builder.hpp"
#include "framework/models/net_blocks.hpp"

namespace convoy {

// Why ResNet is built this way:
// 1. torchvision v1.5: in a Bottleneck the stride sits in the 3x3 conv (conv2), not the 1x1.
// 2. Node names are torchvision's module paths, so parameter names match its state_dict
//    ("layer2.0.downsample.0.weight"); parameterless nodes reuse the module's name
//    ("layer1.0.relu"), as torchvision reuses one ReLU module per block.
// 3. The CIFAR ResNets of He et al. 2016 (resnet20..110) use option-B 1x1 projection
//    shortcuts, named downsample.0/1 like torchvision's, so one converter serves both.

using blocks::NodeId;

namespace {

// The block's input, or where the block changes the shape, a strided 1x1 convolution and
// BatchNorm of it (torchvision's "downsample").
NodeId shortcut(Net& net, const std::string& name, NodeId input, int64_t in, int64_t out,
                int64_t stride) {
  if (stride == 1 && in == out) return input;
  const NodeId x = blocks::conv(net, name + ".downsample.0", input, in, out, 1, stride, 0, false);
  return blocks::batch_norm(net, name + ".downsample.1", x, out);
}

NodeId basic_block(Net& net, const std::string& name, NodeId input, int64_t in, int64_t planes,
                   int64_t stride) {
  NodeId x = blocks::conv(net, name + ".conv1", input, in, planes, 3, stride, 1, false);
  x = blocks::batch_norm(net, name + ".bn1", x, planes);
  x = blocks::relu(net, name + ".relu", x);
  x = blocks::conv(net, name + ".conv2", x, planes, planes, 3, 1, 1, false);
  x = blocks::batch_norm(net, name + ".bn2", x, planes);
  x = blocks::add(net, name + ".add", x, shortcut(net, name, input, in, planes, stride));
  return blocks::relu(net, name + ".relu", x);
}

NodeId bottleneck(Net& net, const std::string& name, NodeId input, int64_t in, int64_t planes,
                  int64_t stride) {
  const int64_t out = planes * 4;
  NodeId x = blocks::conv(net, name + ".conv1", input, in, planes, 1, 1, 0, false);
  x = blocks::batch_norm(net, name + ".bn1", x, planes);
  x = blocks::relu(net, name + ".relu", x);
  x = blocks::conv(net, name + ".conv2", x, planes, planes, 3, stride, 1, false);
  x = blocks::batch_norm(net, name + ".bn2", x, planes);
  x = blocks::relu(net, name + ".relu", x);
  x = blocks::conv(net, name + ".conv3", x, planes, out, 1, 1, 0, false);
  x = blocks::batch_norm(net, name + ".bn3", x, out);
  x = blocks::add(net, name + ".add", x, shortcut(net, name, input, in, out, stride));
  return blocks::relu(net, name + ".relu", x);
}

NodeId classifier_head(Net& net, NodeId x, int64_t features, int64_t classes) {
  x = blocks::adaptive_avg_pool(net, "avgpool", x, 1);
  x = blocks::flatten(net, "flatten", x);
  return blocks::linear(net, "fc", x, features, classes);
}

}  // namespace

void build_resnet(Net& net, const ModelConfig& config) {
  static const std::map<std::string, std::pair<bool, std::vector<int>>> kStages = {
      {"resnet18", {false, {2, 2, 2, 2}}},
      {"resnet34", {false, {3, 4, 6, 3}}},
      {"resnet50", {true, {3, 4, 6, 3}}},
      {"resnet101", {true, {3, 4, 23, 3}}},
      {"resnet152", {true, {3, 8, 36, 3}}}};
  const auto& [use_bottleneck, stages] = kStages.at(config.architecture);
  const bool cifar = config.variant == "cifar";
  NodeId x = cifar
                 ? blocks::conv(net, "conv1", Net::kInput, config.in_channels, 64, 3, 1, 1, false)
                 : blocks::conv(net, "conv1", Net::kInput, config.in_channels, 64, 7, 2, 3, false);
  x = blocks::batch_norm(net, "bn1", x, 64);
  x = blocks::relu(net, "relu", x);
  if (!cifar) x = blocks::max_pool(net, "maxpool", x, 3, 2, 1);
  int64_t in = 64;
  for (size_t stage = 0; stage < stages.size(); ++stage) {
    const int64_t planes = int64_t{64} << stage;
    for (int block = 0; block < stages[stage]; ++block) {
      const std::string name = "layer" + std::to_string(stage + 1) + "." + std::to_string(block);
      const int64_t stride = (stage > 0 && block == 0) ? 2 : 1;
      x = use_bottleneck ? bottleneck(net, name, x, in, planes, stride)
                         : basic_block(net, name, x, in, planes, stride);
      in = use_bottleneck ? planes * 4 : planes;
    }
  }
  classifier_head(net, x, in, config.num_classes);
}

void build_cifar_resnet(Net& net, const ModelConfig& config) {
  const int depth = std::stoi(config.architecture.substr(6));
  if ((depth - 2) % 6 != 0) {
    throw ConfigError("CIFAR ResNet depth must be 6n+2, got " + config.architecture);
  }
  const int blocks_per_stage = (depth - 2) / 6;
  NodeId x = blocks::conv(net, "conv1", Net::kInput, config.in_channels, 16, 3, 1, 1, false);
  x = blocks::batch_norm(net, "bn1", x, 16);
  x = blocks::relu(net, "relu", x);
  int64_t in = 16;
  for (int stage = 0; stage < 3; ++stage) {
    const int64_t planes = int64_t{16} << stage;
    for (int block = 0; block < blocks_per_stage; ++block) {
      const std::string name = "layer" + std::to_string(stage + 1) + "." + std::to_string(block);
      x = basic_block(net, name, x, in, planes, (stage > 0 && block == 0) ? 2 : 1);
      in = planes;
    }
  }
  classifier_head(net, x, in, config.num_classes);
}

}  // namespace convoy
