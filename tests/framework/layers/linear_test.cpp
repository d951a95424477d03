#include "framework/layers/linear.hpp"

#include "framework/common/error.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "framework/layers/flatten.hpp"
#include "support/layer_testing.hpp"

namespace convoy {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

using testing::expect_gradients_match;
using testing::expect_near;
using testing::random_tensor;
using testing::randomize_parameters;

TEST(LinearTest, ForwardMatchesReferenceLoop) {
  for (bool bias : {true, false}) {
    Linear linear({7, 5, bias});
    randomize_parameters(linear, 2);
    Tensor input = random_tensor({3, 7}, 1);
    auto x = input.to_plain();
    auto w = linear.weight().value.to_plain();
    std::vector<float> b = bias ? linear.bias()->value.to_plain() : std::vector<float>(5, 0.0f);
    std::vector<float> expected(15);
    for (int n = 0; n < 3; ++n)
      for (int o = 0; o < 5; ++o) {
        double sum = b[o];
        for (int i = 0; i < 7; ++i) sum += double(x[n * 7 + i]) * w[o * 7 + i];
        expected[n * 5 + o] = static_cast<float>(sum);
      }
    expect_near(linear.forward({input}, Mode::train).to_plain(), expected, 1e-5);
  }
}

TEST(LinearTest, GradientsMatchFiniteDifferences) {
  Linear linear({9, 4, true});
  randomize_parameters(linear, 3);
  expect_gradients_match(linear, {random_tensor({5, 9}, 4)});
}

TEST(LinearTest, RejectsAFourDimensionalInputAndSuggestsFlatten) {
  Linear linear({12, 2, true});
  EXPECT_THAT(
      [&] {
        linear.forward({random_tensor({1, 3, 2, 2}, 1)}, Mode::train);
      },
      ThrowsMessage<ShapeError>(HasSubstr(
          "Linear(12, 2): expects input (N, 12), got (1, 3, 2, 2) (add a Flatten first)")));
}

TEST(FlattenTest, FlattensInPyTorchOrderAndRestoresTheShapeInBackward) {
  Flatten flatten;
  Tensor input = random_tensor({2, 3, 2, 5}, 5);
  Tensor output = flatten.forward({input}, Mode::train);
  EXPECT_EQ(output.shape(), (Shape{2, 30}));
  EXPECT_EQ(output.to_plain(), input.to_plain());
  Tensor grad = random_tensor({2, 30}, 6);
  auto input_grads = flatten.backward(grad);
  EXPECT_EQ(input_grads[0].shape(), (Shape{2, 3, 2, 5}));
  EXPECT_EQ(input_grads[0].to_plain(), grad.to_plain());
}

TEST(FlattenTest, GradientMatchesFiniteDifferences) {
  Flatten flatten;
  expect_gradients_match(flatten, {random_tensor({2, 4, 3, 3}, 7)});
}

}  // namespace
}  // namespace convoy
