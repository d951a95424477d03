#include "framework/graph/net.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "framework/common/error.hpp"
#include "framework/layers/activation.hpp"
#include "framework/layers/add.hpp"
#include "framework/layers/batch_norm2d.hpp"
#include "framework/layers/conv2d.hpp"
#include "framework/kernels/kernel_timing.hpp"
#include "support/layer_testing.hpp"

namespace convoy {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

using testing::random_tensor;

// A two-input layer local to this test (plain-layout sum), so the graph mechanics are tested
// without depending on the Add layer's kernel.
class PlainSum : public Layer {
 public:
  PlainSum() : Layer("PlainSum") {}
  int input_count() const override { return 2; }

 protected:
  Shape infer_output_shape(const std::vector<Shape>& shapes) const override {
    if (shapes[0] != shapes[1])
      fail("shapes differ: " + to_string(shapes[0]) + " vs " + to_string(shapes[1]));
    return shapes[0];
  }
  void reshape(const std::vector<Shape>& shapes) override { output_ = Tensor::zeros(shapes[0]); }
  Tensor forward_impl(const std::vector<Tensor>& inputs, Mode) override {
    auto a = inputs[0].to_plain(), b = inputs[1].to_plain();
    for (size_t i = 0; i < a.size(); ++i) a[i] += b[i];
    output_.copy_from_plain(a);
    return output_;
  }
  std::vector<Tensor> backward_impl(const Tensor& grad) override { return {grad, grad}; }

 private:
  Tensor output_;
};

// Layers local to the timing test: one converts its input to NHWC and its gradient back (a
// reorder each way), one scales plain tensors through their data (no reorder).
class ToChannelsLast : public Layer {
 public:
  ToChannelsLast() : Layer("ToChannelsLast") {}

 protected:
  Shape infer_output_shape(const std::vector<Shape>& shapes) const override { return shapes[0]; }
  void reshape(const std::vector<Shape>& shapes) override {
    output_ = Tensor(Layout::nhwc(shapes[0]));
    input_grad_ = Tensor::zeros(shapes[0]);
  }
  Tensor forward_impl(const std::vector<Tensor>& inputs, Mode) override {
    output_.copy_from(inputs[0]);
    return output_;
  }
  std::vector<Tensor> backward_impl(const Tensor& grad) override {
    input_grad_.copy_from(grad);
    return {input_grad_};
  }

 private:
  Tensor output_, input_grad_;
};

class PlainDoubling : public Layer {
 public:
  PlainDoubling() : Layer("PlainDoubling") {}

 protected:
  Shape infer_output_shape(const std::vector<Shape>& shapes) const override { return shapes[0]; }
  void reshape(const std::vector<Shape>& shapes) override {
    output_ = Tensor::zeros(shapes[0]);
    input_grad_ = Tensor::zeros(shapes[0]);
  }
  Tensor forward_impl(const std::vector<Tensor>& inputs, Mode) override {
    double_into(inputs[0], output_);
    return output_;
  }
  std::vector<Tensor> backward_impl(const Tensor& grad) override {
    double_into(grad, input_grad_);
    return {input_grad_};
  }

 private:
  static void double_into(const Tensor& from, Tensor& to) {
    const float* in = from.plain_data();
    float* out = to.plain_data();
    for (int64_t i = 0; i < from.element_count(); ++i) out[i] = 2 * in[i];
  }
  Tensor output_, input_grad_;
};

Conv2dOptions conv_options(int64_t in, int64_t out, int64_t stride = 1) {
  Conv2dOptions options;
  options.in_channels = in;
  options.out_channels = out;
  options.kernel = 3;
  options.stride = stride;
  options.padding = 1;
  return options;
}

// input -> a -> b -> sum(b, shortcut(input)): a residual block without normalization.
std::unique_ptr<Net> residual_net() {
  auto net = std::make_unique<Net>();
  auto a = net->add<Conv2d>("block.conv1", conv_options(3, 16), {Net::kInput});
  auto b = net->add<Conv2d>("block.conv2", conv_options(16, 16), {a});
  auto shortcut = net->add<Conv2d>("block.downsample.0", conv_options(3, 16), {Net::kInput});
  net->add("block.add", std::make_unique<PlainSum>(), {b, shortcut});
  net->finalize();
  net->reset_parameters(3);
  return net;
}

TEST(NetTest, NamesParametersWithTheirNodePrefixInInsertionOrder) {
  auto net = residual_net();
  std::vector<std::string> names;
  for (const auto& p : net->parameters()) names.push_back(p.name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"block.conv1.weight", "block.conv1.bias",
                                      "block.conv2.weight", "block.conv2.bias",
                                      "block.downsample.0.weight", "block.downsample.0.bias"}));
}

TEST(NetTest, ParametersLiveInOneContiguousArenaInListOrder) {
  auto net = residual_net();
  float* expected = net->parameter_values().data();
  float* expected_grad = net->parameter_grads().data();
  for (const auto& [name, parameter] : net->parameters()) {
    EXPECT_EQ(parameter->value.plain_data(), expected) << name;
    EXPECT_EQ(parameter->grad.plain_data(), expected_grad) << name;
    expected += parameter->value.element_count();
    expected_grad += parameter->value.element_count();
  }
  EXPECT_EQ(expected, net->parameter_values().data() + net->parameter_values().size());
  EXPECT_EQ(net->parameter_count(), 2 * (16 * 3 * 9 + 16) + 16 * 16 * 9 + 16);
}

TEST(NetTest, FanOutGradientsAreSummedAndMatchFiniteDifferences) {
  auto net = residual_net();
  GradientChecker checker({.step = 1e-2, .tolerance = 1e-2, .max_elements_per_tensor = 60});
  auto report = checker.check_net(*net, random_tensor({2, 3, 6, 5}, 4), Mode::train);
  EXPECT_TRUE(report.passed()) << report.summary();
  ASSERT_EQ(report.tensors.size(), 7u);
  EXPECT_EQ(report.tensors[0].name, "input");
}

TEST(NetTest, ReportsGradientsReadyLayerByLayerInReverseOrder) {
  auto net = residual_net();
  Tensor output = net->forward(random_tensor({1, 3, 4, 4}, 1), Mode::train);
  std::vector<int> order;
  net->backward(
      Tensor::from_plain(output.shape(), std::vector<float>(output.element_count(), 1.0f)),
      [&](std::span<const int> indices) {
        order.insert(order.end(), indices.begin(), indices.end());
      });
  EXPECT_EQ(order, (std::vector<int>{4, 5, 2, 3, 0, 1}));
}

TEST(NetTest, LastForwardOutputsListsEveryNodeEvenWhenNamesRepeat) {
  // torchvision reuses one ReLU module per block: two nodes named "relu".
  Net net;
  auto a = net.add<Conv2d>("conv1", conv_options(3, 4), {Net::kInput});
  auto r = net.add<Activation>("relu", relu(), {a});
  auto b = net.add<Conv2d>("conv2", conv_options(4, 4), {r});
  net.add<Activation>("relu", relu(), {b});
  net.finalize();
  net.reset_parameters(5);
  net.forward(random_tensor({2, 3, 5, 5}, 11), Mode::train);
  const auto outputs = net.last_forward_outputs();
  ASSERT_EQ(outputs.size(), 4u);
  EXPECT_EQ(outputs[1].name, "relu");
  EXPECT_EQ(outputs[3].name, "relu");
  const auto conv2 = outputs[2].output.to_plain(), second_relu = outputs[3].output.to_plain();
  ASSERT_EQ(second_relu.size(), conv2.size());
  for (size_t i = 0; i < conv2.size(); ++i) EXPECT_EQ(second_relu[i], std::max(conv2[i], 0.0f));
  EXPECT_EQ(net.activation("relu").to_plain(), outputs[1].output.to_plain()) << "first match";
  EXPECT_EQ(outputs[0].layer, &net.layer("conv1"));
}

TEST(NetTest, ShapeErrorsNameTheNode) {
  Net net;
  net.add<Conv2d>("features.0", conv_options(3, 8), {Net::kInput});
  net.add<Conv2d>("features.2", conv_options(4, 8), {1});
  net.finalize();
  EXPECT_THAT(
      [&] {
        net.summarize({1, 3, 8, 8});
      },
      ThrowsMessage<ShapeError>(HasSubstr("features.2: Conv2d(4, 8")));
}

TEST(NetTest, ReceptiveFieldOfThreeStacked3x3ConvolutionsIsSeven) {
  Net net;
  Net::NodeId x = Net::kInput;
  for (int i = 0; i < 3; ++i)
    x = net.add<Conv2d>("c" + std::to_string(i), conv_options(i ? 4 : 1, 4), {x});
  net.finalize();
  auto rows = net.summarize({1, 1, 16, 16});
  EXPECT_EQ(rows[0].receptive_field, 3);
  EXPECT_EQ(rows[1].receptive_field, 5);
  EXPECT_EQ(rows[2].receptive_field, 7);
}

TEST(NetTest, ReceptiveFieldWithDilations124IsFifteenAndStridesMultiplyTheJump) {
  Net net;
  Net::NodeId x = Net::kInput;
  for (int64_t dilation : {1, 2, 4}) {
    auto options = conv_options(1, 1);
    options.dilation = dilation;
    options.padding = dilation;
    x = net.add<Conv2d>("d" + std::to_string(dilation), options, {x});
  }
  x = net.add<Conv2d>("s", conv_options(1, 1, 2), {x});
  net.finalize();
  auto rows = net.summarize({1, 1, 32, 32});
  EXPECT_EQ(rows[2].receptive_field, 15);
  EXPECT_EQ(rows[3].receptive_field, 17);
  EXPECT_EQ(rows[3].jump, 2);
}

TEST(NetTest, CentreOffsetFollowsPaddingAndKernelExtent) {
  // Unpadded 3x3: output 0 is centred on input 1. Then a padded stride-2 3x3 (offset += 1 *
  // (1 - 1) = 0) and an unpadded 2x2 stride-2 window at jump 2 (offset += 2 * (0.5 - 0)).
  Net net;
  auto options = conv_options(1, 1);
  options.padding = 0;
  auto a = net.add<Conv2d>("valid", options, {Net::kInput});
  auto b = net.add<Conv2d>("strided", conv_options(1, 1, 2), {a});
  auto pool = conv_options(1, 1, 2);
  pool.kernel = 2;
  pool.padding = 0;
  net.add<Conv2d>("pool", pool, {b});
  net.finalize();
  auto rows = net.summarize({1, 1, 17, 17});
  EXPECT_EQ(rows[0].centre_offset, 1.0);
  EXPECT_EQ(rows[1].centre_offset, 1.0);
  EXPECT_EQ(rows[1].jump, 2);
  EXPECT_EQ(rows[2].centre_offset, 2.0);
  EXPECT_EQ(rows[2].receptive_field, 3 + 2 * 1 + 2 * 1);
}

TEST(NetTest, BackwardFromAnInnerNodeSkipsTheNodesAfterItAndBesideIt) {
  // From block.conv1 of the residual net: conv2 and add come after it, the shortcut does not
  // feed it; only conv1's backward runs, so the input gradient equals that layer's own.
  auto net = residual_net();
  const Tensor input = random_tensor({2, 3, 6, 6}, 8);
  net->forward(input, Mode::train);
  const Tensor seed = random_tensor({2, 16, 6, 6}, 9);
  const auto from_net = net->backward_from("block.conv1", seed).to_plain();
  const auto direct = net->layer("block.conv1").backward(seed)[0].to_plain();
  testing::expect_near(from_net, direct, 1e-6);
  EXPECT_THROW(net->backward_from("no.such.layer", seed), ConfigError);
}

// A stem convolution and `blocks` residual blocks (conv, bn, relu, conv, bn, add, relu); odd
// blocks use the fused variants (BatchNorm2d+ReLU, Add+ReLU), whose backward masks with their
// saved output. Node names are unique, so every node can carry a backward hook.
std::unique_ptr<Net> deep_residual_net(int blocks) {
  auto net = std::make_unique<Net>();
  Net::NodeId x = net->add<Conv2d>("stem", conv_options(3, 8), {Net::kInput});
  for (int b = 0; b < blocks; ++b) {
    const std::string name = "block" + std::to_string(b);
    const bool fused = b % 2 == 1;
    BatchNorm2dOptions norm{.channels = 8, .fuse_relu = fused};
    auto y = net->add<Conv2d>(name + ".conv1", conv_options(8, 8), {x});
    y = net->add<BatchNorm2d>(name + ".bn1", norm, {y});
    if (!fused) y = net->add<Activation>(name + ".relu1", relu(), {y});
    y = net->add<Conv2d>(name + ".conv2", conv_options(8, 8), {y});
    y = net->add<BatchNorm2d>(name + ".bn2", BatchNorm2dOptions{.channels = 8}, {y});
    y = net->add<Add>(name + ".add", AddOptions{.fuse_relu = fused}, {y, x});
    x = fused ? y : net->add<Activation>(name + ".relu2", relu(), {y});
  }
  net->finalize();
  net->reset_parameters(11);
  return net;
}

TEST(NetTest, BackwardRecyclesGradientBuffersAndMatchesARunWithoutReuseBitForBit) {
  constexpr int kBlocks = 8;
  auto net = deep_residual_net(kBlocks);
  // The reference never reuses a gradient buffer: its layers have no pool (each backward
  // allocates) and hooks keep every input gradient alive, so no sum is done in place either.
  auto reference = deep_residual_net(kBlocks);
  std::vector<Tensor> kept;
  for (const auto& [name, layer] : reference->layers()) {
    layer->set_gradient_buffer_pool(nullptr);
    reference->set_backward_hook(name, [&kept](Layer&, std::vector<Tensor>& input_grads) {
      kept.insert(kept.end(), input_grads.begin(), input_grads.end());
    });
  }
  const size_t layer_count = net->layers().size();
  ASSERT_EQ(layer_count, 1u + 12 * kBlocks / 2);
  // Two steps with different data: the second one reuses buffers holding the first's values.
  for (uint64_t step = 0; step < 2; ++step) {
    const Tensor input = random_tensor({2, 3, 6, 6}, 20 + step);
    const Tensor output_grad = random_tensor({2, 8, 6, 6}, 30 + step);
    net->forward(input, Mode::train);
    reference->forward(input, Mode::train);
    const auto input_grad = net->backward(output_grad).to_plain();
    const auto expected_input_grad = reference->backward(output_grad).to_plain();
    EXPECT_EQ(input_grad, expected_input_grad) << "step " << step;
    const auto grads = net->parameter_grads();
    const auto expected_grads = reference->parameter_grads();
    ASSERT_EQ(grads.size(), expected_grads.size());
    EXPECT_TRUE(std::equal(grads.begin(), grads.end(), expected_grads.begin())) << "step " << step;
  }
  EXPECT_GT(kept.size(), layer_count);
  // Alive at once: the shortcut's gradient, the current node's and the one being written, in
  // each of the few layouts (the input's, the blocks'); not one per layer.
  const auto& pool = net->gradient_buffers();
  EXPECT_LE(pool.buffer_count(), 6u) << "for " << layer_count << " layers";
  EXPECT_EQ(pool.buffers_in_use(), 0u) << "every gradient went back once used";
}

// convoy bench's "reorder ms" column: each layer's own layout conversions, forward and backward,
// land on its row and nowhere else; the sum into a fan-out node's gradient lands on the layer
// whose contribution completed it.
TEST(NetTest, LayerTimingsAttributeReordersToTheLayerThatRanThem) {
  Net net;
  auto doubled = net.add("doubled", std::make_unique<PlainDoubling>(), {Net::kInput});
  auto again = net.add("again", std::make_unique<PlainDoubling>(), {doubled});
  auto converted = net.add("converted", std::make_unique<ToChannelsLast>(), {doubled});
  net.add("sum", std::make_unique<PlainSum>(), {again, converted});
  net.finalize();
  kernels::set_kernel_timing(true);
  net.set_profiling(true);
  const Tensor input = random_tensor({2, 8, 5, 5}, 1);
  const Tensor output = net.forward(input, Mode::train);
  net.backward(Tensor::from_plain(output.shape(), output.to_plain()));
  kernels::set_kernel_timing(false);
  net.set_profiling(false);

  std::map<std::string, Net::LayerTiming> timings;
  for (const auto& timing : net.layer_timings()) timings[timing.name] = timing;
  // ToChannelsLast converts both ways; PlainDoubling touches plain data only.
  EXPECT_GT(timings["converted"].forward_reorder_seconds, 0);
  EXPECT_GT(timings["converted"].backward_reorder_seconds, 0);
  EXPECT_EQ(timings["again"].forward_reorder_seconds, 0);
  EXPECT_EQ(timings["doubled"].forward_reorder_seconds, 0);
  EXPECT_EQ(timings["doubled"].backward_reorder_seconds, 0);
  // "doubled" feeds two layers. Backward runs "converted" before "again" (reverse order), so
  // "again"'s gradient is the second into "doubled": summing it is the only reorder on its row.
  EXPECT_GT(timings["again"].backward_reorder_seconds, 0);
  for (const auto& [name, timing] : timings) {
    EXPECT_LE(timing.forward_reorder_seconds, timing.forward_seconds) << name;
    EXPECT_LE(timing.backward_reorder_seconds, timing.backward_seconds) << name;
  }
}

}  // namespace
}  // namespace convoy
