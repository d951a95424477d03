#include "framework/layers/pool2d.hpp"

namespace convoy {

std::string Pool2d::implementation() const {
  return kernel_ ? kernel_->implementation() : "";
}

Shape Pool2d::infer_output_shape(const std::vector<Shape>& input_shapes) const {
  const Shape& input = input_shapes[0];
  if (input.size() != 4) fail("expects an (N, C, H, W) input, got " + to_string(input));
  const auto config = pooling_config(input);
  Shape output = config.output_shape();
  if (output[2] < 1 || output[3] < 1) {
    fail("input " + to_string(input) + " is smaller than the " + std::to_string(config.kernel_h) +
         "x" + std::to_string(config.kernel_w) + " window; output would be " + to_string(output));
  }
  return output;
}

void Pool2d::reshape(const std::vector<Shape>& input_shapes) {
  // The kernel also depends on the input's layout, which only forward sees: build it there.
  input_shape_ = input_shapes[0];
  kernel_.reset();
}

void Pool2d::build_kernel(const Layout& source_layout) {
  auto config = pooling_config(input_shape_);
  config.source_layout = source_layout;
  kernel_.emplace(config);
  output_ = Tensor(kernel_->destination_layout());
}

Tensor Pool2d::forward_impl(const std::vector<Tensor>& inputs, Mode mode) {
  const Tensor& input = inputs[0];
  // Rebuilt only when the producer's layout changes, i.e. once in a fixed network.
  if (!kernel_ || kernel_->config().source_layout != input.layout()) build_kernel(input.layout());
  kernel_->forward(input.memory(), output_.memory());
  return output_;
}

std::vector<Tensor> Pool2d::backward_impl(const Tensor& output_grad) {
  Tensor input_grad = gradient_buffer(kernel_->source_layout());  // (N, C, H, W), input's layout
  kernel_->backward(output_grad.memory(), input_grad.memory());
  return {input_grad};
}

}  // namespace convoy
