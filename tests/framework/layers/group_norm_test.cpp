#include "framework/layers/group_norm.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "framework/common/error.hpp"
#include "framework/layers/conv2d.hpp"
#include "support/layer_testing.hpp"
#include "support/normalization_reference.hpp"

namespace convoy {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

using testing::expect_gradients_match;
using testing::expect_near;
using testing::random_tensor;
using testing::randomize_parameters;

// torch.nn.GroupNorm by definition: statistics over (C / G channels) x H x W per (n, g).
std::vector<float> reference_group_norm(const std::vector<float>& x, const Shape& shape,
                                        int64_t groups, const std::vector<float>& gamma,
                                        const std::vector<float>& beta, double eps) {
  const int64_t C = shape[1], HW = shape[2] * shape[3];
  return testing::reference_normalize_runs(x, C / groups * HW, eps, gamma, beta,
                                           [&](int64_t i) { return (i / HW) % C; });
}

GroupNorm make(int64_t groups, int64_t channels, bool affine = true) {
  GroupNormOptions options;
  options.groups = groups;
  options.channels = channels;
  options.affine = affine;
  return GroupNorm(options);
}

TEST(GroupNormTest, StartsWithUnitWeightAndZeroBias) {
  auto norm = make(2, 4);
  EXPECT_EQ(norm.weight()->value.to_plain(), std::vector<float>(4, 1.0f));
  EXPECT_EQ(norm.bias()->value.to_plain(), std::vector<float>(4, 0.0f));
  EXPECT_TRUE(norm.weight()->is_bias_or_norm);
  EXPECT_EQ(norm.describe(), "GroupNorm(2, 4, eps=1e-05)");
}

TEST(GroupNormTest, ForwardMatchesReferenceInTrainAndEval) {
  auto norm = make(3, 6);
  randomize_parameters(norm, 2);
  const Shape shape{2, 6, 3, 5};
  Tensor input = random_tensor(shape, 3, -1.0f, 3.0f);
  auto expected = reference_group_norm(input.to_plain(), shape, 3, norm.weight()->value.to_plain(),
                                       norm.bias()->value.to_plain(), 1e-5);
  expect_near(norm.forward({input}, Mode::train).to_plain(), expected, 1e-5);
  expect_near(norm.forward({input}, Mode::eval).to_plain(), expected, 1e-5);
}

TEST(GroupNormTest, ForwardWithoutAffineAndLargeOffsetStaysAccurate) {
  auto norm = make(2, 4, false);
  EXPECT_TRUE(norm.parameters().empty());
  const Shape shape{2, 4, 4, 3};
  // |mean| >> std: a one-pass E[x^2] - E[x]^2 in float would lose most digits here.
  Tensor input = random_tensor(shape, 4, 1000.0f, 1001.0f);
  auto expected = reference_group_norm(input.to_plain(), shape, 2, {}, {}, 1e-5);
  expect_near(norm.forward({input}, Mode::train).to_plain(), expected, 2e-3);
}

TEST(GroupNormTest, GradientsMatchFiniteDifferencesWithOddSpatialSize) {
  auto norm = make(2, 6);
  randomize_parameters(norm, 5);
  expect_gradients_match(norm, {random_tensor({2, 6, 3, 5}, 6)});
}

TEST(GroupNormTest, GradientsMatchFiniteDifferencesOnABlockedLayoutFromConv2d) {
  Conv2dOptions conv_options;
  conv_options.in_channels = 3;
  conv_options.out_channels = 16;
  conv_options.kernel = 3;
  conv_options.padding = 1;
  Conv2d conv(conv_options);
  randomize_parameters(conv, 7);
  Tensor activation = conv.forward({random_tensor({2, 3, 3, 5}, 8)}, Mode::train).clone();
  ASSERT_FALSE(activation.layout().is_plain());
  auto norm = make(4, 16);
  randomize_parameters(norm, 9);
  auto expected =
      reference_group_norm(activation.to_plain(), activation.shape(), 4,
                           norm.weight()->value.to_plain(), norm.bias()->value.to_plain(), 1e-5);
  expect_near(norm.forward({activation}, Mode::train).to_plain(), expected, 1e-5);
  GradientCheckOptions options;
  options.max_elements_per_tensor = 150;
  expect_gradients_match(norm, {activation}, options);
}

TEST(GroupNormTest, RejectsChannelsNotDivisibleByGroupsNamingBoth) {
  EXPECT_THAT([&] { make(4, 6); },
              ThrowsMessage<ShapeError>(AllOf(HasSubstr("channels=6 is not divisible by groups=4"),
                                              HasSubstr("GroupNorm(4, 6"))));
}

TEST(GroupNormTest, RejectsAnInputWithTheWrongChannelCount) {
  auto norm = make(2, 4);
  EXPECT_THAT(
      [&] {
        norm.forward({random_tensor({2, 6, 3, 3}, 1)}, Mode::train);
      },
      ThrowsMessage<ShapeError>(HasSubstr("expects input (N, 4, *), got (2, 6, 3, 3)")));
}

}  // namespace
}  // namespace convoy
