#pragma once
// GlobalAvgPool2d: the mean over H and W of each channel, (N, C, H, W) -> (N, C, 1, 1), as
// torch.nn.AdaptiveAvgPool2d(1) at the end of ResNet.

#include "framework/layers/pool2d.hpp"

namespace convoy {

class GlobalAvgPool2d : public Pool2d {
 public:
  GlobalAvgPool2d() : Pool2d("GlobalAvgPool2d") {}

  std::string describe() const override { return "GlobalAvgPool2d()"; }
  // The window is the whole input, so it is known only after the first forward (before it:
  // the identity window).
  Window window() const override;

 protected:
  kernels::PoolingConfig pooling_config(const Shape& input) const override;
};

}  // namespace convoy
