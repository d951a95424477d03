#include "framework/layers/adaptive_avg_pool2d.hpp"

#include <algorithm>

namespace convoy {

AdaptiveAvgPool2d::AdaptiveAvgPool2d(const AdaptiveAvgPool2dOptions& options)
    : Layer("AdaptiveAvgPool2d"), options_(options) {
  if (options_.output_h < 1 || options_.output_w < 1) {
    fail("output size must be at least 1x1, got " + std::to_string(options_.output_h) + "x" +
         std::to_string(options_.output_w));
  }
}

std::string AdaptiveAvgPool2d::describe() const {
  return "AdaptiveAvgPool2d(" + std::to_string(options_.output_h) + ", " +
         std::to_string(options_.output_w) + ")";
}

Layer::Window AdaptiveAvgPool2d::window() const {
  if (input_shape_.empty() || options_.output_h == 1) return {};
  const int64_t size = input_shape_[2], out = options_.output_h;
  return {(size + out - 1) / out, std::max<int64_t>(size / out, 1), 0, 1};
}

Shape AdaptiveAvgPool2d::infer_output_shape(const std::vector<Shape>& input_shapes) const {
  const Shape& input = input_shapes[0];
  if (input.size() != 4) fail("expects an (N, C, H, W) input, got " + to_string(input));
  return {input[0], input[1], options_.output_h, options_.output_w};
}

void AdaptiveAvgPool2d::reshape(const std::vector<Shape>& input_shapes) {
  // The kernel also depends on the input's layout, which only forward sees: build it there.
  input_shape_ = input_shapes[0];
  kernel_.reset();
}

void AdaptiveAvgPool2d::build_kernel(const Layout& source_layout) {
  kernels::AdaptiveAveragePoolingConfig config;
  config.input = input_shape_;
  config.source_layout = source_layout;
  config.output_h = options_.output_h;
  config.output_w = options_.output_w;
  kernel_.emplace(config);
  output_ = Tensor(kernel_->destination_layout());
}

Tensor AdaptiveAvgPool2d::forward_impl(const std::vector<Tensor>& inputs, Mode mode) {
  const Tensor& input = inputs[0];
  if (!kernel_ || kernel_->config().source_layout != input.layout()) build_kernel(input.layout());
  kernel_->forward(input.memory(), output_.memory());
  return output_;
}

std::vector<Tensor> AdaptiveAvgPool2d::backward_impl(const Tensor& output_grad) {
  Tensor input_grad = gradient_buffer(kernel_->source_layout());  // (N, C, H, W)
  kernel_->backward(output_grad.memory(), input_grad.memory());
  return {input_grad};
}

}  // namespace convoy
