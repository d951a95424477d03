#include "framework/layers/batch_norm2d.hpp"

#include <cmath>
#include <cstdio>

#include "framework/common/error.hpp"
#include "framework/kernels/channel_normalization.hpp"
#include "framework/plain_version.hpp"

namespace convoy {

// Why BatchNorm2d has three paths:
// 1. Local training runs oneDNN's primitives; the kernel is built on the first forward with the
//    input's layout (normalization primitives have no format_tag::any, and reshape only sees
//    shapes), and rebuilt if a producer hands over another layout.
// 2. Synchronized training (a StatisticsReducer is set) needs the sums between "compute
//    statistics" and "normalize", which a oneDNN primitive cannot pause at: hand-written loops
//    on plain copies, with sum/sum-of-squares and count allreduced in double in one call.
// 3. Backward after an eval forward treats the running statistics as constants (frozen BN for
//    fine-tuning); oneDNN's training backward would differentiate through batch statistics.
// Running statistics follow PyTorch exactly: the biased variance normalizes, the unbiased one
// (times n / (n - 1)) enters running_var.

BatchNorm2d::BatchNorm2d(const BatchNorm2dOptions& options)
    : Layer("BatchNorm2d"), options_(options) {
  if (options_.channels < 1) fail("channels must be positive");
  if (!(options_.eps > 0)) fail("eps must be positive, got " + std::to_string(options_.eps));
  if (!(options_.momentum >= 0 && options_.momentum <= 1)) {
    fail("momentum must lie in [0, 1], got " + std::to_string(options_.momentum));
  }
  if (options_.affine) {
    weight_ = &add_parameter("weight", {options_.channels}, true);
    bias_ = &add_parameter("bias", {options_.channels}, true);
  }
  running_mean_ = &add_buffer("running_mean", {options_.channels});
  running_var_ = &add_buffer("running_var", {options_.channels});
  num_batches_tracked_ = &add_buffer("num_batches_tracked", {1});
  std::mt19937_64 unused;
  reset_parameters(unused);
}

std::string BatchNorm2d::describe() const {
  std::string text = "BatchNorm2d(" + std::to_string(options_.channels);
  char numbers[64];
  std::snprintf(numbers, sizeof numbers, ", eps=%g, momentum=%g", options_.eps, options_.momentum);
  text += numbers;
  if (!options_.affine) text += ", affine=false";
  return text + ")";
}

std::string BatchNorm2d::implementation() const {
  return kernel_ ? kernel_->implementation() : "";
}

int64_t BatchNorm2d::forward_flops(const std::vector<Shape>& input_shapes) const {
  return element_count(infer_output_shape(input_shapes));  // one multiply-add per element
}

void BatchNorm2d::reset_parameters(std::mt19937_64&) {
  const int64_t C = options_.channels;
  for (int64_t c = 0; c < C; ++c) {
    if (weight_) weight_->value.plain_data()[c] = 1.0f;
    if (bias_) bias_->value.plain_data()[c] = 0.0f;
    running_mean_->value.plain_data()[c] = 0.0f;
    running_var_->value.plain_data()[c] = 1.0f;
  }
  num_batches_tracked_->value.plain_data()[0] = 0.0f;
}

void BatchNorm2d::set_fuse_relu(bool fuse) {
  options_.fuse_relu = fuse;
  kernel_.reset();
}

Shape BatchNorm2d::infer_output_shape(const std::vector<Shape>& input_shapes) const {
  const Shape& input = input_shapes[0];
  if (input.size() != 4 || input[1] != options_.channels) {
    fail("expects input (N, " + std::to_string(options_.channels) + ", H, W), got " +
         to_string(input));
  }
  return input;
}

void BatchNorm2d::reshape(const std::vector<Shape>&) {
  kernel_.reset();  // built by the first forward, which knows the input layout
  batch_mean_ = Tensor::zeros({options_.channels});
  batch_variance_ = Tensor::zeros({options_.channels});
  plain_input_ = plain_output_ = Tensor();
  mean_.assign(options_.channels, 0.0);
  inverse_std_.assign(options_.channels, 0.0);
}

void BatchNorm2d::build_kernel(const Layout& input_layout) {
  kernels::BatchNormalizationConfig config;
  config.source = input_layout;
  config.epsilon = static_cast<float>(options_.eps);
  config.affine = options_.affine;
  config.fuse_relu = options_.fuse_relu;
  kernel_.emplace(config);
  output_ = Tensor(kernel_->destination_layout());
}

static kernels::ChannelView channel_view(const Shape& shape) {
  return {shape[0], shape[1], shape[2] * shape[3]};
}

Tensor BatchNorm2d::forward_impl(const std::vector<Tensor>& inputs, Mode mode) {
  input_ = inputs[0];
  if (!kernel_ || kernel_->config().source != input_.layout()) build_kernel(input_.layout());
  const Shape shape = input_.shape();
  const kernels::Memory no_memory;
  const auto& scale = weight_ ? weight_->value.memory() : no_memory;
  const auto& shift = bias_ ? bias_->value.memory() : no_memory;
  if (mode == Mode::eval) {
    last_path_ = Path::frozen;
    kernel_->forward_inference(input_.memory(), scale, shift, running_mean_->value.memory(),
                               running_var_->value.memory(), output_.memory());
    return output_;
  }
  if (reducer_) {
    last_path_ = Path::synchronized_training;
    forward_synchronized();
    return output_;
  }
  last_path_ = Path::local_training;
  const double count = static_cast<double>(shape[0] * shape[2] * shape[3]);
  if (count <= 1) {
    fail("needs more than one value per channel in training mode, got input " + to_string(shape));
  }
  kernel_->forward_training(input_.memory(), scale, shift, output_.memory(), batch_mean_.memory(),
                            batch_variance_.memory());
  const float* mean = batch_mean_.plain_data();
  const float* variance = batch_variance_.plain_data();
  update_running_statistics(std::vector<double>(mean, mean + options_.channels),
                            std::vector<double>(variance, variance + options_.channels), count);
  return output_;
}

void BatchNorm2d::forward_synchronized() {
  const Shape shape = input_.shape();
  const auto view = channel_view(shape);
  const int64_t C = options_.channels;
  Tensor source = plain_version(input_, plain_input_);
  std::vector<double> sums(2 * C + 1);
  kernels::channel_sums(source.plain_data(), view, sums);
  sums[2 * C] = static_cast<double>(view.batch * view.spatial);
  reducer_->allreduce_sum(sums);
  global_count_ = sums[2 * C];
  if (global_count_ <= 1) {
    fail("needs more than one value per channel over all ranks in training mode, got " +
         std::to_string(global_count_) + " for input " + to_string(shape));
  }
  std::vector<double> variance(C);
  for (int64_t c = 0; c < C; ++c) {
    mean_[c] = sums[c] / global_count_;
    variance[c] = std::max(sums[C + c] / global_count_ - mean_[c] * mean_[c], 0.0);
    inverse_std_[c] = 1.0 / std::sqrt(variance[c] + options_.eps);
  }
  if (plain_output_.empty()) plain_output_ = Tensor::zeros(shape);
  kernels::normalize_channels(source.plain_data(), view, mean_, inverse_std_,
                              weight_ ? weight_->value.plain_data() : nullptr,
                              bias_ ? bias_->value.plain_data() : nullptr, options_.fuse_relu,
                              plain_output_.plain_data());
  output_.copy_from(plain_output_);
  update_running_statistics(mean_, variance, global_count_);
}

void BatchNorm2d::update_running_statistics(std::span<const double> mean,
                                            std::span<const double> variance, double count) {
  const double momentum = options_.momentum;
  const double unbiased = count / (count - 1);
  float* running_mean = running_mean_->value.plain_data();
  float* running_var = running_var_->value.plain_data();
  for (int64_t c = 0; c < options_.channels; ++c) {
    running_mean[c] = static_cast<float>((1 - momentum) * running_mean[c] + momentum * mean[c]);
    running_var[c] =
        static_cast<float>((1 - momentum) * running_var[c] + momentum * variance[c] * unbiased);
  }
  num_batches_tracked_->value.plain_data()[0] += 1.0f;
}

std::vector<Tensor> BatchNorm2d::backward_impl(const Tensor& output_grad) {
  if (last_path_ != Path::local_training) return backward_with_plain_loops(output_grad);
  const kernels::Memory no_memory;
  Tensor input_grad = gradient_buffer(kernel_->source_grad_layout());  // (N, C, H, W)
  kernel_->backward(
      input_.memory(), output_grad.memory(), weight_ ? weight_->value.memory() : no_memory,
      bias_ ? bias_->value.memory() : no_memory, batch_mean_.memory(), batch_variance_.memory(),
      input_grad.memory(), weight_ ? weight_->grad.memory() : no_memory,
      bias_ ? bias_->grad.memory() : no_memory);
  return {input_grad};
}

std::vector<Tensor> BatchNorm2d::backward_with_plain_loops(const Tensor& output_grad) {
  const Shape shape = input_.shape();
  const auto view = channel_view(shape);
  const int64_t C = options_.channels;
  const bool frozen = last_path_ == Path::frozen;
  if (frozen) {
    // The statistics the eval forward used: the running ones.
    for (int64_t c = 0; c < C; ++c) {
      mean_[c] = running_mean_->value.plain_data()[c];
      inverse_std_[c] = 1.0 / std::sqrt(running_var_->value.plain_data()[c] + options_.eps);
    }
  }
  Tensor source = plain_version(input_, plain_input_);
  Tensor destination_grad = plain_gradient(output_grad);
  const float* relu_output = nullptr;
  if (options_.fuse_relu) {
    // The synchronized forward left its plain output in plain_output_ already.
    relu_output = (frozen ? plain_version(output_, plain_output_) : plain_output_).plain_data();
  }
  std::vector<double> sums(2 * C);
  kernels::channel_gradient_sums(source.plain_data(), destination_grad.plain_data(), relu_output,
                                 view, mean_, inverse_std_, sums);
  // Parameter gradients stay per rank: the gradient allreduce sums them like any other.
  for (int64_t c = 0; c < C; ++c) {
    if (weight_) weight_->grad.plain_data()[c] = static_cast<float>(sums[C + c]);
    if (bias_) bias_->grad.plain_data()[c] = static_cast<float>(sums[c]);
  }
  if (!frozen) reducer_->allreduce_sum(sums);
  Tensor plain_input_grad = gradient_buffer(Layout::plain(shape));  // (N, C, H, W)
  kernels::normalize_channels_backward(
      source.plain_data(), destination_grad.plain_data(), relu_output, view, mean_, inverse_std_,
      weight_ ? weight_->value.plain_data() : nullptr, sums, frozen ? 0.0 : global_count_,
      plain_input_grad.plain_data());
  const Layout input_grad_layout = kernel_->source_grad_layout();
  if (input_grad_layout == plain_input_grad.layout()) return {plain_input_grad};
  Tensor input_grad = gradient_buffer(input_grad_layout);
  input_grad.copy_from(plain_input_grad);
  return {input_grad};
}

}  // namespace convoy
