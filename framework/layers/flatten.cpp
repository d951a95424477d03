#include "framework/layers/flatten.hpp"

namespace convoy {

Shape Flatten::infer_output_shape(const std::vector<Shape>& input_shapes) const {
  const Shape& input = input_shapes[0];
  if (input.size() < 2) fail("expects at least (N, features), got " + to_string(input));
  return {input[0], element_count(input) / input[0]};
}

void Flatten::reshape(const std::vector<Shape>& input_shapes) {
  input_shape_ = input_shapes[0];
  output_ = Tensor::zeros(infer_output_shape(input_shapes));
}

Tensor Flatten::forward_impl(const std::vector<Tensor>& inputs, Mode) {
  // Reordering into a plain NCHW view of the output buffer is the flatten itself.
  kernels::reorder(inputs[0].memory(),
                   kernels::Memory(Layout::plain(input_shape_), output_.memory().data()));
  return output_;
}

std::vector<Tensor> Flatten::backward_impl(const Tensor& output_grad) {
  Tensor input_grad = gradient_buffer(Layout::plain(input_shape_));  // (N, C, H, W)
  kernels::reorder(output_grad.memory(),
                   kernels::Memory(Layout::plain(output_.shape()), input_grad.memory().data()));
  return {input_grad};
}

}  // namespace convoy
