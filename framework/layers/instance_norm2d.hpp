#pragma once
// InstanceNorm2d: normalizes each (sample, channel) plane over H x W, as torch.nn.InstanceNorm2d
// with its defaults (affine=false, no running statistics). Input (N, C, H, W); with affine,
// weight and bias (C).

#include "framework/layers/grouped_normalization_layer.hpp"

namespace convoy {

struct InstanceNorm2dOptions {
  int64_t channels = 0;
  double eps = 1e-5;
  bool affine = false;
};

class InstanceNorm2d : public GroupedNormalizationLayer {
 public:
  explicit InstanceNorm2d(const InstanceNorm2dOptions& options);
  std::string describe() const override;
  const InstanceNorm2dOptions& options() const { return options_; }

 protected:
  Shape infer_output_shape(const std::vector<Shape>& input_shapes) const override;
  kernels::GroupView group_view(const Shape& input) const override;

 private:
  InstanceNorm2dOptions options_;
};

}  // namespace convoy
