#include "framework/layers/activation.hpp"

#include <cstdio>

namespace convoy {

Activation::Activation(const ActivationOptions& options) : Layer("Activation"), options_(options) {
  if (options_.kind == ActivationKind::clip && options_.alpha > options_.beta) {
    fail("clip needs alpha (lower bound) <= beta (upper bound)");
  }
}

void Activation::set_fused_into_input(bool fused) {
  fused_into_input_ = fused;
  kernel_.reset();
  input_ = output_ = Tensor();
}

std::string Activation::describe() const {
  if (fused_into_input_) return "ReLU (fused into the previous layer)";
  char number[32];
  auto value = [&](float v) {
    std::snprintf(number, sizeof number, "%g", v);
    return std::string(number);
  };
  switch (options_.kind) {
    case ActivationKind::relu:
      return options_.alpha == 0.0f ? "ReLU" : "LeakyReLU(" + value(options_.alpha) + ")";
    case ActivationKind::elu:
      return "ELU(" + value(options_.alpha) + ")";
    case ActivationKind::tanh:
      return "Tanh";
    case ActivationKind::logistic:
      return "Sigmoid";
    case ActivationKind::gelu_erf:
      return "GELU";
    case ActivationKind::swish:
      return "Swish(" + value(options_.alpha) + ")";
    case ActivationKind::hardswish:
      return "Hardswish";
    case ActivationKind::abs:
      return "Abs";
    case ActivationKind::square:
      return "Square";
    case ActivationKind::clip:
      return "Clip(" + value(options_.alpha) + ", " + value(options_.beta) + ")";
  }
  return "Activation";
}

int64_t Activation::forward_flops(const std::vector<Shape>& input_shapes) const {
  return fused_into_input_ ? 0 : element_count(input_shapes[0]);
}

Shape Activation::infer_output_shape(const std::vector<Shape>& input_shapes) const {
  return input_shapes[0];
}

void Activation::reshape(const std::vector<Shape>&) {
  // The kernel follows the input's layout, which only forward sees.
  kernel_.reset();
}

Tensor Activation::forward_impl(const std::vector<Tensor>& inputs, Mode mode) {
  const Tensor& input = inputs[0];
  if (fused_into_input_) return input;
  if (!kernel_ || kernel_->config().source != input.layout()) {
    kernel_.emplace(
        kernels::EltwiseConfig{input.layout(), options_.kind, options_.alpha, options_.beta});
    output_ = Tensor(input.layout());
  }
  kernel_->forward(input.memory(), output_.memory());
  input_ = kernel_->backward_uses_output() ? Tensor() : input;
  return output_;
}

std::vector<Tensor> Activation::backward_impl(const Tensor& output_grad) {
  // The previous layer's backward masks the gradient with its own (relu'd) output.
  if (fused_into_input_) return {output_grad};
  const Tensor& saved = kernel_->backward_uses_output() ? output_ : input_;
  Tensor input_grad = gradient_buffer(saved.layout());  // the input's dims and layout
  kernel_->backward(output_grad.memory(), saved.memory(), input_grad.memory());
  return {input_grad};
}

}  // namespace convoy
