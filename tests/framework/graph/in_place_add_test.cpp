// Net::set_in_place_adds lets each residual Add write its sum over its main branch's output,
// as torchvision's `out += identity`. Same bits forward and backward as a separate output
// buffer, one activation buffer fewer per residual block, and no silent reads of the
// overwritten activations.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "framework/common/error.hpp"
#include "framework/layers/activation.hpp"
#include "framework/layers/add.hpp"
#include "framework/layers/batch_norm2d.hpp"
#include "framework/layers/conv2d.hpp"
#include "framework/models/model_builder.hpp"
#include "support/layer_testing.hpp"

namespace convoy {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

using testing::random_tensor;

struct Pass {
  std::vector<float> logits, input_grad, parameter_grads, running_means;
  size_t activation_bytes = 0;
  int in_place_adds = 0;
};

std::unique_ptr<Net> resnet(const std::string& architecture, const std::string& variant,
                            bool in_place) {
  ModelConfig config;
  config.architecture = architecture;
  config.variant = variant;
  config.in_channels = 3;
  config.seed = 5;
  config.in_place_adds = false;  // set below, to count
  auto net = build_model(config);
  net->set_in_place_adds(in_place);
  return net;
}

Pass train_pass(const std::string& architecture, const std::string& variant, bool in_place,
                const Shape& input_shape) {
  auto net = resnet(architecture, variant, false);
  Pass pass;
  pass.in_place_adds = net->set_in_place_adds(in_place);
  // Two steps: the second forward runs over buffers the first one's Adds overwrote.
  for (int step = 0; step < 2; ++step) {
    Tensor logits = net->forward(random_tensor(input_shape, 6 + step), Mode::train);
    Tensor upstream = random_tensor(logits.shape(), 7 + step);
    Tensor input_grad = net->backward(upstream);
    pass.logits = logits.to_plain();
    pass.input_grad = input_grad.to_plain();
  }
  auto grads = net->parameter_grads();
  pass.parameter_grads.assign(grads.begin(), grads.end());
  for (auto& [name, buffer] : net->buffers()) {
    auto values = buffer->value.to_plain();
    pass.running_means.insert(pass.running_means.end(), values.begin(), values.end());
  }
  pass.activation_bytes = net->activation_bytes();
  return pass;
}

struct Case {
  const char* architecture;
  const char* variant;
  int blocks;
  Shape input;
};

class InPlaceAdd : public ::testing::TestWithParam<Case> {};

TEST_P(InPlaceAdd, SameBitsAndOneActivationFewerPerBlock) {
  const Case& c = GetParam();
  const Pass separate = train_pass(c.architecture, c.variant, false, c.input);
  const Pass in_place = train_pass(c.architecture, c.variant, true, c.input);
  EXPECT_EQ(separate.in_place_adds, 0);
  EXPECT_EQ(in_place.in_place_adds, c.blocks);
  EXPECT_EQ(in_place.logits, separate.logits);
  EXPECT_EQ(in_place.input_grad, separate.input_grad);
  EXPECT_EQ(in_place.parameter_grads, separate.parameter_grads);
  EXPECT_EQ(in_place.running_means, separate.running_means);

  // The saving is exactly the Adds' outputs: one (N, C, H, W) f32 buffer per block.
  auto net = resnet(c.architecture, c.variant, false);
  net->forward(random_tensor(c.input, 6), Mode::train);
  size_t add_bytes = 0;
  for (const auto& node : net->last_forward_outputs()) {
    if (dynamic_cast<Add*>(node.layer)) add_bytes += node.output.layout().bytes();
  }
  EXPECT_GT(add_bytes, 0u);
  EXPECT_EQ(separate.activation_bytes - in_place.activation_bytes, add_bytes);
}

INSTANTIATE_TEST_SUITE_P(Architectures, InPlaceAdd,
                         ::testing::Values(Case{"resnet20", "cifar", 9, {4, 3, 16, 16}},
                                           Case{"resnet18", "cifar", 8, {2, 3, 16, 16}},
                                           Case{"resnet50", "imagenet", 16, {2, 3, 32, 32}}),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return std::string(info.param.architecture);
                         });

TEST(InPlaceAddTest, OverwrittenActivationsAreRefusedByName) {
  auto net = resnet("resnet20", "cifar", true);
  net->forward(random_tensor({2, 3, 16, 16}, 1), Mode::train);
  EXPECT_THAT(
      [&] { net->activation("layer1.0.bn2"); },
      ThrowsMessage<ConfigError>(AllOf(HasSubstr("layer1.0.bn2"), HasSubstr("layer1.0.add"))));
  EXPECT_THROW(net->last_forward_outputs(), ConfigError);
  EXPECT_THROW(net->last_forward_inputs(), ConfigError);
  EXPECT_NO_THROW(net->activation("layer1.0.bn1"));  // not overwritten

  net->set_in_place_adds(false);
  net->forward(random_tensor({2, 3, 16, 16}, 1), Mode::train);
  EXPECT_NO_THROW(net->last_forward_outputs());
}

TEST(InPlaceAddTest, OnlyWhenTheAddIsTheSoleReaderOfAnOutputItsBackwardDoesNotNeed) {
  Net net;
  const Conv2dOptions conv_options = testing::same_size_conv(2);
  BatchNorm2dOptions norm_options;
  norm_options.channels = 2;
  const auto conv = net.add<Conv2d>("conv", conv_options, {Net::kInput});
  const auto norm = net.add<BatchNorm2d>("bn", norm_options, {conv});
  const auto sum1 = net.add<Add>("add1", AddOptions{}, {norm, Net::kInput});  // in place
  // conv2 feeds add2 and add3: overwriting it would corrupt add3's input.
  const auto conv2 = net.add<Conv2d>("conv2", conv_options, {sum1});
  const auto sum2 = net.add<Add>("add2", AddOptions{}, {conv2, sum1});
  const auto sum3 = net.add<Add>("add3", AddOptions{}, {conv2, sum2});
  // add4 reads relu3, a fused pass-through whose buffer is conv3's: conv3's backward masks
  // its gradient with it.
  const auto conv3 = net.add<Conv2d>("conv3", conv_options, {sum3});
  const auto relu3 = net.add<Activation>("relu3", relu(), {conv3});
  net.add<Add>("add4", AddOptions{}, {relu3, sum3});
  // The network input is the caller's tensor, never overwritten.
  net.add<Add>("add5", AddOptions{}, {Net::kInput, sum3});
  net.finalize();
  EXPECT_EQ(net.fuse_relus(), 1);
  EXPECT_EQ(net.set_in_place_adds(true), 1);
  EXPECT_TRUE(dynamic_cast<Add&>(net.layer("add1")).in_place());
  for (const char* name : {"add2", "add3", "add4", "add5"})
    EXPECT_FALSE(dynamic_cast<Add&>(net.layer(name)).in_place()) << name;
}

}  // namespace
}  // namespace convoy
