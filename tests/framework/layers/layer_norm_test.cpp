#include "framework/layers/layer_norm.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "framework/common/error.hpp"
#include "support/layer_testing.hpp"
#include "support/normalization_reference.hpp"

namespace convoy {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

using testing::expect_gradients_match;
using testing::expect_near;
using testing::random_tensor;
using testing::randomize_parameters;

// torch.nn.LayerNorm by definition: statistics over the trailing `length` values of each
// sample, element-wise affine.
std::vector<float> reference_layer_norm(const std::vector<float>& x, int64_t length,
                                        const std::vector<float>& gamma,
                                        const std::vector<float>& beta, double eps) {
  return testing::reference_normalize_runs(x, length, eps, gamma, beta,
                                           [&](int64_t i) { return i % length; });
}

LayerNorm make(const Shape& normalized_shape, bool affine = true) {
  LayerNormOptions options;
  options.normalized_shape = normalized_shape;
  options.elementwise_affine = affine;
  return LayerNorm(options);
}

TEST(LayerNormTest, HasElementwiseAffineOfTheNormalizedShape) {
  auto norm = make({3, 4, 5});
  EXPECT_EQ(norm.weight()->value.shape(), (Shape{3, 4, 5}));
  EXPECT_EQ(norm.bias()->value.shape(), (Shape{3, 4, 5}));
  EXPECT_EQ(norm.weight()->value.to_plain(), std::vector<float>(60, 1.0f));
  EXPECT_EQ(norm.describe(), "LayerNorm((3, 4, 5), eps=1e-05)");
  EXPECT_TRUE(make({4}, false).parameters().empty());
}

TEST(LayerNormTest, ForwardOverChannelsHeightWidthMatchesReference) {
  auto norm = make({3, 4, 5});
  randomize_parameters(norm, 1);
  Tensor input = random_tensor({2, 3, 4, 5}, 2, -1.0f, 2.0f);
  auto expected = reference_layer_norm(input.to_plain(), 60, norm.weight()->value.to_plain(),
                                       norm.bias()->value.to_plain(), 1e-5);
  expect_near(norm.forward({input}, Mode::train).to_plain(), expected, 1e-5);
}

TEST(LayerNormTest, ForwardOverFeaturesMatchesReference) {
  auto norm = make({7}, false);
  Tensor input = random_tensor({5, 7}, 3);
  expect_near(norm.forward({input}, Mode::eval).to_plain(),
              reference_layer_norm(input.to_plain(), 7, {}, {}, 1e-5), 1e-5);
}

TEST(LayerNormTest, GradientsMatchFiniteDifferencesForImagesAndFeatures) {
  auto images = make({2, 3, 5});
  randomize_parameters(images, 4);
  expect_gradients_match(images, {random_tensor({3, 2, 3, 5}, 5)});
  auto features = make({6});
  randomize_parameters(features, 6);
  expect_gradients_match(features, {random_tensor({4, 6}, 7)});
}

TEST(LayerNormTest, RejectsAnInputWhoseTrailingDimensionsDiffer) {
  auto norm = make({3, 4, 5});
  EXPECT_THAT(
      [&] {
        norm.forward({random_tensor({2, 3, 5, 4}, 1)}, Mode::train);
      },
      ThrowsMessage<ShapeError>(HasSubstr("expects input (N, ..., 3, 4, 5), got (2, 3, 5, 4)")));
  EXPECT_THROW(make({0, 3}), ShapeError);
}

}  // namespace
}  // namespace convoy
