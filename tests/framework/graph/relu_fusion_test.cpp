// Net::fuse_relus folds ReLUs into the Conv2d, BatchNorm2d or Add before them. Fused and
// unfused networks must compute the same bits, forward and backward: relu(y) is exact, and
// masking the gradient by y > 0 (fused, from the output) equals masking by x > 0 (separate).

#include <gtest/gtest.h>

#include "framework/layers/activation.hpp"
#include "framework/layers/add.hpp"
#include "framework/layers/batch_norm2d.hpp"
#include "framework/layers/conv2d.hpp"
#include "framework/models/model_builder.hpp"
#include "support/layer_testing.hpp"

namespace convoy {
namespace {

using testing::random_tensor;

struct Pass {
  std::vector<float> logits, input_grad, parameter_grads;
};

Pass train_pass(const std::string& architecture, bool fuse, const Shape& input_shape) {
  ModelConfig config;
  config.architecture = architecture;
  config.in_channels = input_shape[1];
  config.fuse_relus = fuse;
  config.seed = 5;
  auto net = build_model(config);
  Tensor logits = net->forward(random_tensor(input_shape, 6), Mode::train);
  Tensor upstream = random_tensor(logits.shape(), 7);
  Tensor input_grad = net->backward(upstream);
  auto grads = net->parameter_grads();
  return {logits.to_plain(), input_grad.to_plain(), {grads.begin(), grads.end()}};
}

class ReluFusion : public ::testing::TestWithParam<const char*> {};

TEST_P(ReluFusion, FusedAndSeparateReluGiveTheSameBits) {
  const Shape input{4, 3, 32, 32};
  const Pass separate = train_pass(GetParam(), false, input);
  const Pass fused = train_pass(GetParam(), true, input);
  EXPECT_EQ(fused.logits, separate.logits);
  EXPECT_EQ(fused.input_grad, separate.input_grad);
  EXPECT_EQ(fused.parameter_grads, separate.parameter_grads);
}

INSTANTIATE_TEST_SUITE_P(Architectures, ReluFusion,
                         ::testing::Values("resnet20", "vgg11", "vgg11_bn"));

TEST(ReluFusionTest, FusesEveryReluWhoseProducerFeedsNothingElse) {
  Net net;
  const Conv2dOptions conv_options = testing::same_size_conv(2);
  BatchNorm2dOptions norm_options;
  norm_options.channels = 2;
  const auto conv = net.add<Conv2d>("conv", conv_options, {Net::kInput});
  const auto norm = net.add<BatchNorm2d>("bn", norm_options, {conv});
  const auto relu1 = net.add<Activation>("relu1", relu(), {norm});  // fusable: bn -> relu only
  // conv2 feeds both a ReLU and the Add: its output must stay un-relu'd, so no fusion.
  const auto conv2 = net.add<Conv2d>("conv2", conv_options, {relu1});
  const auto relu2 = net.add<Activation>("relu2", relu(), {conv2});
  const auto sum = net.add<Add>("add", AddOptions{}, {relu2, conv2});
  net.add<Activation>("relu3", relu(), {sum});  // fusable into the Add
  net.finalize();
  EXPECT_EQ(net.fuse_relus(), 2);
  EXPECT_EQ(net.layer("relu1").describe(), "ReLU (fused into the previous layer)");
  EXPECT_EQ(net.layer("relu2").describe(), "ReLU");
  EXPECT_EQ(net.layer("add").describe(), "Add+ReLU");
}

}  // namespace
}  // namespace convoy
