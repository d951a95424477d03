#pragma once
// Flatten: (N, C, H, W) -> (N, C*H*W) in PyTorch's order (plain NCHW), so a Linear after it
// takes PyTorch's weights unchanged.

#include "framework/layers/layer.hpp"

namespace convoy {

struct FlattenOptions {};

class Flatten : public Layer {
 public:
  explicit Flatten(const FlattenOptions& = {}) : Layer("Flatten") {}

 protected:
  Shape infer_output_shape(const std::vector<Shape>& input_shapes) const override;
  void reshape(const std::vector<Shape>& input_shapes) override;
  Tensor forward_impl(const std::vector<Tensor>& inputs, Mode mode) override;
  std::vector<Tensor> backward_impl(const Tensor& output_grad) override;

 private:
  Shape input_shape_;
  Tensor output_;  // (N, C*H*W) plain
};

}  // namespace convoy
