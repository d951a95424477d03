#include "framework/layers/linear.hpp"

#include <cmath>

namespace convoy {

Linear::Linear(const LinearOptions& options) : Layer("Linear"), options_(options) {
  if (options_.in_features < 1 || options_.out_features < 1) {
    fail("in_features and out_features must be positive");
  }
  weight_ = &add_parameter("weight", {options_.out_features, options_.in_features}, false);
  if (options_.bias) bias_ = &add_parameter("bias", {options_.out_features}, true);
}

std::string Linear::describe() const {
  return "Linear(" + std::to_string(options_.in_features) + ", " +
         std::to_string(options_.out_features) + (options_.bias ? ")" : ", bias=false)");
}

std::string Linear::implementation() const {
  return kernel_ ? kernel_->implementation() : "";
}

int64_t Linear::forward_flops(const std::vector<Shape>& input_shapes) const {
  return input_shapes[0][0] * options_.in_features * options_.out_features;
}

void Linear::reset_parameters(std::mt19937_64& generator) {
  // torch.nn.Linear: U(-1/sqrt(in), 1/sqrt(in)) for weight and bias.
  const float bound = 1.0f / std::sqrt(static_cast<float>(options_.in_features));
  std::uniform_real_distribution<float> uniform(-bound, bound);
  for (Parameter* parameter : parameters()) {
    float* values = parameter->value.plain_data();
    for (int64_t i = 0; i < parameter->value.element_count(); ++i) values[i] = uniform(generator);
  }
}

Shape Linear::infer_output_shape(const std::vector<Shape>& input_shapes) const {
  const Shape& input = input_shapes[0];
  if (input.size() != 2 || input[1] != options_.in_features) {
    fail("expects input (N, " + std::to_string(options_.in_features) + "), got " +
         to_string(input) + (input.size() == 4 ? " (add a Flatten first)" : ""));
  }
  return {input[0], options_.out_features};
}

void Linear::set_compute_type(DataType type) {
  options_.compute_type = type;
  kernel_.reset();
  if (!input_.empty()) reshape({input_.shape()});
}

void Linear::reshape(const std::vector<Shape>& input_shapes) {
  kernel_.emplace(kernels::InnerProductConfig{input_shapes[0][0], options_.in_features,
                                              options_.out_features, options_.bias,
                                              options_.compute_type});
  output_ = Tensor(kernel_->destination_layout());
}

Tensor Linear::forward_impl(const std::vector<Tensor>& inputs, Mode) {
  input_ = inputs[0];
  kernel_->forward(input_.memory(), weight_->value.memory(),
                   bias_ ? bias_->value.memory() : kernels::Memory(), output_.memory());
  return output_;
}

std::vector<Tensor> Linear::backward_impl(const Tensor& output_grad) {
  Tensor input_grad = gradient_buffer(kernel_->source_layout());  // (N, in)
  kernel_->backward_data(output_grad.memory(), weight_->value.memory(), input_grad.memory());
  kernel_->backward_weights(input_.memory(), output_grad.memory(), weight_->grad.memory(),
                            bias_ ? bias_->grad.memory() : kernels::Memory());
  return {input_grad};
}

}  // namespace convoy
