#include "framework/layers/global_avg_pool2d.hpp"

namespace convoy {

kernels::PoolingConfig GlobalAvgPool2d::pooling_config(const Shape& input) const {
  kernels::PoolingConfig config;
  config.input = input;
  // No padding, so including or excluding it is the same; exclude is the cheaper algorithm.
  config.algorithm = kernels::PoolingAlgorithm::average_exclude_padding;
  config.kernel_h = config.stride_h = input.at(2);
  config.kernel_w = config.stride_w = input.at(3);
  return config;
}

}  // namespace convoy
