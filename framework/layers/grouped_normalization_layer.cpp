#include "framework/layers/grouped_normalization_layer.hpp"

#include "framework/plain_version.hpp"

namespace convoy {

// Inputs in a blocked layout (after a Conv2d) are converted to plain once per forward: the
// hand-written loops need each normalized run contiguous, which nChw16c breaks for
// GroupNorm/InstanceNorm. Outputs and input gradients are plain.

GroupedNormalizationLayer::GroupedNormalizationLayer(std::string type, double eps,
                                                     const Shape& affine_shape)
    : Layer(std::move(type)), eps_(eps) {
  if (!affine_shape.empty()) {
    weight_ = &add_parameter("weight", affine_shape, true);
    bias_ = &add_parameter("bias", affine_shape, true);
  }
  std::mt19937_64 unused;
  GroupedNormalizationLayer::reset_parameters(unused);
}

int64_t GroupedNormalizationLayer::forward_flops(const std::vector<Shape>& input_shapes) const {
  return element_count(infer_output_shape(input_shapes));  // one multiply-add per element
}

void GroupedNormalizationLayer::reset_parameters(std::mt19937_64&) {
  if (!weight_) return;
  float* weight = weight_->value.plain_data();
  float* bias = bias_->value.plain_data();
  for (int64_t i = 0; i < weight_->value.element_count(); ++i) {
    weight[i] = 1.0f;
    bias[i] = 0.0f;
  }
}

void GroupedNormalizationLayer::reshape(const std::vector<Shape>& input_shapes) {
  const Shape& input = input_shapes[0];
  kernel_.emplace(group_view(input), eps_);
  output_ = Tensor::zeros(input);
  plain_input_ = Tensor();
}

Tensor GroupedNormalizationLayer::forward_impl(const std::vector<Tensor>& inputs, Mode) {
  input_ = plain_version(inputs[0], plain_input_);
  kernel_->forward(input_.plain_data(), weight_ ? weight_->value.plain_data() : nullptr,
                   bias_ ? bias_->value.plain_data() : nullptr, output_.plain_data());
  return output_;
}

std::vector<Tensor> GroupedNormalizationLayer::backward_impl(const Tensor& output_grad) {
  Tensor destination_grad = plain_gradient(output_grad);
  Tensor input_grad = gradient_buffer(output_.layout());  // plain, the input's dims
  kernel_->backward(input_.plain_data(), destination_grad.plain_data(),
                    weight_ ? weight_->value.plain_data() : nullptr, input_grad.plain_data(),
                    weight_ ? weight_->grad.plain_data() : nullptr,
                    bias_ ? bias_->grad.plain_data() : nullptr);
  return {input_grad};
}

}  // namespace convoy
