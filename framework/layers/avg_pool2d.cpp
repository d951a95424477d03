#include "framework/layers/avg_pool2d.hpp"

namespace convoy {

AvgPool2d::AvgPool2d(const AvgPool2dOptions& options) : Pool2d("AvgPool2d"), options_(options) {
  auto& o = options_;
  if (o.stride == 0) o.stride = o.kernel;
  if (o.kernel < 1 || o.stride < 1) fail("kernel and stride must be at least 1");
  // PyTorch's rule; it also keeps every window inside H + padding, so the include-padding
  // divisor is always kernel^2.
  if (o.padding < 0 || o.padding > o.kernel / 2) {
    fail("padding must be between 0 and kernel / 2 = " + std::to_string(o.kernel / 2) + ", got " +
         std::to_string(o.padding));
  }
}

std::string AvgPool2d::describe() const {
  const auto& o = options_;
  std::string text = "AvgPool2d(kernel=" + std::to_string(o.kernel) +
                     ", stride=" + std::to_string(o.stride) +
                     ", padding=" + std::to_string(o.padding);
  if (!o.count_include_pad) text += ", count_include_pad=false";
  return text + ")";
}

Layer::Window AvgPool2d::window() const {
  return {options_.kernel, options_.stride, options_.padding, 1};
}

kernels::PoolingConfig AvgPool2d::pooling_config(const Shape& input) const {
  const auto& o = options_;
  kernels::PoolingConfig config;
  config.input = input;
  config.algorithm = o.count_include_pad ? kernels::PoolingAlgorithm::average_include_padding
                                         : kernels::PoolingAlgorithm::average_exclude_padding;
  config.kernel_h = config.kernel_w = o.kernel;
  config.stride_h = config.stride_w = o.stride;
  config.padding_h = config.padding_w = o.padding;
  return config;
}

}  // namespace convoy
