#pragma once
// GlobalAvgPool2d: the mean over H and W of each channel, (N, C, H, W) -> (N, C, 1, 1), as
// torch.nn.AdaptiveAvgPool2d(1) at the end of ResNet.

#include "framework/layers/pool2d.hpp"

namespace convoy {

// No options; the struct lets Net::add<GlobalAvgPool2d>(name, {}, inputs) build it like any layer.
struct GlobalAvgPool2dOptions {};

class GlobalAvgPool2d : public Pool2d {
 public:
  explicit GlobalAvgPool2d(const GlobalAvgPool2dOptions& options = {})
      : Pool2d("GlobalAvgPool2d") {}

  std::string describe() const override { return "GlobalAvgPool2d()"; }
  // The identity window, whatever the input: the window is the whole map, which only the input
  // shape tells, and Net::summarize widens a window that collapses the map to 1x1 to the whole
  // input itself (a window remembered from an earlier forward could be of another size).
  Window window() const override { return {}; }

 protected:
  kernels::PoolingConfig pooling_config(const Shape& input) const override;
};

}  // namespace convoy
