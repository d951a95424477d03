#pragma once
// GroupedNormalizationLayer: base of GroupNorm, InstanceNorm2d and LayerNorm, the layers that
// normalize each sample over runs of its own values. No batch statistics are involved, so
// train and eval compute the same thing and there are no running buffers.

#include <optional>

#include "framework/kernels/group_normalization.hpp"
#include "framework/layers/layer.hpp"

namespace convoy {

class GroupedNormalizationLayer : public Layer {
 public:
  Parameter* weight() { return weight_; }
  Parameter* bias() { return bias_; }
  int64_t forward_flops(const std::vector<Shape>& input_shapes) const override;
  // weight = 1, bias = 0 (torch's reset_parameters for all three layers).
  void reset_parameters(std::mt19937_64& generator) override;

 protected:
  // affine_shape: shape of weight and bias, or empty for no affine transform.
  GroupedNormalizationLayer(std::string type, double eps, const Shape& affine_shape);

  // How an input of this (validated) shape splits into normalized rows.
  virtual kernels::GroupView group_view(const Shape& input) const = 0;

  void reshape(const std::vector<Shape>& input_shapes) override;
  Tensor forward_impl(const std::vector<Tensor>& inputs, Mode mode) override;
  std::vector<Tensor> backward_impl(const Tensor& output_grad) override;

  double eps_;

 private:
  Parameter* weight_ = nullptr;
  Parameter* bias_ = nullptr;
  std::optional<kernels::GroupNormalization> kernel_;
  Tensor input_;        // plain, saved by forward for backward
  Tensor output_;       // plain
  Tensor plain_input_;  // conversion of a blocked input
};

}  // namespace convoy
