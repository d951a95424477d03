#pragma once
// Pool2d: what MaxPool2d, AvgPool2d and GlobalAvgPool2d share: a kernels::Pooling built for the
// input's shape and layout and an output reused every step.

#include <optional>

#include "framework/kernels/pooling.hpp"
#include "framework/layers/layer.hpp"

namespace convoy {

class Pool2d : public Layer {
 public:
  std::string implementation() const override;

 protected:
  using Layer::Layer;

  // Kernel, stride, padding, dilation and algorithm for an input of this shape (the source
  // layout is filled in by Pool2d).
  virtual kernels::PoolingConfig pooling_config(const Shape& input) const = 0;

  Shape infer_output_shape(const std::vector<Shape>& input_shapes) const override;
  void reshape(const std::vector<Shape>& input_shapes) override;
  Tensor forward_impl(const std::vector<Tensor>& inputs, Mode mode) override;
  std::vector<Tensor> backward_impl(const Tensor& output_grad) override;

 private:
  // Builds the kernel for the input's actual layout (pooling cannot pick its source layout).
  void build_kernel(const Layout& source_layout);

  Shape input_shape_;
  std::optional<kernels::Pooling> kernel_;
  Tensor output_;  // (N, C, H_out, W_out), in the layout the kernel chose
};

}  // namespace convoy
