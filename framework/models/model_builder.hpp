#pragma once
// Model builders: the architectures convoy ships, with torchvision's module names so a
// checkpoint's /model group is a PyTorch state_dict for the same architecture.

#include <memory>
#include <string>
#include <vector>

#include "framework/graph/net.hpp"
#include "framework/kernels/convolution.hpp"

namespace convoy {

struct ModelConfig {
  std::string architecture = "resnet20";  // resnet18..152, resnet20..110, vgg11..19[_bn]
  // "imagenet": torchvision as is. "cifar": for inputs up to 64 px — ResNet gets a 3x3
  // stride-1 conv1 and no max-pool; VGG gets a single Linear 512 -> classes ("classifier.0").
  std::string variant = "cifar";
  int64_t in_channels = 3;
  int64_t num_classes = 10;
  double dropout = 0.5;                   // VGG imagenet classifier
  uint64_t seed = 0;                      // initial weights
  DataType compute_type = DataType::f32;  // bf16: mixed precision (Net::set_compute_type)
  bool fuse_relus = true;                 // Net::fuse_relus: same results, fewer passes
  // Net::set_in_place_adds: same results, less memory, but hidden activations are not kept.
  bool in_place_adds = true;
  // Conv2d::set_paths for every convolution: e.g. whole_map_matmul runs VGG's convolutions on
  // 2x2 maps as matmuls (faster, other rounding); with it off and Winograd and im2col never,
  // every convolution runs oneDNN's convolution primitives.
  kernels::ConvolutionPaths convolution_paths{};
};

// Builds, initializes (torchvision's init) and finalizes the network.
std::unique_ptr<Net> build_model(const ModelConfig& config);
std::vector<std::string> available_architectures();

// Per-family builders, called by build_model.
void build_resnet(Net& net, const ModelConfig& config);
void build_cifar_resnet(Net& net, const ModelConfig& config);  // resnet20/32/44/56/110
void build_vgg(Net& net, const ModelConfig& config);

}  // namespace convoy
