#pragma once
// AvgPool2d: 2-D average pooling with stride and padding, as torch.nn.AvgPool2d in floor mode.
// count_include_pad chooses whether padded zeros count in each window's divisor.

#include "framework/layers/pool2d.hpp"

namespace convoy {

struct AvgPool2dOptions {
  int64_t kernel = 1;
  int64_t stride = 0;             // 0 means stride = kernel (PyTorch's default)
  int64_t padding = 0;            // at most kernel / 2, as PyTorch requires
  bool count_include_pad = true;  // PyTorch's default
};

class AvgPool2d : public Pool2d {
 public:
  explicit AvgPool2d(const AvgPool2dOptions& options);

  std::string describe() const override;
  Window window() const override;
  const AvgPool2dOptions& options() const { return options_; }

 protected:
  kernels::PoolingConfig pooling_config(const Shape& input) const override;

 private:
  AvgPool2dOptions options_;
};

}  // namespace convoy
