#include "framework/layers/adaptive_avg_pool2d.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "framework/common/error.hpp"
#include "framework/layers/conv2d.hpp"
#include "support/layer_testing.hpp"

namespace convoy {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

using testing::expect_gradients_match;
using testing::expect_near;
using testing::random_tensor;

// torch.nn.AdaptiveAvgPool2d's definition: cell i averages [floor(i*H/out), ceil((i+1)*H/out)).
std::vector<float> reference_adaptive_avg_pool2d(const std::vector<float>& input,
                                                 const Shape& shape, int64_t OH, int64_t OW) {
  const int64_t planes = shape[0] * shape[1], H = shape[2], W = shape[3];
  std::vector<float> output(static_cast<size_t>(planes * OH * OW));
  for (int64_t plane = 0; plane < planes; ++plane)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        const int64_t h0 = oh * H / OH, h1 = ((oh + 1) * H + OH - 1) / OH;
        const int64_t w0 = ow * W / OW, w1 = ((ow + 1) * W + OW - 1) / OW;
        double sum = 0;
        for (int64_t h = h0; h < h1; ++h)
          for (int64_t w = w0; w < w1; ++w) sum += input[(plane * H + h) * W + w];
        output[(plane * OH + oh) * OW + ow] = static_cast<float>(sum / ((h1 - h0) * (w1 - w0)));
      }
  return output;
}

struct AdaptiveCase {
  const char* name;
  Shape input;
  int64_t output_h, output_w;
};

void PrintTo(const AdaptiveCase& value, std::ostream* out) { *out << value.name; }

class AdaptiveAvgPool2dCases : public ::testing::TestWithParam<AdaptiveCase> {};

TEST_P(AdaptiveAvgPool2dCases, ForwardMatchesReferenceLoop) {
  const auto& param = GetParam();
  AdaptiveAvgPool2d pool({param.output_h, param.output_w});
  Tensor input = random_tensor(param.input, 3);
  Tensor output = pool.forward({input}, Mode::train);
  EXPECT_EQ(output.shape(),
            (Shape{param.input[0], param.input[1], param.output_h, param.output_w}));
  expect_near(
      output.to_plain(),
      reference_adaptive_avg_pool2d(input.to_plain(), param.input, param.output_h, param.output_w),
      1e-5);
}

TEST_P(AdaptiveAvgPool2dCases, InputGradientMatchesFiniteDifferences) {
  const auto& param = GetParam();
  AdaptiveAvgPool2d pool({param.output_h, param.output_w});
  expect_gradients_match(pool, {random_tensor(param.input, 5)});
}

INSTANTIATE_TEST_SUITE_P(Sizes, AdaptiveAvgPool2dCases,
                         ::testing::Values(
                             // Uniform bins: the oneDNN pooling path.
                             AdaptiveCase{"UniformHalving", {2, 3, 8, 6}, 4, 3},
                             AdaptiveCase{"UniformIdentity7x7", {1, 2, 7, 7}, 7, 7},
                             AdaptiveCase{"UniformGlobal", {2, 3, 5, 3}, 1, 1},
                             // Uneven or overlapping bins: the loop path.
                             AdaptiveCase{"UnevenBins", {2, 3, 5, 7}, 3, 4},
                             AdaptiveCase{"OverlappingBins10To7", {1, 2, 10, 10}, 7, 7},
                             AdaptiveCase{"UpsampleFrom1x1To7x7", {2, 2, 1, 1}, 7, 7},
                             AdaptiveCase{"UpsampleFrom2x3To7x7", {1, 3, 2, 3}, 7, 7},
                             AdaptiveCase{"OnlyOneAxisUniform", {2, 2, 6, 5}, 3, 2}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(AdaptiveAvgPool2dTest, MatchesPyTorchOnRamps) {
  // torch.nn.AdaptiveAvgPool2d((2, 3)) of arange(15) shaped (1, 1, 3, 5).
  std::vector<float> ramp(15);
  for (int i = 0; i < 15; ++i) ramp[i] = static_cast<float>(i);
  AdaptiveAvgPool2d down({2, 3});
  expect_near(down.forward({Tensor::from_plain({1, 1, 3, 5}, ramp)}, Mode::train).to_plain(),
              {3.0f, 4.5f, 6.0f, 8.0f, 9.5f, 11.0f}, 1e-6);
  // torch.nn.AdaptiveAvgPool2d((4, 7)) of arange(6) shaped (1, 1, 2, 3): out > in repeats.
  ramp.resize(6);
  AdaptiveAvgPool2d up({4, 7});
  expect_near(up.forward({Tensor::from_plain({1, 1, 2, 3}, ramp)}, Mode::train).to_plain(),
              {0.0f, 0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 2.0f, 0.0f, 0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 2.0f,
               3.0f, 3.0f, 3.5f, 4.0f, 4.5f, 5.0f, 5.0f, 3.0f, 3.0f, 3.5f, 4.0f, 4.5f, 5.0f, 5.0f},
              1e-6);
}

TEST(AdaptiveAvgPool2dTest, WorksOnTheBlockedLayoutOfAConvolutionOutputOnBothPaths) {
  Conv2d conv({3, 16, 3, 1, 1});
  testing::randomize_parameters(conv, 21);
  Tensor input = conv.forward({random_tensor({2, 3, 6, 6}, 22)}, Mode::train).clone();
  ASSERT_FALSE(input.layout().is_plain()) << input.layout().describe();
  // 6 -> 3 is uniform (oneDNN keeps the blocked layout); 6 -> 4 needs the loop (plain output).
  for (int64_t out : {3, 4}) {
    AdaptiveAvgPool2d pool({out, out});
    Tensor output = pool.forward({input}, Mode::train);
    EXPECT_EQ(output.layout().is_plain(), out == 4) << output.layout().describe();
    expect_near(output.to_plain(),
                reference_adaptive_avg_pool2d(input.to_plain(), input.shape(), out, out), 1e-5);
    expect_gradients_match(pool, {input}, {.max_elements_per_tensor = 300});
  }
}

TEST(AdaptiveAvgPool2dTest, AcceptsAnyInputSizeForTheSameOutputSize) {
  AdaptiveAvgPool2d pool({7, 7});
  for (int64_t size : {1, 3, 7, 9, 14}) {
    Tensor input = random_tensor({1, 2, size, size + 1}, size);
    Tensor output = pool.forward({input}, Mode::eval);
    EXPECT_EQ(output.shape(), (Shape{1, 2, 7, 7}));
    expect_near(output.to_plain(),
                reference_adaptive_avg_pool2d(input.to_plain(), input.shape(), 7, 7), 1e-5);
  }
}

TEST(AdaptiveAvgPool2dTest, WindowIsTheWidestBinOnceTheInputIsKnown) {
  AdaptiveAvgPool2d pool({3, 3});
  EXPECT_EQ(pool.window().kernel, 1) << "identity window before the first forward";
  pool.forward({random_tensor({1, 1, 7, 7}, 1)}, Mode::eval);
  EXPECT_EQ(pool.window().kernel, 3);  // bins [0, 3), [2, 5), [4, 7)
  EXPECT_EQ(pool.window().stride, 2);
  EXPECT_EQ(pool.describe(), "AdaptiveAvgPool2d(3, 3)");
  // A 1x1 output keeps the identity window: Net::summarize widens it to the whole map.
  AdaptiveAvgPool2d global({1, 1});
  global.forward({random_tensor({1, 1, 7, 7}, 1)}, Mode::eval);
  EXPECT_EQ(global.window().kernel, 1);
}

TEST(AdaptiveAvgPool2dTest, RejectsAnEmptyOutputAndNonImageInputs) {
  EXPECT_THAT(
      [&] {
        AdaptiveAvgPool2d pool({0, 7});
      },
      ThrowsMessage<ShapeError>(HasSubstr("output size must be at least 1x1, got 0x7")));
  AdaptiveAvgPool2d pool({2, 2});
  EXPECT_THAT(
      [&] {
        pool.forward({random_tensor({3, 4, 5}, 1)}, Mode::train);
      },
      ThrowsMessage<ShapeError>(
          HasSubstr("AdaptiveAvgPool2d(2, 2): expects an (N, C, H, W) input, got (3, 4, 5)")));
}

}  // namespace
}  // namespace convoy
