// The pooling and LRN layers inside a Net, as in AlexNet's first stage: each gets a
// convolution's blocked output, and their input gradients flow back into the convolution.

#include <gtest/gtest.h>

#include "framework/graph/net.hpp"
#include "framework/layers/adaptive_avg_pool2d.hpp"
#include "framework/layers/avg_pool2d.hpp"
#include "framework/layers/conv2d.hpp"
#include "framework/layers/global_avg_pool2d.hpp"
#include "framework/layers/local_response_norm.hpp"
#include "framework/layers/max_pool2d.hpp"
#include "support/layer_testing.hpp"

namespace convoy {
namespace {

using testing::random_tensor;

// conv -> LRN -> max pool -> conv -> avg pool -> adaptive 3x3 (loop path) -> global pool.
std::unique_ptr<Net> alexnet_like_stem() {
  auto net = std::make_unique<Net>();
  auto conv1 = net->add<Conv2d>("features.0", Conv2dOptions{3, 16, 3, 1, 1}, {Net::kInput});
  auto norm = net->add<LocalResponseNorm>("features.1",
                                          LocalResponseNormOptions{5, 1.0f, 0.75f, 2.0f}, {conv1});
  auto max_pool = net->add<MaxPool2d>("features.2", MaxPool2dOptions{3, 2, 1}, {norm});
  auto conv2 = net->add<Conv2d>("features.3", Conv2dOptions{16, 16, 3, 1, 1}, {max_pool});
  auto avg_pool = net->add<AvgPool2d>("features.4", AvgPool2dOptions{3, 1, 1, false}, {conv2});
  auto adaptive =
      net->add<AdaptiveAvgPool2d>("avgpool", AdaptiveAvgPool2dOptions{3, 3}, {avg_pool});
  net->add<GlobalAvgPool2d>("global", GlobalAvgPool2dOptions{}, {adaptive});
  net->finalize();
  net->reset_parameters(3);
  return net;
}

TEST(PoolingNetworkTest, SummaryGivesShapesAndReceptiveFields) {
  auto net = alexnet_like_stem();
  auto rows = net->summarize({2, 3, 9, 9});
  ASSERT_EQ(rows.size(), 7u);
  EXPECT_EQ(rows[2].output_shape, (Shape{2, 16, 5, 5}));  // (9 + 2 - 3) / 2 + 1
  EXPECT_EQ(rows[2].receptive_field, 5);                  // 3 + 2 * 1
  EXPECT_EQ(rows[2].jump, 2);
  EXPECT_EQ(rows[4].receptive_field, 13);  // 5 + 2 * 2 (conv) + 2 * 2 (avg pool)
  EXPECT_EQ(rows[6].output_shape, (Shape{2, 16, 1, 1}));
}

TEST(PoolingNetworkTest, GradientsThroughEveryLayerMatchFiniteDifferences) {
  auto net = alexnet_like_stem();
  // A small step: max pooling's argmax must not switch inside the finite difference.
  GradientChecker checker({.step = 1e-3, .tolerance = 1e-2, .max_elements_per_tensor = 40});
  auto report = checker.check_net(*net, random_tensor({2, 3, 9, 9}, 4), Mode::train);
  EXPECT_TRUE(report.passed()) << report.summary();
  ASSERT_EQ(report.tensors.size(), 5u);  // input, two weights, two biases
  for (const auto& tensor : report.tensors) EXPECT_GT(tensor.checked, 0) << tensor.name;
}

}  // namespace
}  // namespace convoy
