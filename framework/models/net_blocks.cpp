#include "framework/models/net_blocks.hpp"

#include <cmath>

#include "framework/layers/activation.hpp"
#include "framework/layers/adaptive_avg_pool2d.hpp"
#include "framework/layers/add.hpp"
#include "framework/layers/batch_norm2d.hpp"
#include "framework/layers/conv2d.hpp"
#include "framework/layers/dropout.hpp"
#include "framework/layers/flatten.hpp"
#include "framework/layers/linear.hpp"
#include "framework/layers/max_pool2d.hpp"

namespace convoy::blocks {

NodeId conv(Net& net, const std::string& name, NodeId input, int64_t in, int64_t out,
            int64_t kernel, int64_t stride, int64_t padding, bool bias) {
  Conv2dOptions options;
  options.in_channels = in;
  options.out_channels = out;
  options.kernel = kernel;
  options.stride = stride;
  options.padding = padding;
  options.bias = bias;
  return net.add<Conv2d>(name, options, {input});
}

NodeId batch_norm(Net& net, const std::string& name, NodeId input, int64_t channels) {
  BatchNorm2dOptions options;
  options.channels = channels;
  return net.add<BatchNorm2d>(name, options, {input});
}

NodeId relu(Net& net, const std::string& name, NodeId input) {
  return net.add<Activation>(name, convoy::relu(), {input});
}

NodeId max_pool(Net& net, const std::string& name, NodeId input, int64_t kernel, int64_t stride,
                int64_t padding) {
  MaxPool2dOptions options;
  options.kernel = kernel;
  options.stride = stride;
  options.padding = padding;
  return net.add<MaxPool2d>(name, options, {input});
}

NodeId adaptive_avg_pool(Net& net, const std::string& name, NodeId input, int64_t size) {
  AdaptiveAvgPool2dOptions options;
  options.output_h = options.output_w = size;
  return net.add<AdaptiveAvgPool2d>(name, options, {input});
}

NodeId flatten(Net& net, const std::string& name, NodeId input) {
  return net.add<Flatten>(name, FlattenOptions{}, {input});
}

NodeId linear(Net& net, const std::string& name, NodeId input, int64_t in, int64_t out) {
  return net.add<Linear>(name, LinearOptions{in, out, true}, {input});
}

NodeId dropout(Net& net, const std::string& name, NodeId input, double probability) {
  return net.add<Dropout>(name, DropoutOptions{probability, 0}, {input});
}

NodeId add(Net& net, const std::string& name, NodeId a, NodeId b) {
  return net.add<Add>(name, AddOptions{}, {a, b});
}

void kaiming_normal_fan_out(Parameter& weight, std::mt19937_64& generator) {
  // fan_out = out_channels * kernel area; gain sqrt(2) for ReLU.
  const Shape& shape = weight.value.shape();
  int64_t fan_out = shape[0];
  for (size_t i = 2; i < shape.size(); ++i) fan_out *= shape[i];
  normal(weight, std::sqrt(2.0 / static_cast<double>(fan_out)), generator);
}

void normal(Parameter& parameter, double std, std::mt19937_64& generator) {
  std::normal_distribution<float> distribution(0.0f, static_cast<float>(std));
  float* values = parameter.value.plain_data();
  for (int64_t i = 0; i < parameter.value.element_count(); ++i) values[i] = distribution(generator);
}

void constant(Parameter& parameter, float value) {
  float* values = parameter.value.plain_data();
  for (int64_t i = 0; i < parameter.value.element_count(); ++i) values[i] = value;
}

}  // namespace convoy::blocks
