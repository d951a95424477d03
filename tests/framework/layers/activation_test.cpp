#include "framework/layers/activation.hpp"

#include "framework/common/error.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "framework/layers/conv2d.hpp"
#include "support/layer_testing.hpp"

namespace convoy {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

using testing::expect_gradients_match;
using testing::expect_near;
using testing::random_tensor;

double reference(const ActivationOptions& o, double x) {
  switch (o.kind) {
    case ActivationKind::relu:
      return x > 0 ? x : o.alpha * x;
    case ActivationKind::elu:
      return x > 0 ? x : o.alpha * (std::exp(x) - 1);
    case ActivationKind::tanh:
      return std::tanh(x);
    case ActivationKind::logistic:
      return 1 / (1 + std::exp(-x));
    case ActivationKind::gelu_erf:
      return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
    case ActivationKind::swish:
      return x / (1 + std::exp(-o.alpha * x));
    case ActivationKind::hardswish:
      return x * std::min(std::max(x + 3, 0.0), 6.0) / 6;
    case ActivationKind::abs:
      return std::abs(x);
    case ActivationKind::square:
      return x * x;
    case ActivationKind::clip:
      return std::min(std::max(x, double(o.alpha)), double(o.beta));
  }
  return 0;
}

struct ActivationCase {
  const char* name;
  ActivationOptions options;
};
void PrintTo(const ActivationCase& value, std::ostream* out) { *out << value.name; }

class ActivationCases : public ::testing::TestWithParam<ActivationCase> {};

TEST_P(ActivationCases, ForwardMatchesReferenceFormula) {
  Activation layer(GetParam().options);
  Tensor input = random_tensor({2, 3, 5, 7}, 1, -3.0f, 3.0f);
  auto x = input.to_plain();
  std::vector<float> expected(x.size());
  for (size_t i = 0; i < x.size(); ++i)
    expected[i] = static_cast<float>(reference(GetParam().options, x[i]));
  expect_near(layer.forward({input}, Mode::train).to_plain(), expected, 1e-5);
}

TEST_P(ActivationCases, InputGradientMatchesFiniteDifferences) {
  Activation layer(GetParam().options);
  GradientCheckOptions options;
  options.step = 1e-3;
  // Kinks of relu/abs/clip at 0 (and the clip bounds): stay away from them.
  options.kink = 0.0;
  options.kink_range = 2e-3;
  Tensor input = random_tensor({2, 3, 4, 5}, 2, -2.5f, 2.5f);
  expect_gradients_match(layer, {input}, options);
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, ActivationCases,
    ::testing::Values(ActivationCase{"ReLU", {ActivationKind::relu, 0.0f, 0.0f}},
                      ActivationCase{"LeakyReLU", {ActivationKind::relu, 0.1f, 0.0f}},
                      ActivationCase{"ELU", {ActivationKind::elu, 1.0f, 0.0f}},
                      ActivationCase{"Tanh", {ActivationKind::tanh, 0.0f, 0.0f}},
                      ActivationCase{"Sigmoid", {ActivationKind::logistic, 0.0f, 0.0f}},
                      ActivationCase{"GELU", {ActivationKind::gelu_erf, 0.0f, 0.0f}},
                      ActivationCase{"SiLU", {ActivationKind::swish, 1.0f, 0.0f}},
                      ActivationCase{"Hardswish", {ActivationKind::hardswish, 0.0f, 0.0f}},
                      ActivationCase{"Square", {ActivationKind::square, 0.0f, 0.0f}}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(ActivationTest, KeepsTheBlockedLayoutOfAConvolutionOutput) {
  Conv2dOptions conv_options;
  conv_options.in_channels = 3;
  conv_options.out_channels = 16;
  conv_options.kernel = 3;
  conv_options.padding = 1;
  Conv2d conv(conv_options);
  testing::randomize_parameters(conv, 3);
  Tensor features = conv.forward({random_tensor({2, 3, 6, 6}, 4)}, Mode::train);
  Activation relu_layer(relu());
  Tensor output = relu_layer.forward({features}, Mode::train);
  EXPECT_EQ(output.layout(), features.layout()) << output.layout().describe();
  auto x = features.to_plain();
  auto y = output.to_plain();
  for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(y[i], std::max(x[i], 0.0f)) << i;
  GradientCheckOptions options;
  options.kink_range = 2e-2;
  options.max_elements_per_tensor = 100;
  expect_gradients_match(relu_layer, {features}, options);
}

TEST(ActivationTest, DescribesItselfLikePyTorch) {
  EXPECT_EQ(Activation(relu()).describe(), "ReLU");
  EXPECT_EQ(Activation({ActivationKind::relu, 0.01f, 0.0f}).describe(), "LeakyReLU(0.01)");
  EXPECT_EQ(Activation({ActivationKind::clip, 0.0f, 6.0f}).describe(), "Clip(0, 6)");
}

TEST(ActivationTest, RejectsAClipWithBoundsReversed) {
  EXPECT_THAT(
      [&] {
        Activation layer({ActivationKind::clip, 6.0f, 0.0f});
      },
      ThrowsMessage<ShapeError>(HasSubstr("alpha (lower bound) <= beta")));
}

}  // namespace
}  // namespace convoy
