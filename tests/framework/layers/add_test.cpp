#include "framework/layers/add.hpp"

#include "framework/common/error.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "framework/layers/conv2d.hpp"
#include "support/layer_testing.hpp"

namespace convoy {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

using testing::expect_gradients_match;
using testing::random_tensor;

TEST(AddTest, SumsTwoBranchesElementWise) {
  for (bool fuse_relu : {false, true}) {
    Add add({fuse_relu});
    Tensor a = random_tensor({2, 3, 4, 5}, 1), b = random_tensor({2, 3, 4, 5}, 2);
    auto x = a.to_plain(), y = b.to_plain();
    auto out = add.forward({a, b}, Mode::train).to_plain();
    for (size_t i = 0; i < x.size(); ++i) {
      const float sum = x[i] + y[i];
      ASSERT_FLOAT_EQ(out[i], fuse_relu ? std::max(sum, 0.0f) : sum) << i;
    }
  }
}

TEST(AddTest, GradientsMatchFiniteDifferences) {
  Add add;
  expect_gradients_match(add, {random_tensor({2, 3, 3, 4}, 3), random_tensor({2, 3, 3, 4}, 4)});
}

TEST(AddTest, FusedReluGradientsMatchFiniteDifferences) {
  Add add({true});
  GradientCheckOptions options;
  options.step = 1e-3;
  options.kink_range = 1e-2;  // each input's partner shifts the kink; keep both away from 0
  expect_gradients_match(
      add,
      {random_tensor({2, 3, 3, 4}, 5, 0.1f, 1.0f), random_tensor({2, 3, 3, 4}, 6, -1.0f, 1.0f)},
      options);
}

TEST(AddTest, AcceptsBranchesInDifferentLayouts) {
  Conv2dOptions options;
  options.in_channels = 3;
  options.out_channels = 16;
  options.kernel = 3;
  options.padding = 1;
  Conv2d conv(options);
  testing::randomize_parameters(conv, 1);
  Tensor blocked = conv.forward({random_tensor({2, 3, 5, 5}, 2)}, Mode::train);
  Tensor plain = random_tensor({2, 16, 5, 5}, 3);
  Add add;
  auto out = add.forward({blocked, plain}, Mode::train).to_plain();
  auto x = blocked.to_plain(), y = plain.to_plain();
  for (size_t i = 0; i < x.size(); ++i) ASSERT_FLOAT_EQ(out[i], x[i] + y[i]) << i;
}

TEST(AddTest, RejectsBranchesOfDifferentShapesNamingBoth) {
  Add add;
  EXPECT_THAT(
      [&] {
        add.forward({random_tensor({1, 4, 2, 2}, 1), random_tensor({1, 8, 1, 1}, 2)}, Mode::train);
      },
      ThrowsMessage<ShapeError>(HasSubstr("got (1, 4, 2, 2) and (1, 8, 1, 1)")));
}

}  // namespace
}  // namespace convoy
