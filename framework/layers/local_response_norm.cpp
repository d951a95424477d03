#include "framework/layers/local_response_norm.hpp"

#include <sstream>

namespace convoy {

LocalResponseNorm::LocalResponseNorm(const LocalResponseNormOptions& options)
    : Layer("LocalResponseNorm"), options_(options) {
  const auto& o = options_;
  if (o.size < 1 || o.size % 2 == 0) {
    // oneDNN centres an even window differently from PyTorch; rejecting beats silently differing.
    fail("size must be a positive odd number (oneDNN and PyTorch disagree on even windows), got " +
         std::to_string(o.size));
  }
  if (!(o.alpha >= 0.0f) || !(o.beta >= 0.0f) || !(o.k > 0.0f)) {
    fail("needs alpha >= 0, beta >= 0 and k > 0");
  }
}

std::string LocalResponseNorm::describe() const {
  std::ostringstream text;
  text << "LocalResponseNorm(size=" << options_.size << ", alpha=" << options_.alpha
       << ", beta=" << options_.beta << ", k=" << options_.k << ")";
  return text.str();
}

Shape LocalResponseNorm::infer_output_shape(const std::vector<Shape>& input_shapes) const {
  const Shape& input = input_shapes[0];
  if (input.size() != 4) fail("expects an (N, C, H, W) input, got " + to_string(input));
  return input;
}

void LocalResponseNorm::reshape(const std::vector<Shape>& input_shapes) {
  // The kernel also depends on the input's layout, which only forward sees: build it there.
  input_shape_ = input_shapes[0];
  kernel_.reset();
}

void LocalResponseNorm::build_kernel(const Layout& source_layout) {
  kernels::LocalResponseNormalizationConfig config;
  config.input = input_shape_;
  config.source_layout = source_layout;
  config.size = options_.size;
  config.alpha = options_.alpha;
  config.beta = options_.beta;
  config.k = options_.k;
  kernel_.emplace(config);
  output_ = Tensor(kernel_->destination_layout());
}

Tensor LocalResponseNorm::forward_impl(const std::vector<Tensor>& inputs, Mode mode) {
  input_ = inputs[0];
  if (!kernel_ || kernel_->config().source_layout != input_.layout()) {
    build_kernel(input_.layout());
  }
  kernel_->forward(input_.memory(), output_.memory());
  return output_;
}

std::vector<Tensor> LocalResponseNorm::backward_impl(const Tensor& output_grad) {
  Tensor input_grad = gradient_buffer(kernel_->source_layout());  // (N, C, H, W)
  kernel_->backward(input_.memory(), output_grad.memory(), input_grad.memory());
  return {input_grad};
}

}  // namespace convoy
