#pragma once
// LayerNorm: normalizes each sample over its trailing `normalized_shape` dimensions, with an
// element-wise affine transform of that shape, as torch.nn.LayerNorm. For images
// normalized_shape = (C, H, W); for features (N, F), normalized_shape = (F).

#include "framework/layers/grouped_normalization_layer.hpp"

namespace convoy {

struct LayerNormOptions {
  Shape normalized_shape;
  double eps = 1e-5;
  bool elementwise_affine = true;
};

class LayerNorm : public GroupedNormalizationLayer {
 public:
  explicit LayerNorm(const LayerNormOptions& options);
  std::string describe() const override;
  const LayerNormOptions& options() const { return options_; }

 protected:
  Shape infer_output_shape(const std::vector<Shape>& input_shapes) const override;
  kernels::GroupView group_view(const Shape& input) const override;

 private:
  LayerNormOptions options_;
};

}  // namespace convoy
