#include <map>

#include "framework/models/model_builder.hpp"
#include "framework/models/net_blocks.hpp"

namespace convoy {

// torchvision's VGG: `features.N` numbers every module (conv, [bn], relu, pool) in order,
// so the indices below are counted exactly as nn.Sequential would count them.

void build_vgg(Net& net, const ModelConfig& config) {
  constexpr int M = 0;  // max-pool marker
  static const std::map<std::string, std::vector<int>> kConfigs = {
      {"vgg11", {64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M}},
      {"vgg13", {64, 64, M, 128, 128, M, 256, 256, M, 512, 512, M, 512, 512, M}},
      {"vgg16", {64, 64, M, 128, 128, M, 256, 256, 256, M, 512, 512, 512, M, 512, 512, 512, M}},
      {"vgg19", {64,  64,  M,   128, 128, M,   256, 256, 256, 256, M,
                 512, 512, 512, 512, M,   512, 512, 512, 512, M}}};
  const bool batch_norm = config.architecture.ends_with("_bn");
  const std::string base = batch_norm
                               ? config.architecture.substr(0, config.architecture.size() - 3)
                               : config.architecture;
  Net::NodeId x = Net::kInput;
  int64_t in = config.in_channels;
  int index = 0;
  auto name = [&] { return "features." + std::to_string(index++); };
  for (int channels : kConfigs.at(base)) {
    if (channels == M) {
      x = blocks::max_pool(net, name(), x, 2, 2, 0);
      continue;
    }
    x = blocks::conv(net, name(), x, in, channels, 3, 1, 1, true);
    if (batch_norm) x = blocks::batch_norm(net, name(), x, channels);
    x = blocks::relu(net, name(), x);
    in = channels;
  }
  if (config.variant == "cifar") {
    x = blocks::adaptive_avg_pool(net, "avgpool", x, 1);
    x = blocks::flatten(net, "flatten", x);
    blocks::linear(net, "classifier.0", x, 512, config.num_classes);
    return;
  }
  x = blocks::adaptive_avg_pool(net, "avgpool", x, 7);
  x = blocks::flatten(net, "flatten", x);
  x = blocks::linear(net, "classifier.0", x, 512 * 7 * 7, 4096);
  x = blocks::relu(net, "classifier.1", x);
  x = blocks::dropout(net, "classifier.2", x, config.dropout);
  x = blocks::linear(net, "classifier.3", x, 4096, 4096);
  x = blocks::relu(net, "classifier.4", x);
  x = blocks::dropout(net, "classifier.5", x, config.dropout);
  blocks::linear(net, "classifier.6", x, 4096, config.num_classes);
}

}  // namespace convoy
