#include "framework/layers/local_response_norm.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "framework/common/error.hpp"
#include "framework/layers/conv2d.hpp"
#include "support/layer_testing.hpp"

namespace convoy {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

using testing::expect_gradients_match;
using testing::expect_near;
using testing::random_tensor;

// PyTorch's definition (torch.nn.functional.local_response_norm): the channel window of c is
// [c - size/2, c + (size-1)/2], zero outside [0, C), and the sum is divided by size.
std::vector<float> reference_local_response_norm(const std::vector<float>& input,
                                                 const Shape& shape,
                                                 const LocalResponseNormOptions& o) {
  const int64_t N = shape[0], C = shape[1], area = shape[2] * shape[3];
  std::vector<float> output(input.size());
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < area; ++i) {
        double sum = 0;
        for (int64_t window = c - o.size / 2; window <= c + (o.size - 1) / 2; ++window) {
          if (window < 0 || window >= C) continue;
          const double value = input[(n * C + window) * area + i];
          sum += value * value;
        }
        const double a = input[(n * C + c) * area + i];
        const double divisor = std::pow(o.k + o.alpha / o.size * sum, o.beta);
        output[(n * C + c) * area + i] = static_cast<float>(a / divisor);
      }
  return output;
}

struct LrnCase {
  const char* name;
  Shape input;
  LocalResponseNormOptions options;
};

void PrintTo(const LrnCase& value, std::ostream* out) { *out << value.name; }

class LocalResponseNormCases : public ::testing::TestWithParam<LrnCase> {};

// Inputs in [-2, 2) so that alpha * sum(a^2) is comparable to k and the normalization matters.
Tensor lrn_input(const Shape& shape, uint64_t seed) { return random_tensor(shape, seed, -2, 2); }

TEST_P(LocalResponseNormCases, ForwardMatchesPyTorchsDefinition) {
  const auto& param = GetParam();
  LocalResponseNorm norm(param.options);
  Tensor input = lrn_input(param.input, 3);
  Tensor output = norm.forward({input}, Mode::train);
  EXPECT_EQ(output.shape(), param.input);
  expect_near(output.to_plain(),
              reference_local_response_norm(input.to_plain(), param.input, param.options), 1e-5);
}

TEST_P(LocalResponseNormCases, InputGradientMatchesFiniteDifferences) {
  const auto& param = GetParam();
  LocalResponseNorm norm(param.options);
  GradientCheckOptions options;
  options.step = 1e-3;  // the function curves strongly where a^2 dominates k
  options.max_elements_per_tensor = 300;
  expect_gradients_match(norm, {lrn_input(param.input, 5)}, options);
}

INSTANTIATE_TEST_SUITE_P(
    Options, LocalResponseNormCases,
    ::testing::Values(LrnCase{"AlexNet", {2, 7, 3, 3}, {5, 1e-4f, 0.75f, 2.0f}},
                      LrnCase{"AlexNetStrongAlpha", {2, 7, 3, 3}, {5, 1.0f, 0.75f, 2.0f}},
                      LrnCase{"Size3FewChannels", {1, 2, 4, 5}, {3, 0.5f, 0.75f, 1.0f}},
                      LrnCase{"Size1", {2, 3, 2, 2}, {1, 0.8f, 0.5f, 1.0f}},
                      LrnCase{"WindowWiderThanChannels", {1, 3, 3, 2}, {7, 1.5f, 0.6f, 1.5f}},
                      LrnCase{"Plain16Channels", {2, 16, 3, 5}, {5, 1.0f, 0.75f, 1.0f}}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(LocalResponseNormTest, MatchesPyTorchValues) {
  // torch.nn.LocalResponseNorm(3, alpha=1.0, beta=0.75, k=1.0) of this (1, 4, 1, 2) tensor.
  std::vector<float> values{0.5f, -1.0f, 2.0f, 0.25f, 1.5f, -0.75f, 1.0f, -2.0f};
  LocalResponseNorm norm({3, 1.0f, 0.75f, 1.0f});
  Tensor output = norm.forward({Tensor::from_plain({1, 4, 1, 2}, values)}, Mode::train);
  expect_near(output.to_plain(),
              {0.25796303f, -0.79661036f, 0.84251612f, 0.18069541f, 0.59688312f, -0.37258238f,
               0.57667470f, -0.99970502f},
              1e-6);
}

TEST(LocalResponseNormTest, WorksOnTheBlockedLayoutOfAConvolutionOutput) {
  Conv2d conv({3, 16, 3, 1, 1});
  testing::randomize_parameters(conv, 21);
  Tensor input = conv.forward({random_tensor({2, 3, 4, 5}, 22, -2, 2)}, Mode::train).clone();
  ASSERT_FALSE(input.layout().is_plain()) << input.layout().describe();
  const LocalResponseNormOptions options{5, 1.0f, 0.75f, 2.0f};
  LocalResponseNorm norm(options);
  Tensor output = norm.forward({input}, Mode::train);
  EXPECT_EQ(output.layout(), input.layout()) << "LRN keeps its input's layout";
  expect_near(output.to_plain(),
              reference_local_response_norm(input.to_plain(), input.shape(), options), 1e-5);
  GradientCheckOptions check;
  check.step = 1e-3;
  check.max_elements_per_tensor = 300;
  expect_gradients_match(norm, {input}, check);
}

TEST(LocalResponseNormTest, RejectsEvenSizesAndBadConstantsWithMessagesNamingTheLayer) {
  EXPECT_THAT(
      [&] {
        LocalResponseNorm norm({4, 1e-4f, 0.75f, 1.0f});
      },
      ThrowsMessage<ShapeError>(AllOf(HasSubstr("LocalResponseNorm(size=4"),
                                      HasSubstr("size must be a positive odd number"))));
  EXPECT_THROW(LocalResponseNorm({0, 1e-4f, 0.75f, 1.0f}), ShapeError);
  EXPECT_THROW(LocalResponseNorm({5, 1e-4f, 0.75f, 0.0f}), ShapeError);
  LocalResponseNorm norm({5, 1e-4f, 0.75f, 2.0f});
  EXPECT_THAT(
      [&] {
        norm.forward({random_tensor({2, 6}, 1)}, Mode::train);
      },
      ThrowsMessage<ShapeError>(HasSubstr("expects an (N, C, H, W) input, got (2, 6)")));
}

}  // namespace
}  // namespace convoy
