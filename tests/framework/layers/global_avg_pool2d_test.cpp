#include "framework/layers/global_avg_pool2d.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "framework/common/error.hpp"
#include "framework/graph/net.hpp"
#include "framework/layers/conv2d.hpp"
#include "support/layer_testing.hpp"

namespace convoy {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

using testing::expect_gradients_match;
using testing::expect_near;
using testing::random_tensor;

std::vector<float> reference_channel_means(const std::vector<float>& input, const Shape& shape) {
  const int64_t planes = shape[0] * shape[1], area = shape[2] * shape[3];
  std::vector<float> means(static_cast<size_t>(planes));
  for (int64_t plane = 0; plane < planes; ++plane) {
    double sum = 0;
    for (int64_t i = 0; i < area; ++i) sum += input[plane * area + i];
    means[plane] = static_cast<float>(sum / area);
  }
  return means;
}

TEST(GlobalAvgPool2dTest, AveragesEachChannelOfOddSizedMaps) {
  GlobalAvgPool2d pool;
  for (const Shape& shape : {Shape{2, 3, 7, 5}, Shape{1, 4, 1, 1}, Shape{3, 2, 4, 9}}) {
    Tensor input = random_tensor(shape, 4);
    Tensor output = pool.forward({input}, Mode::train);
    EXPECT_EQ(output.shape(), (Shape{shape[0], shape[1], 1, 1}));
    expect_near(output.to_plain(), reference_channel_means(input.to_plain(), shape), 1e-5);
  }
}

TEST(GlobalAvgPool2dTest, InputGradientMatchesFiniteDifferences) {
  GlobalAvgPool2d pool;
  expect_gradients_match(pool, {random_tensor({2, 3, 5, 3}, 6)});
}

TEST(GlobalAvgPool2dTest, GradientIsSpreadEvenlyOverTheMap) {
  GlobalAvgPool2d pool;
  pool.forward({random_tensor({1, 2, 2, 3}, 1)}, Mode::train);
  auto grads = pool.backward(Tensor::from_plain({1, 2, 1, 1}, std::vector<float>{6, -12}));
  expect_near(grads.at(0).to_plain(), {1, 1, 1, 1, 1, 1, -2, -2, -2, -2, -2, -2}, 1e-6);
}

TEST(GlobalAvgPool2dTest, WorksOnTheBlockedLayoutOfAConvolutionOutput) {
  Conv2d conv({3, 16, 3, 1, 1});
  testing::randomize_parameters(conv, 21);
  Tensor input = conv.forward({random_tensor({2, 3, 5, 7}, 22)}, Mode::train).clone();
  ASSERT_FALSE(input.layout().is_plain()) << input.layout().describe();
  GlobalAvgPool2d pool;
  Tensor output = pool.forward({input}, Mode::train);
  EXPECT_EQ(output.shape(), (Shape{2, 16, 1, 1}));
  expect_near(output.to_plain(), reference_channel_means(input.to_plain(), input.shape()), 1e-5);
  expect_gradients_match(pool, {input}, {.max_elements_per_tensor = 300});
}

TEST(GlobalAvgPool2dTest, NetSummaryCountsTheWholeMapInTheReceptiveField) {
  // The layer reports the identity window; Net::summarize widens a 1x1-collapsing layer to the
  // whole map, so conv 3x3 (field 3) on a 5x5 map followed by the pool sees 3 + 4 = 7 pixels.
  Net net;
  auto conv = net.add<Conv2d>("conv", Conv2dOptions{2, 4, 3, 1, 1}, {Net::kInput});
  net.add<GlobalAvgPool2d>("pool", GlobalAvgPool2dOptions{}, {conv});
  net.finalize();
  auto rows = net.summarize({1, 2, 5, 5});
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].output_shape, (Shape{1, 4, 1, 1}));
  EXPECT_EQ(rows[1].receptive_field, 7);
  EXPECT_EQ(rows[1].jump, 5);
  EXPECT_EQ(GlobalAvgPool2d().window().kernel, 1);
}

TEST(GlobalAvgPool2dTest, RejectsAnInputThatIsNotAnImageBatch) {
  GlobalAvgPool2d pool;
  EXPECT_THAT(
      [&] {
        pool.forward({random_tensor({2, 8}, 1)}, Mode::train);
      },
      ThrowsMessage<ShapeError>(HasSubstr("GlobalAvgPool2d(): expects an (N, C, H, W) input, "
                                          "got (2, 8)")));
}

}  // namespace
}  // namespace convoy
