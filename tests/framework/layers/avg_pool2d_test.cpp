#include "framework/layers/avg_pool2d.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "framework/common/error.hpp"
#include "framework/layers/conv2d.hpp"
#include "support/layer_testing.hpp"
#include "support/pooling_reference.hpp"

namespace convoy {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

using testing::expect_gradients_match;
using testing::expect_near;
using testing::random_tensor;
using testing::reference_pool2d;

// The definition: the window's sum over kernel^2 (count_include_pad) or over its in-bounds
// elements, summed in double.
std::vector<float> reference_avg_pool2d(const std::vector<float>& input, const Shape& shape,
                                        const AvgPool2dOptions& o, const Shape& output_shape) {
  return reference_pool2d(input, shape, output_shape, {o.kernel, o.stride, o.padding},
                          [&](const std::vector<float>& values) {
                            double sum = 0;
                            for (float value : values) sum += value;
                            const auto divisor = o.count_include_pad
                                                     ? o.kernel * o.kernel
                                                     : static_cast<int64_t>(values.size());
                            return static_cast<float>(sum / divisor);
                          });
}

AvgPool2dOptions make(int64_t kernel, int64_t stride, int64_t padding,
                      bool count_include_pad = true) {
  return {kernel, stride, padding, count_include_pad};
}

struct AvgPool2dCase {
  const char* name;
  Shape input;
  AvgPool2dOptions options;
};

void PrintTo(const AvgPool2dCase& value, std::ostream* out) { *out << value.name; }

class AvgPool2dCases : public ::testing::TestWithParam<AvgPool2dCase> {};

TEST_P(AvgPool2dCases, ForwardMatchesReferenceLoop) {
  const auto& param = GetParam();
  AvgPool2d pool(param.options);
  Tensor input = random_tensor(param.input, 3);
  Tensor output = pool.forward({input}, Mode::train);
  auto expected =
      reference_avg_pool2d(input.to_plain(), param.input, pool.options(), output.shape());
  expect_near(output.to_plain(), expected, 1e-5);
}

TEST_P(AvgPool2dCases, InputGradientMatchesFiniteDifferences) {
  const auto& param = GetParam();
  AvgPool2d pool(param.options);
  expect_gradients_match(pool, {random_tensor(param.input, 5)});
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, AvgPool2dCases,
    ::testing::Values(AvgPool2dCase{"Kernel2DefaultStride", {2, 3, 8, 8}, make(2, 0, 0)},
                      AvgPool2dCase{"OddSizeStride2IncludePad", {2, 3, 7, 9}, make(3, 2, 1)},
                      AvgPool2dCase{"OddSizeStride2ExcludePad", {2, 3, 7, 9}, make(3, 2, 1, false)},
                      AvgPool2dCase{"Stride1Padding1", {1, 2, 5, 6}, make(3, 1, 1)},
                      AvgPool2dCase{"StrideNotDividingTheInput", {1, 2, 10, 11}, make(3, 3, 0)},
                      AvgPool2dCase{"Kernel5Padding2Exclude", {2, 2, 6, 9}, make(5, 2, 2, false)}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(AvgPool2dTest, MatchesPyTorchWithAndWithoutPaddingInTheCount) {
  // torch.nn.AvgPool2d(3, 2, 1, count_include_pad=...) of arange(25) shaped (1, 1, 5, 5).
  std::vector<float> ramp(25);
  for (int i = 0; i < 25; ++i) ramp[i] = static_cast<float>(i);
  Tensor input = Tensor::from_plain({1, 1, 5, 5}, ramp);
  AvgPool2d include(make(3, 2, 1, true));
  expect_near(include.forward({input}, Mode::train).to_plain(),
              {1.3333333f, 3.0f, 2.6666667f, 7.0f, 12.0f, 9.0f, 8.0f, 13.0f, 9.3333330f}, 1e-6);
  AvgPool2d exclude(make(3, 2, 1, false));
  expect_near(exclude.forward({input}, Mode::train).to_plain(),
              {3.0f, 4.5f, 6.0f, 10.5f, 12.0f, 13.5f, 18.0f, 19.5f, 21.0f}, 1e-6);
}

TEST(AvgPool2dTest, WorksOnTheBlockedLayoutOfAConvolutionOutput) {
  Conv2d conv({3, 16, 3, 1, 1});
  testing::randomize_parameters(conv, 21);
  Tensor input = conv.forward({random_tensor({2, 3, 9, 7}, 22)}, Mode::train).clone();
  ASSERT_FALSE(input.layout().is_plain()) << input.layout().describe();
  for (bool include : {true, false}) {
    AvgPool2d pool(make(3, 2, 1, include));
    Tensor output = pool.forward({input}, Mode::train);
    EXPECT_EQ(output.shape(), (Shape{2, 16, 5, 4}));
    expect_near(
        output.to_plain(),
        reference_avg_pool2d(input.to_plain(), input.shape(), pool.options(), output.shape()),
        1e-5);
    expect_gradients_match(pool, {input}, {.max_elements_per_tensor = 300});
    auto grads = pool.backward(Tensor::zeros(output.shape()));
    EXPECT_EQ(grads.at(0).layout(), input.layout());
  }
}

TEST(AvgPool2dTest, WindowAndDescriptionReportTheOptions) {
  AvgPool2d pool(make(3, 2, 1, false));
  EXPECT_EQ(pool.window().kernel, 3);
  EXPECT_EQ(pool.window().stride, 2);
  EXPECT_EQ(pool.window().padding, 1);
  EXPECT_EQ(pool.window().dilation, 1);
  EXPECT_EQ(pool.describe(), "AvgPool2d(kernel=3, stride=2, padding=1, count_include_pad=false)");
  EXPECT_EQ(AvgPool2d(make(2, 0, 0)).window().stride, 2) << "stride defaults to the kernel";
}

TEST(AvgPool2dTest, RejectsBadOptionsAndInputsWithMessagesNamingTheLayer) {
  EXPECT_THAT([&] { AvgPool2d pool(make(2, 2, 2)); },
              ThrowsMessage<ShapeError>(
                  HasSubstr("AvgPool2d(kernel=2, stride=2, padding=2): padding must be between 0 "
                            "and kernel / 2 = 1, got 2")));
  EXPECT_THROW(AvgPool2d(make(2, -1, 0)), ShapeError);
  AvgPool2d pool(make(4, 1, 0));
  EXPECT_THAT(
      [&] {
        pool.forward({random_tensor({1, 2, 3, 8}, 1)}, Mode::train);
      },
      ThrowsMessage<ShapeError>(HasSubstr("input (1, 2, 3, 8) is smaller than the 4x4 window")));
}

}  // namespace
}  // namespace convoy
