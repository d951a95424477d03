#pragma once
// MaxPool2d: 2-D max pooling with stride, padding and dilation, as torch.nn.MaxPool2d in floor
// mode (ceil_mode=False). Padded positions never win the max.

#include "framework/layers/pool2d.hpp"

namespace convoy {

struct MaxPool2dOptions {
  int64_t kernel = 1;
  int64_t stride = 0;   // 0 means stride = kernel (PyTorch's default)
  int64_t padding = 0;  // at most kernel / 2, as PyTorch requires
  int64_t dilation = 1;
};

class MaxPool2d : public Pool2d {
 public:
  explicit MaxPool2d(const MaxPool2dOptions& options);

  std::string describe() const override;
  Window window() const override;
  const MaxPool2dOptions& options() const { return options_; }

 protected:
  kernels::PoolingConfig pooling_config(const Shape& input) const override;

 private:
  MaxPool2dOptions options_;
};

}  // namespace convoy
