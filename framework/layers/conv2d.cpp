#include "framework/layers/conv2d.hpp"

#include <cmath>

#include "framework/common/error.hpp"

namespace convoy {

Conv2d::Conv2d(const Conv2dOptions& options) : Layer("Conv2d"), options_(options) {
  const auto& o = options_;
  if (o.in_channels < 1 || o.out_channels < 1) fail("channel counts must be positive");
  if (o.kernel < 1 || o.stride < 1 || o.dilation < 1) {
    fail("kernel, stride and dilation must be at least 1");
  }
  if (o.padding < 0) fail("padding must not be negative, got " + std::to_string(o.padding));
  if (o.groups < 1 || o.in_channels % o.groups != 0 || o.out_channels % o.groups != 0) {
    fail("groups=" + std::to_string(o.groups) + " must divide in_channels=" +
         std::to_string(o.in_channels) + " and out_channels=" + std::to_string(o.out_channels));
  }
  weight_ = &add_parameter("weight", {o.out_channels, o.in_channels / o.groups, o.kernel, o.kernel},
                           false);
  if (o.bias) bias_ = &add_parameter("bias", {o.out_channels}, true);
}

std::string Conv2d::describe() const {
  const auto& o = options_;
  std::string text = "Conv2d(" + std::to_string(o.in_channels) + ", " +
                     std::to_string(o.out_channels) + ", kernel=" + std::to_string(o.kernel) +
                     ", stride=" + std::to_string(o.stride) +
                     ", padding=" + std::to_string(o.padding);
  if (o.dilation != 1) text += ", dilation=" + std::to_string(o.dilation);
  if (o.groups != 1) text += ", groups=" + std::to_string(o.groups);
  if (!o.bias) text += ", bias=false";
  return text + ")";
}

Layer::Window Conv2d::window() const {
  return {options_.kernel, options_.stride, options_.padding, options_.dilation};
}

void Conv2d::set_fuse_relu(bool fuse) {
  options_.fuse_relu = fuse;
  rebuild_kernel();
}

void Conv2d::set_compute_type(DataType type) {
  options_.compute_type = type;
  rebuild_kernel();
}

void Conv2d::set_paths(const kernels::ConvolutionPaths& paths) {
  options_.paths = paths;
  rebuild_kernel();
}

std::string Conv2d::implementation() const { return kernel_ ? kernel_->implementation() : ""; }

// The kernel is built for one set of options; a shape seen already gets a new one at once.
void Conv2d::rebuild_kernel() {
  kernel_.reset();
  if (!input_.empty()) reshape({input_.shape()});
}

void Conv2d::reset_parameters(std::mt19937_64& generator) {
  // torch.nn.Conv2d default: kaiming_uniform(a=sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
  const auto& o = options_;
  const double fan_in = static_cast<double>(o.in_channels / o.groups * o.kernel * o.kernel);
  std::uniform_real_distribution<float> uniform(-1.0f / std::sqrt(fan_in),
                                                1.0f / std::sqrt(fan_in));
  for (auto* parameter : parameters()) {
    float* values = parameter->value.plain_data();
    for (int64_t i = 0; i < parameter->value.element_count(); ++i) values[i] = uniform(generator);
  }
}

kernels::ConvolutionConfig Conv2d::kernel_config(const Shape& input) const {
  const auto& o = options_;
  kernels::ConvolutionConfig config;
  config.input = input;
  config.out_channels = o.out_channels;
  config.kernel_h = config.kernel_w = o.kernel;
  config.stride_h = config.stride_w = o.stride;
  config.padding_h = config.padding_w = o.padding;
  config.dilation_h = config.dilation_w = o.dilation;
  config.groups = o.groups;
  config.bias = o.bias;
  config.fuse_relu = o.fuse_relu;
  config.compute_type = o.compute_type;
  config.paths = o.paths;
  return config;
}

Shape Conv2d::infer_output_shape(const std::vector<Shape>& input_shapes) const {
  const Shape& input = input_shapes[0];
  if (input.size() != 4 || input[1] != options_.in_channels) {
    fail("expects input (N, " + std::to_string(options_.in_channels) + ", H, W), got " +
         to_string(input));
  }
  Shape output = kernel_config(input).output_shape();
  if (output[2] < 1 || output[3] < 1) {
    fail("input " + to_string(input) + " is smaller than the dilated kernel; output would be " +
         to_string(output));
  }
  return output;
}

int64_t Conv2d::forward_flops(const std::vector<Shape>& input_shapes) const {
  Shape output = infer_output_shape(input_shapes);
  const auto& o = options_;
  return element_count(output) * (o.in_channels / o.groups) * o.kernel * o.kernel;
}

void Conv2d::reshape(const std::vector<Shape>& input_shapes) {
  kernel_.emplace(kernel_config(input_shapes[0]));
  output_ = Tensor(kernel_->destination_layout());
}

Tensor Conv2d::forward_impl(const std::vector<Tensor>& inputs, Mode mode) {
  input_ = inputs[0];
  kernel_->forward(input_.memory(), weight_->value.memory(),
                   bias_ ? bias_->value.memory() : kernels::Memory(), output_.memory());
  return output_;
}

std::vector<Tensor> Conv2d::backward_impl(const Tensor& output_grad) {
  Tensor input_grad;
  if (input_gradient_needed()) {
    input_grad = gradient_buffer(kernel_->source_layout());  // (N, C, H, W)
    kernel_->backward_data(output_grad.memory(), weight_->value.memory(), input_grad.memory(),
                           output_.memory());
  }
  kernel_->backward_weights(input_.memory(), output_grad.memory(), weight_->grad.memory(),
                            bias_ ? bias_->grad.memory() : kernels::Memory(), output_.memory());
  return {input_grad};
}

}  // namespace convoy
