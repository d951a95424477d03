#include "framework/layers/batch_norm2d.hpp"

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
using testing::randomize_parameters;

// y = (x - mean_c) / sqrt(var_c + eps) * gamma_c + beta_c with the given per-channel statistics.
std::vector<float> reference_normalize(const std::vector<float>& x, const Shape& shape,
                                       const std::vector<double>& mean,
                                       const std::vector<double>& variance,
                                       const std::vector<float>& gamma,
                                       const std::vector<float>& beta, double eps, bool relu) {
  const int64_t N = shape[0], C = shape[1], HW = shape[2] * shape[3];
  std::vector<float> y(x.size());
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < HW; ++i) {
        const int64_t index = (n * C + c) * HW + i;
        double value = (x[index] - mean[c]) / std::sqrt(variance[c] + eps) * gamma[c] + beta[c];
        y[index] = static_cast<float>(relu ? std::max(value, 0.0) : value);
      }
  return y;
}

// Per-channel mean and biased variance over (N, H, W), two-pass in double.
void reference_statistics(const std::vector<float>& x, const Shape& shape,
                          std::vector<double>& mean, std::vector<double>& variance) {
  const int64_t N = shape[0], C = shape[1], HW = shape[2] * shape[3];
  mean.assign(C, 0.0);
  variance.assign(C, 0.0);
  for (int64_t c = 0; c < C; ++c) {
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < HW; ++i) mean[c] += x[(n * C + c) * HW + i];
    mean[c] /= static_cast<double>(N * HW);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < HW; ++i) {
        const double d = x[(n * C + c) * HW + i] - mean[c];
        variance[c] += d * d;
      }
    variance[c] /= static_cast<double>(N * HW);
  }
}

BatchNorm2dOptions make(int64_t channels, bool affine = true, bool fuse_relu = false) {
  BatchNorm2dOptions options;
  options.channels = channels;
  options.affine = affine;
  options.fuse_relu = fuse_relu;
  return options;
}

TEST(BatchNorm2dTest, StartsWithTorchDefaults) {
  BatchNorm2d bn(make(3));
  EXPECT_EQ(bn.weight()->value.to_plain(), std::vector<float>(3, 1.0f));
  EXPECT_EQ(bn.bias()->value.to_plain(), std::vector<float>(3, 0.0f));
  EXPECT_TRUE(bn.weight()->is_bias_or_norm);
  EXPECT_TRUE(bn.bias()->is_bias_or_norm);
  EXPECT_EQ(bn.running_mean().value.to_plain(), std::vector<float>(3, 0.0f));
  EXPECT_EQ(bn.running_var().value.to_plain(), std::vector<float>(3, 1.0f));
  EXPECT_EQ(bn.num_batches_tracked().value.to_plain(), std::vector<float>(1, 0.0f));
  ASSERT_EQ(bn.buffers().size(), 3u);
  EXPECT_EQ(bn.buffers()[2]->name, "num_batches_tracked");
  EXPECT_EQ(bn.describe(), "BatchNorm2d(3, eps=1e-05, momentum=0.1)");
}

TEST(BatchNorm2dTest, TrainingForwardMatchesReferenceWithBatchStatistics) {
  for (bool relu : {false, true}) {
    BatchNorm2d bn(make(4, true, relu));
    randomize_parameters(bn, 3);
    const Shape shape{3, 4, 5, 7};
    Tensor input = random_tensor(shape, 8, -2.0f, 3.0f);
    auto x = input.to_plain();
    std::vector<double> mean, variance;
    reference_statistics(x, shape, mean, variance);
    auto expected = reference_normalize(x, shape, mean, variance, bn.weight()->value.to_plain(),
                                        bn.bias()->value.to_plain(), 1e-5, relu);
    expect_near(bn.forward({input}, Mode::train).to_plain(), expected, 1e-4);
  }
}

TEST(BatchNorm2dTest, RunningStatisticsAfterTwoStepsMatchHandComputedValues) {
  BatchNorm2d bn(make(1));
  // Step 1: x = 1, 2, 3, 4: mean 2.5, biased variance 1.25, unbiased 5/3.
  //   running_mean = 0.9 * 0 + 0.1 * 2.5 = 0.25
  //   running_var  = 0.9 * 1 + 0.1 * 5/3 = 1.0666667
  auto out =
      bn.forward({Tensor::from_plain({2, 1, 1, 2}, std::vector<float>{1, 2, 3, 4})}, Mode::train)
          .to_plain();
  const double s = 1.0 / std::sqrt(1.25 + 1e-5);
  expect_near(out, {float(-1.5 * s), float(-0.5 * s), float(0.5 * s), float(1.5 * s)}, 1e-5);
  EXPECT_NEAR(bn.running_mean().value.to_plain()[0], 0.25, 1e-6);
  EXPECT_NEAR(bn.running_var().value.to_plain()[0], 1.0666667, 1e-6);
  // Step 2: x = 2, 4, 6, 8: mean 5, unbiased variance 20/3.
  //   running_mean = 0.9 * 0.25 + 0.1 * 5 = 0.725
  //   running_var  = 0.9 * 1.0666667 + 0.1 * 20/3 = 1.6266667
  bn.forward({Tensor::from_plain({2, 1, 1, 2}, std::vector<float>{2, 4, 6, 8})}, Mode::train);
  EXPECT_NEAR(bn.running_mean().value.to_plain()[0], 0.725, 1e-6);
  EXPECT_NEAR(bn.running_var().value.to_plain()[0], 1.6266667, 1e-6);
  EXPECT_EQ(bn.num_batches_tracked().value.to_plain()[0], 2.0f);
  // Eval uses the running statistics and leaves them alone.
  auto eval =
      bn.forward({Tensor::from_plain({1, 1, 1, 2}, std::vector<float>{0.725f, 2.0f})}, Mode::eval)
          .to_plain();
  expect_near(eval, {0.0f, float((2.0 - 0.725) / std::sqrt(1.6266667 + 1e-5))}, 1e-5);
  EXPECT_EQ(bn.num_batches_tracked().value.to_plain()[0], 2.0f);
}

TEST(BatchNorm2dTest, EvalForwardMatchesReferenceWithRunningStatistics) {
  for (bool relu : {false, true}) {
    BatchNorm2d bn(make(3, true, relu));
    randomize_parameters(bn, 5);
    bn.running_mean().value.copy_from_plain(std::vector<float>{0.5f, -1.0f, 2.0f});
    bn.running_var().value.copy_from_plain(std::vector<float>{0.25f, 4.0f, 1.5f});
    const Shape shape{2, 3, 3, 5};
    Tensor input = random_tensor(shape, 4);
    auto expected =
        reference_normalize(input.to_plain(), shape, {0.5, -1.0, 2.0}, {0.25, 4.0, 1.5},
                            bn.weight()->value.to_plain(), bn.bias()->value.to_plain(), 1e-5, relu);
    expect_near(bn.forward({input}, Mode::eval).to_plain(), expected, 1e-5);
  }
}

TEST(BatchNorm2dTest, TrainingGradientsMatchFiniteDifferencesWithOddSpatialSize) {
  BatchNorm2d bn(make(3));
  randomize_parameters(bn, 9);
  expect_gradients_match(bn, {random_tensor({4, 3, 5, 3}, 2, -1.0f, 2.0f)});
}

TEST(BatchNorm2dTest, TrainingGradientsMatchWithoutAffine) {
  BatchNorm2d bn(make(2, false));
  EXPECT_TRUE(bn.parameters().empty());
  expect_gradients_match(bn, {random_tensor({3, 2, 3, 3}, 12)});
}

// A 16-channel Conv2d hands over a blocked layout (nChw16c); BatchNorm must work in it.
Tensor blocked_activation(const Shape& input_shape, uint64_t seed) {
  Conv2dOptions options;
  options.in_channels = input_shape[1];
  options.out_channels = 16;
  options.kernel = 3;
  options.padding = 1;
  Conv2d conv(options);
  randomize_parameters(conv, seed);
  return conv.forward({random_tensor(input_shape, seed + 1)}, Mode::train).clone();
}

TEST(BatchNorm2dTest, RebuildsItsKernelWhenTheSameShapeArrivesInAnotherLayout) {
  Tensor blocked = blocked_activation({2, 3, 4, 3}, 61);
  Tensor plain = Tensor::from_plain(blocked.shape(), blocked.to_plain());
  BatchNorm2d bn(make(16));
  randomize_parameters(bn, 62);
  auto from_plain = bn.forward({plain}, Mode::train).to_plain();
  Tensor output = bn.forward({blocked}, Mode::train);
  EXPECT_EQ(output.layout(), blocked.layout()) << output.layout().describe();
  expect_near(output.to_plain(), from_plain, 1e-5);
  Tensor output_grad = random_tensor(plain.shape(), 63);
  auto blocked_grad = bn.backward(output_grad)[0].to_plain();
  bn.forward({plain}, Mode::train);
  expect_near(blocked_grad, bn.backward(output_grad)[0].to_plain(), 1e-4);
}

TEST(BatchNorm2dTest, GradientsMatchFiniteDifferencesOnABlockedLayoutFromConv2d) {
  Tensor activation = blocked_activation({2, 3, 5, 5}, 21);
  ASSERT_FALSE(activation.layout().is_plain()) << activation.layout().describe();
  BatchNorm2d bn(make(16));
  randomize_parameters(bn, 4);
  GradientCheckOptions options;
  options.max_elements_per_tensor = 150;
  expect_gradients_match(bn, {activation}, options);
}

TEST(BatchNorm2dTest, FusedReluGradientsMatchFiniteDifferencesOnABlockedLayout) {
  Tensor activation = blocked_activation({2, 3, 4, 5}, 31);
  BatchNorm2d bn(make(16, true, true));
  randomize_parameters(bn, 6);
  GradientCheckOptions options;
  options.step = 1e-3;  // small: pre-activations near zero straddle the ReLU kink
  options.max_elements_per_tensor = 150;
  expect_gradients_match(bn, {activation}, options);
}

// Between Winograd layers the activations are NHWC, where BatchNorm runs its own loops.
Tensor nhwc_activation(const Shape& shape, uint64_t seed) {
  Tensor activation(Layout::nhwc(shape));
  activation.copy_from(random_tensor(shape, seed, -1.0f, 2.0f));
  return activation;
}

TEST(BatchNorm2dTest, GradientsMatchFiniteDifferencesOnAnNhwcInputWithAndWithoutFusedRelu) {
  for (bool relu : {false, true}) {
    SCOPED_TRACE(relu ? "fused ReLU" : "no ReLU");
    BatchNorm2d bn(make(20, true, relu));
    randomize_parameters(bn, 8);
    Tensor activation = nhwc_activation({2, 20, 4, 5}, 41);
    Tensor output = bn.forward({activation}, Mode::train);
    EXPECT_EQ(output.layout(), activation.layout()) << output.layout().describe();
    EXPECT_EQ(bn.implementation(), "own nhwc loops");
    GradientCheckOptions options;
    options.step = 1e-3;  // small: pre-activations near zero straddle the ReLU kink
    options.max_elements_per_tensor = 150;
    expect_gradients_match(bn, {activation}, options);
  }
}

TEST(BatchNorm2dTest, EvalModeGradientsOnAnNhwcInputTreatRunningStatisticsAsConstants) {
  BatchNorm2d bn(make(16, true, true));
  randomize_parameters(bn, 16);
  GradientCheckOptions options;
  options.step = 1e-3;
  options.max_elements_per_tensor = 150;
  expect_gradients_match(bn, {nhwc_activation({2, 16, 3, 3}, 17)}, options, Mode::eval);
}

TEST(BatchNorm2dTest, EvalModeGradientsTreatRunningStatisticsAsConstants) {
  for (bool relu : {false, true}) {
    BatchNorm2d bn(make(3, true, relu));
    randomize_parameters(bn, 14);
    bn.running_mean().value.copy_from_plain(std::vector<float>{0.1f, -0.2f, 0.3f});
    bn.running_var().value.copy_from_plain(std::vector<float>{0.5f, 2.0f, 1.0f});
    GradientCheckOptions options;
    if (relu) options.step = 1e-3;
    expect_gradients_match(bn, {random_tensor({2, 3, 3, 3}, 15)}, options, Mode::eval);
  }
}

// Plays the other rank of a two-rank job: adds that rank's recorded local sums.
struct PairedReducer : StatisticsReducer {
  std::vector<double> last_local;  // what this rank contributed in its last call
  std::vector<double> other;       // the other rank's contribution (empty: none yet)
  void allreduce_sum(std::span<double> values) override {
    last_local.assign(values.begin(), values.end());
    for (size_t i = 0; i < other.size(); ++i) values[i] += other[i];
  }
};

struct NoOpReducer : StatisticsReducer {
  int calls = 0;
  void allreduce_sum(std::span<double>) override { ++calls; }
};

std::vector<float> concatenate(const std::vector<float>& a, const std::vector<float>& b) {
  std::vector<float> joined = a;
  joined.insert(joined.end(), b.begin(), b.end());
  return joined;
}

TEST(BatchNorm2dTest, SynchronizedHalvesOnTwoRanksMatchTheFullBatch) {
  for (bool relu : {false, true}) {
    SCOPED_TRACE(relu ? "fused relu" : "no relu");
    const Shape half{2, 3, 3, 5}, full{4, 3, 3, 5};
    Tensor input_a = random_tensor(half, 40, -1.0f, 2.0f);
    Tensor input_b = random_tensor(half, 41, -2.0f, 1.0f);
    Tensor grad_a = random_tensor(half, 42), grad_b = random_tensor(half, 43);
    BatchNorm2d rank_a(make(3, true, relu)), rank_b(make(3, true, relu)),
        whole(make(3, true, relu));
    for (auto* bn : {&rank_a, &rank_b, &whole}) randomize_parameters(*bn, 44);
    PairedReducer reducer_a, reducer_b;
    rank_a.set_statistics_reducer(&reducer_a);
    rank_b.set_statistics_reducer(&reducer_b);

    // Forward: B contributes its sums first, then each rank normalizes with both.
    rank_b.forward({input_b}, Mode::train);
    reducer_a.other = reducer_b.last_local;
    auto out_a = rank_a.forward({input_a}, Mode::train).to_plain();
    reducer_b.other = reducer_a.last_local;
    auto out_b = rank_b.forward({input_b}, Mode::train).to_plain();
    auto expected =
        whole
            .forward(
                {Tensor::from_plain(full, concatenate(input_a.to_plain(), input_b.to_plain()))},
                Mode::train)
            .to_plain();
    expect_near(concatenate(out_a, out_b), expected, 1e-4);
    expect_near(rank_a.running_mean().value.to_plain(), whole.running_mean().value.to_plain(),
                1e-6);
    expect_near(rank_a.running_var().value.to_plain(), whole.running_var().value.to_plain(), 1e-6);

    // Backward, same dance with the gradient sums.
    reducer_b.other.clear();
    rank_b.backward(grad_b);
    reducer_a.other = reducer_b.last_local;
    auto dx_a = rank_a.backward(grad_a)[0].to_plain();
    reducer_b.other = reducer_a.last_local;
    auto dx_b = rank_b.backward(grad_b)[0].to_plain();
    auto dx = whole
                  .backward(Tensor::from_plain(
                      full, concatenate(grad_a.to_plain(), grad_b.to_plain())))[0]
                  .to_plain();
    expect_near(concatenate(dx_a, dx_b), dx, 1e-4);
    // Parameter gradients stay per rank; their sum is the full batch's.
    for (int c = 0; c < 3; ++c) {
      EXPECT_NEAR(rank_a.weight()->grad.to_plain()[c] + rank_b.weight()->grad.to_plain()[c],
                  whole.weight()->grad.to_plain()[c], 1e-4);
      EXPECT_NEAR(rank_a.bias()->grad.to_plain()[c] + rank_b.bias()->grad.to_plain()[c],
                  whole.bias()->grad.to_plain()[c], 1e-4);
    }
  }
}

TEST(BatchNorm2dTest, SynchronizedPathOnOneRankMatchesFiniteDifferencesAndCallsTheReducer) {
  Tensor activation = blocked_activation({2, 3, 3, 5}, 51);
  BatchNorm2d bn(make(16));
  randomize_parameters(bn, 52);
  NoOpReducer reducer;
  bn.set_statistics_reducer(&reducer);
  BatchNorm2d local(make(16));
  randomize_parameters(local, 52);
  expect_near(bn.forward({activation}, Mode::train).to_plain(),
              local.forward({activation}, Mode::train).to_plain(), 1e-4);
  EXPECT_EQ(reducer.calls, 1);
  GradientCheckOptions options;
  options.max_elements_per_tensor = 120;
  expect_gradients_match(bn, {activation}, options);
  EXPECT_GT(reducer.calls, 2);
}

TEST(BatchNorm2dTest, RejectsWrongChannelsAndSingleValueBatches) {
  BatchNorm2d bn(make(3));
  EXPECT_THAT(
      [&] {
        bn.forward({random_tensor({2, 4, 3, 3}, 1)}, Mode::train);
      },
      ThrowsMessage<ShapeError>(
          AllOf(HasSubstr("BatchNorm2d(3"), HasSubstr("(N, 3, H, W), got (2, 4, 3, 3)"))));
  EXPECT_THAT(
      [&] {
        bn.forward({random_tensor({1, 3, 1, 1}, 1)}, Mode::train);
      },
      ThrowsMessage<ShapeError>(HasSubstr("more than one value per channel")));
  EXPECT_NO_THROW(bn.forward({random_tensor({1, 3, 1, 1}, 1)}, Mode::eval));
  EXPECT_THROW(BatchNorm2d(make(0)), ShapeError);
}

}  // namespace
}  // namespace convoy
