#pragma once
// Short helpers the model builders use to add one layer to a Net, so the builders read like
// torchvision's model definitions.

#include <random>
#include <string>

#include "framework/graph/net.hpp"

namespace convoy::blocks {

using NodeId = Net::NodeId;

NodeId conv(Net& net, const std::string& name, NodeId input, int64_t in, int64_t out,
            int64_t kernel, int64_t stride, int64_t padding, bool bias);
NodeId batch_norm(Net& net, const std::string& name, NodeId input, int64_t channels);
NodeId relu(Net& net, const std::string& name, NodeId input);
NodeId max_pool(Net& net, const std::string& name, NodeId input, int64_t kernel, int64_t stride,
                int64_t padding);
NodeId adaptive_avg_pool(Net& net, const std::string& name, NodeId input, int64_t size);
NodeId flatten(Net& net, const std::string& name, NodeId input);
NodeId linear(Net& net, const std::string& name, NodeId input, int64_t in, int64_t out);
NodeId dropout(Net& net, const std::string& name, NodeId input, double probability);
NodeId add(Net& net, const std::string& name, NodeId a, NodeId b);

// torchvision's ResNet/VGG conv init: kaiming_normal_(mode="fan_out", nonlinearity="relu").
void kaiming_normal_fan_out(Parameter& weight, std::mt19937_64& generator);
void normal(Parameter& parameter, double std, std::mt19937_64& generator);
void constant(Parameter& parameter, float value);

}  // namespace convoy::blocks
