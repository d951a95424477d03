// Net::set_input_gradient_needed(false): training never reads the image batch's gradient, so
// the first convolution skips its backward-data. Every parameter gradient stays the same bits,
// backward returns an empty tensor, and exactly one primitive call per backward is saved.

#include <gtest/gtest.h>

#include "framework/kernels/kernel_timing.hpp"
#include "framework/models/model_builder.hpp"
#include "support/layer_testing.hpp"

namespace convoy {
namespace {

using testing::random_tensor;

struct Backward {
  Tensor input_grad;
  std::vector<float> parameter_grads;
  int64_t primitive_calls = 0;
};

Backward run_backward(const std::string& architecture, bool input_gradient_needed) {
  ModelConfig config;
  config.architecture = architecture;
  config.in_channels = 3;
  config.seed = 3;
  auto net = build_model(config);
  net->set_input_gradient_needed(input_gradient_needed);
  const Shape input{2, 3, 32, 32};
  Tensor logits = net->forward(random_tensor(input, 4), Mode::train);
  Tensor upstream = random_tensor(logits.shape(), 5);
  kernels::reset_kernel_timing();
  kernels::set_kernel_timing(true);
  Backward result;
  result.input_grad = net->backward(upstream);
  kernels::set_kernel_timing(false);
  result.primitive_calls = kernels::kernel_timing().compute_calls;
  auto grads = net->parameter_grads();
  result.parameter_grads.assign(grads.begin(), grads.end());
  return result;
}

class InputGradient : public ::testing::TestWithParam<const char*> {};

// resnet20's first convolution feeds a BatchNorm; vgg11's has its ReLU fused, whose gradient
// mask backward-weights must then apply itself.
TEST_P(InputGradient, SkippingItLeavesEveryParameterGradientAndSavesOneCall) {
  const Backward full = run_backward(GetParam(), true);
  const Backward training = run_backward(GetParam(), false);
  ASSERT_FALSE(full.input_grad.empty());
  EXPECT_EQ(full.input_grad.shape(), (Shape{2, 3, 32, 32}));
  EXPECT_TRUE(training.input_grad.empty());
  EXPECT_EQ(training.parameter_grads, full.parameter_grads);
  EXPECT_EQ(full.primitive_calls - training.primitive_calls, 1);
}

INSTANTIATE_TEST_SUITE_P(Architectures, InputGradient, ::testing::Values("resnet20", "vgg11"));

}  // namespace
}  // namespace convoy
