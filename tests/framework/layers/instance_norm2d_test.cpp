#include "framework/layers/instance_norm2d.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "framework/common/error.hpp"
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

// torch.nn.InstanceNorm2d by definition: statistics over H x W per (n, c).
std::vector<float> reference_instance_norm(const std::vector<float>& x, const Shape& shape,
                                           const std::vector<float>& gamma,
                                           const std::vector<float>& beta, double eps) {
  const int64_t C = shape[1], HW = shape[2] * shape[3];
  return testing::reference_normalize_runs(x, HW, eps, gamma, beta,
                                           [&](int64_t i) { return (i / HW) % C; });
}

InstanceNorm2d make(int64_t channels, bool affine) {
  InstanceNorm2dOptions options;
  options.channels = channels;
  options.affine = affine;
  return InstanceNorm2d(options);
}

TEST(InstanceNorm2dTest, DefaultsToNoAffineLikeTorch) {
  InstanceNorm2d norm(InstanceNorm2dOptions{3});
  EXPECT_TRUE(norm.parameters().empty());
  EXPECT_TRUE(norm.buffers().empty());
  EXPECT_EQ(norm.describe(), "InstanceNorm2d(3, eps=1e-05)");
}

TEST(InstanceNorm2dTest, ForwardMatchesReferenceWithAndWithoutAffine) {
  const Shape shape{3, 2, 4, 5};
  Tensor input = random_tensor(shape, 1, -2.0f, 1.0f);
  auto plain = make(2, false);
  expect_near(plain.forward({input}, Mode::train).to_plain(),
              reference_instance_norm(input.to_plain(), shape, {}, {}, 1e-5), 1e-5);
  auto affine = make(2, true);
  randomize_parameters(affine, 2);
  auto expected =
      reference_instance_norm(input.to_plain(), shape, affine.weight()->value.to_plain(),
                              affine.bias()->value.to_plain(), 1e-5);
  expect_near(affine.forward({input}, Mode::eval).to_plain(), expected, 1e-5);
}

TEST(InstanceNorm2dTest, GradientsMatchFiniteDifferences) {
  auto plain = make(3, false);
  expect_gradients_match(plain, {random_tensor({2, 3, 3, 5}, 3)});
  auto affine = make(3, true);
  randomize_parameters(affine, 4);
  expect_gradients_match(affine, {random_tensor({2, 3, 5, 3}, 5)});
}

TEST(InstanceNorm2dTest, RejectsWrongChannelsAndSingleElementPlanes) {
  auto norm = make(3, false);
  EXPECT_THAT(
      [&] {
        norm.forward({random_tensor({2, 4, 3, 3}, 1)}, Mode::train);
      },
      ThrowsMessage<ShapeError>(
          AllOf(HasSubstr("InstanceNorm2d(3"), HasSubstr("(N, 3, H, W), got (2, 4, 3, 3)"))));
  EXPECT_THAT(
      [&] {
        norm.forward({random_tensor({2, 3, 1, 1}, 1)}, Mode::train);
      },
      ThrowsMessage<ShapeError>(HasSubstr("more than one spatial element")));
}

}  // namespace
}  // namespace convoy
