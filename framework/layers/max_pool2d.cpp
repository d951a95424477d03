#include "framework/layers/max_pool2d.hpp"

namespace convoy {

MaxPool2d::MaxPool2d(const MaxPool2dOptions& options) : Pool2d("MaxPool2d"), options_(options) {
  auto& o = options_;
  if (o.stride == 0) o.stride = o.kernel;
  if (o.kernel < 1 || o.stride < 1 || o.dilation < 1) {
    fail("kernel, stride and dilation must be at least 1");
  }
  // PyTorch's rule: a window may not start or end in padding only.
  if (o.padding < 0 || o.padding > o.kernel / 2) {
    fail("padding must be between 0 and kernel / 2 = " + std::to_string(o.kernel / 2) + ", got " +
         std::to_string(o.padding));
  }
}

std::string MaxPool2d::describe() const {
  const auto& o = options_;
  std::string text = "MaxPool2d(kernel=" + std::to_string(o.kernel) +
                     ", stride=" + std::to_string(o.stride) +
                     ", padding=" + std::to_string(o.padding);
  if (o.dilation != 1) text += ", dilation=" + std::to_string(o.dilation);
  return text + ")";
}

Layer::Window MaxPool2d::window() const {
  return {options_.kernel, options_.stride, options_.padding, options_.dilation};
}

kernels::PoolingConfig MaxPool2d::pooling_config(const Shape& input) const {
  const auto& o = options_;
  kernels::PoolingConfig config;
  config.input = input;
  config.algorithm = kernels::PoolingAlgorithm::max;
  config.kernel_h = config.kernel_w = o.kernel;
  config.stride_h = config.stride_w = o.stride;
  config.padding_h = config.padding_w = o.padding;
  config.dilation_h = config.dilation_w = o.dilation;
  return config;
}

}  // namespace convoy
