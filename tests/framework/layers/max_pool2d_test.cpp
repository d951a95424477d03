#include "framework/layers/max_pool2d.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <numeric>
#include <random>

#include "framework/common/error.hpp"
#include "framework/kernels/kernel_timing.hpp"
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

// The definition: the max over the dilated window, padded positions excluded.
std::vector<float> reference_max_pool2d(const std::vector<float>& input, const Shape& shape,
                                        const MaxPool2dOptions& o, const Shape& output_shape) {
  return reference_pool2d(input, shape, output_shape, {o.kernel, o.stride, o.padding, o.dilation},
                          [](const std::vector<float>& values) {
                            float best = -std::numeric_limits<float>::infinity();
                            for (float value : values) best = std::max(best, value);
                            return best;
                          });
}

// A random permutation of 0.1 * i: no ties, and neighbours are 0.1 apart, ten times the
// finite-difference step, so a perturbation never changes which element wins a window.
std::vector<float> distinct_values(int64_t count, uint64_t seed) {
  std::vector<float> values(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) values[i] = 0.1f * static_cast<float>(i - count / 2);
  std::mt19937_64 generator(seed);
  std::shuffle(values.begin(), values.end(), generator);
  return values;
}

Tensor distinct_tensor(const Layout& layout, uint64_t seed) {
  Tensor tensor(layout);
  tensor.copy_from_plain(distinct_values(element_count(layout.dims()), seed));
  return tensor;
}

MaxPool2dOptions make(int64_t kernel, int64_t stride, int64_t padding, int64_t dilation = 1) {
  return {kernel, stride, padding, dilation};
}

struct MaxPool2dCase {
  const char* name;
  Shape input;
  MaxPool2dOptions options;
};

void PrintTo(const MaxPool2dCase& value, std::ostream* out) { *out << value.name; }

class MaxPool2dCases : public ::testing::TestWithParam<MaxPool2dCase> {};

TEST_P(MaxPool2dCases, ForwardMatchesReferenceLoop) {
  const auto& param = GetParam();
  MaxPool2d pool(param.options);
  Tensor input = random_tensor(param.input, 3);
  Tensor output = pool.forward({input}, Mode::train);
  auto expected =
      reference_max_pool2d(input.to_plain(), param.input, pool.options(), output.shape());
  expect_near(output.to_plain(), expected, 0.0);
}

TEST_P(MaxPool2dCases, InputGradientMatchesFiniteDifferences) {
  const auto& param = GetParam();
  MaxPool2d pool(param.options);
  expect_gradients_match(pool, {distinct_tensor(Layout::plain(param.input), 5)});
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, MaxPool2dCases,
    ::testing::Values(MaxPool2dCase{"Kernel2DefaultStride", {2, 3, 8, 8}, make(2, 0, 0)},
                      MaxPool2dCase{"OddSizeStride2Padding1", {2, 3, 7, 9}, make(3, 2, 1)},
                      MaxPool2dCase{"Stride1Padding1", {1, 2, 5, 6}, make(3, 1, 1)},
                      MaxPool2dCase{"StrideNotDividingTheInput", {1, 2, 10, 11}, make(3, 3, 0)},
                      MaxPool2dCase{"Dilation2", {2, 2, 9, 8}, make(3, 1, 1, 2)},
                      MaxPool2dCase{"Dilation2Stride2", {1, 3, 11, 10}, make(2, 2, 1, 2)},
                      MaxPool2dCase{"Kernel5Padding2", {2, 2, 9, 9}, make(5, 2, 2)}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(MaxPool2dTest, MatchesPyTorchOnAnAlternatingRamp) {
  // torch.nn.MaxPool2d(3, 2, 1, dilation=2) of arange(49) * (-1)^i, shaped (1, 1, 7, 7).
  std::vector<float> values(49);
  for (int i = 0; i < 49; ++i) values[i] = static_cast<float>(i % 2 == 0 ? i : -i);
  MaxPool2d pool(make(3, 2, 1, 2));
  Tensor output = pool.forward({Tensor::from_plain({1, 1, 7, 7}, values)}, Mode::train);
  EXPECT_EQ(output.shape(), (Shape{1, 1, 3, 3}));
  expect_near(output.to_plain(), {24, 26, 26, 38, 40, 40, 38, 40, 40}, 0.0);
}

// The input a pooling sees inside a CNN: a convolution's output in oneDNN's blocked layout.
Tensor blocked_conv_output(const Shape& input_shape) {
  Conv2d conv({input_shape[1], 16, 3, 1, 1});
  testing::randomize_parameters(conv, 21);
  return conv.forward({random_tensor(input_shape, 22)}, Mode::train).clone();
}

TEST(MaxPool2dTest, WorksOnTheBlockedLayoutOfAConvolutionOutput) {
  Tensor input = blocked_conv_output({2, 3, 9, 7});
  ASSERT_FALSE(input.layout().is_plain()) << input.layout().describe();
  MaxPool2d pool(make(3, 2, 1));
  Tensor output = pool.forward({input}, Mode::train);
  EXPECT_EQ(output.shape(), (Shape{2, 16, 5, 4}));
  expect_near(output.to_plain(),
              reference_max_pool2d(input.to_plain(), input.shape(), pool.options(), output.shape()),
              0.0);

  Tensor distinct = distinct_tensor(input.layout(), 8);
  expect_gradients_match(pool, {distinct}, {.max_elements_per_tensor = 300});
  auto grads = pool.backward(Tensor::zeros(output.shape()));
  EXPECT_EQ(grads.at(0).layout(), input.layout()) << "the input gradient keeps the input layout";
}

TEST(MaxPool2dTest, RebuildsWhenTheInputLayoutChangesAtTheSameShape) {
  Tensor blocked = blocked_conv_output({1, 3, 6, 6});
  Tensor plain = Tensor::from_plain(blocked.shape(), blocked.to_plain());
  MaxPool2d pool(make(2, 2, 0));
  auto from_blocked = pool.forward({blocked}, Mode::eval).to_plain();
  auto from_plain = pool.forward({plain}, Mode::eval).to_plain();
  expect_near(from_plain, from_blocked, 0.0);
  expect_near(from_plain,
              reference_max_pool2d(plain.to_plain(), plain.shape(), pool.options(), {1, 16, 3, 3}),
              0.0);
}

TEST(MaxPool2dTest, GradientGoesToTheWinnerOfEachWindow) {
  // Non-overlapping 2x2 windows: exactly the max of each window receives the output gradient.
  std::vector<float> values{1, 5, 2, 0, 3, 4, 8, 7, 6, 2, 1, 9, 0, 1, 3, 2};
  MaxPool2d pool(make(2, 2, 0));
  pool.forward({Tensor::from_plain({1, 1, 4, 4}, values)}, Mode::train);
  auto grads = pool.backward(Tensor::from_plain({1, 1, 2, 2}, std::vector<float>{10, 20, 30, 40}));
  expect_near(grads.at(0).to_plain(), {0, 10, 0, 0, 0, 0, 20, 0, 30, 0, 0, 40, 0, 0, 0, 0}, 0.0);
}

TEST(MaxPool2dTest, ForwardAndBackwardRunThroughTheTimedExecutePath) {
  MaxPool2d pool(make(2, 2, 0));
  Tensor input = random_tensor({1, 2, 4, 4}, 1);
  pool.forward({input}, Mode::train);  // builds the kernel outside the timed window
  kernels::reset_kernel_timing();
  kernels::set_kernel_timing(true);
  pool.forward({input}, Mode::train);
  pool.backward(Tensor::zeros({1, 2, 2, 2}));
  kernels::set_kernel_timing(false);
  EXPECT_EQ(kernels::kernel_timing().compute_calls, 2) << "one pooling forward, one backward";
  kernels::reset_kernel_timing();
}

TEST(MaxPool2dTest, OutputSizeFollowsPyTorchsFloorFormula) {
  struct Expectation {
    int64_t size;
    MaxPool2dOptions options;
    int64_t output;
  };
  for (const auto& e : {Expectation{112, make(3, 2, 1), 56}, Expectation{55, make(3, 2, 0), 27},
                        Expectation{13, make(3, 2, 0), 6}, Expectation{7, make(2, 2, 0), 3},
                        Expectation{9, make(3, 1, 1, 3), 5}}) {
    MaxPool2d pool(e.options);
    EXPECT_EQ(pool.output_shape({{2, 4, e.size, e.size}}), (Shape{2, 4, e.output, e.output}))
        << pool.describe() << " on size " << e.size;
  }
}

TEST(MaxPool2dTest, WindowReportsKernelStridePaddingAndDilation) {
  auto window = MaxPool2d(make(3, 2, 1, 2)).window();
  EXPECT_EQ(window.kernel, 3);
  EXPECT_EQ(window.stride, 2);
  EXPECT_EQ(window.padding, 1);
  EXPECT_EQ(window.dilation, 2);
  EXPECT_EQ(MaxPool2d(make(3, 0, 0)).window().stride, 3) << "stride defaults to the kernel";
  EXPECT_EQ(MaxPool2d(make(3, 0, 0)).describe(), "MaxPool2d(kernel=3, stride=3, padding=0)");
}

void expect_shape_error(const std::function<void()>& action, const std::string& fragment) {
  EXPECT_THAT(action, ThrowsMessage<ShapeError>(HasSubstr(fragment)));
}

TEST(MaxPool2dTest, RejectsBadOptionsAndInputsWithMessagesNamingTheLayer) {
  expect_shape_error([] { MaxPool2d pool(make(3, 2, 2)); },
                     "MaxPool2d(kernel=3, stride=2, padding=2): padding must be between 0 and "
                     "kernel / 2 = 1, got 2");
  expect_shape_error([] { MaxPool2d pool(make(0, 1, 0)); }, "must be at least 1");
  expect_shape_error([] { MaxPool2d pool(make(2, 1, 0, 0)); }, "must be at least 1");
  MaxPool2d pool(make(3, 2, 0));
  expect_shape_error(
      [&] {
        pool.forward({random_tensor({1, 1, 2, 2}, 1)}, Mode::train);
      },
      "input (1, 1, 2, 2) is smaller than the 3x3 window");
  expect_shape_error(
      [&] {
        pool.forward({random_tensor({4, 9}, 1)}, Mode::train);
      },
      "expects an (N, C, H, W) input, got (4, 9)");
}

}  // namespace
}  // namespace convoy
