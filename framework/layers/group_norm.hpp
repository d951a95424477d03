#pragma once
// GroupNorm: normalizes each sample over groups of channels (and all spatial positions), then
// applies a per-channel affine transform, as torch.nn.GroupNorm. Input (N, C, *), weight and
// bias (C).

#include "framework/layers/grouped_normalization_layer.hpp"

namespace convoy {

struct GroupNormOptions {
  int64_t groups = 1;
  int64_t channels = 0;
  double eps = 1e-5;
  bool affine = true;
};

class GroupNorm : public GroupedNormalizationLayer {
 public:
  explicit GroupNorm(const GroupNormOptions& options);
  std::string describe() const override;
  const GroupNormOptions& options() const { return options_; }

 protected:
  Shape infer_output_shape(const std::vector<Shape>& input_shapes) const override;
  kernels::GroupView group_view(const Shape& input) const override;

 private:
  GroupNormOptions options_;
};

}  // namespace convoy
