#include "framework/loss/softmax_cross_entropy.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "framework/common/error.hpp"
#include "framework/gradient_checker.hpp"
#include "support/layer_testing.hpp"

namespace convoy {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

using testing::expect_near;
using testing::random_tensor;

const std::vector<int32_t> kLabels{2, 1};

Tensor small_logits() { return Tensor::from_plain({2, 3}, std::vector<float>{1, 2, 3, 0, 0, 0}); }

// Expected values by hand and checked with torch.nn.functional.cross_entropy in float64:
//   sample 0: lse = 3 + log(e^-2 + e^-1 + 1) = 3.4076059, loss 0.4076059
//   sample 1: lse = log 3, loss 1.0986123
TEST(SoftmaxCrossEntropyTest, LossAndGradientMatchHandComputation) {
  SoftmaxCrossEntropy loss;
  EXPECT_NEAR(loss.forward(small_logits(), kLabels), 0.7531091265562451, 1e-6);
  EXPECT_EQ(loss.gradient().shape(), (Shape{2, 3}));
  expect_near(loss.gradient().to_plain(),
              {0.04501528658519022f, 0.12236423552739882f, -0.1673795221125891f,
               0.16666666666666666f, -0.33333333333333337f, 0.16666666666666666f},
              1e-6);
}

// Smoothing 0.1 adds 0.1 * (lse - mean_k z_k) - 0.1 * (lse - z_y) per sample.
TEST(SoftmaxCrossEntropyTest, LabelSmoothingMatchesTorch) {
  SoftmaxCrossEntropy loss(0.1);
  EXPECT_NEAR(loss.forward(small_logits(), kLabels), 0.8031091265562451, 1e-6);
  expect_near(
      loss.gradient().to_plain(),
      {0.02834861991852355f, 0.10569756886073216f, -0.13404618877925578f, 0.15f, -0.3f, 0.15f},
      1e-6);
}

TEST(SoftmaxCrossEntropyTest, NormalizerReplacesTheBatchSize) {
  SoftmaxCrossEntropy loss;
  // Two ranks with a global batch of 8: this rank's share of the global mean.
  EXPECT_NEAR(loss.forward(small_logits(), kLabels, 8.0), 0.7531091265562451 * 2 / 8, 1e-6);
  expect_near(loss.gradient().to_plain(),
              {0.04501528658519022f / 4, 0.12236423552739882f / 4, -0.1673795221125891f / 4,
               0.16666666666666666f / 4, -0.33333333333333337f / 4, 0.16666666666666666f / 4},
              1e-7);
  EXPECT_THROW(loss.forward(small_logits(), kLabels, 0.0), ConfigError);
}

TEST(SoftmaxCrossEntropyTest, GradientMatchesFiniteDifferencesOnTheLogits) {
  for (double smoothing : {0.0, 0.2}) {
    SoftmaxCrossEntropy loss(smoothing);
    Tensor logits = random_tensor({5, 7}, 3, -3.0f, 3.0f);
    const std::vector<int32_t> labels{0, 6, 3, 3, 1};
    loss.forward(logits, labels, 3.0);
    GradientChecker checker(GradientCheckOptions{.step = 1e-2, .tolerance = 1e-3});
    auto report = checker.check(
        [&] {
          SoftmaxCrossEntropy probe(smoothing);
          return probe.forward(logits, labels, 3.0);
        },
        {{"logits", [&] { return logits.to_plain(); },
          [&](const std::vector<float>& v) { logits.copy_from_plain(v); },
          loss.gradient().to_plain()}});
    EXPECT_TRUE(report.passed()) << "smoothing " << smoothing << "\n" << report.summary();
    EXPECT_EQ(report.tensors.at(0).checked, 35);
  }
}

TEST(SoftmaxCrossEntropyTest, StaysFiniteAndShiftInvariantForHugeLogits) {
  SoftmaxCrossEntropy loss(0.1);
  const double base = loss.forward(small_logits(), kLabels);
  auto base_grad = loss.gradient().to_plain();
  std::vector<float> shifted{1e4f + 1, 1e4f + 2, 1e4f + 3, -1e4f, -1e4f, -1e4f};
  const double value = loss.forward(Tensor::from_plain({2, 3}, shifted), kLabels);
  EXPECT_TRUE(std::isfinite(value));
  EXPECT_NEAR(value, base, 1e-4);
  expect_near(loss.gradient().to_plain(), base_grad, 1e-5);
  // A confidently wrong sample, no overflow: lse = 500, so
  // 0.9 * (lse - z_y) + 0.1 * (lse - mean z) = 0.9 * 1000 + 0.1 * 500.
  EXPECT_NEAR(loss.forward(Tensor::from_plain({1, 2}, std::vector<float>{500, -500}),
                           std::vector<int32_t>{1}),
              0.9 * 1000 + 0.1 * 500, 1e-3);
}

TEST(SoftmaxCrossEntropyTest, RejectsLabelsOutsideTheClassesNamingTheSample) {
  SoftmaxCrossEntropy loss;
  EXPECT_THAT(
      [&] {
        loss.forward(small_logits(), std::vector<int32_t>{0, 3});
      },
      ThrowsMessage<ShapeError>(HasSubstr("sample 1 has label 3, expected a class in [0, 3)")));
  EXPECT_THAT(
      [&] {
        loss.forward(small_logits(), std::vector<int32_t>{-1, 0});
      },
      ThrowsMessage<ShapeError>(HasSubstr("sample 0 has label -1")));
  EXPECT_THAT([&] { loss.forward(small_logits(), std::vector<int32_t>{0}); },
              ThrowsMessage<ShapeError>(HasSubstr("got 1 labels for logits (2, 3)")));
  EXPECT_THROW(loss.forward(random_tensor({2, 3, 1, 1}, 1), kLabels), ShapeError);
  EXPECT_THROW(SoftmaxCrossEntropy(1.5), ConfigError);
}

TEST(SoftmaxCrossEntropyTest, CountsTopOneAndTopFiveAndPredicts) {
  // 7 classes; the label's rank in each row is 0, 2, 4, 5 and (tie, lower index first) 1.
  std::vector<float> values{
      9, 1, 2, 3, 4, 5, 6,  // label 0 ranks 0
      1, 7, 5, 6, 0, 0, 0,  // label 2 ranks 2 (behind 7 and 6)
      1, 2, 3, 4, 5, 6, 7,  // label 2 ranks 4
      1, 2, 3, 4, 5, 6, 7,  // label 1 ranks 5
      4, 4, 0, 0, 0, 0, 0,  // label 1 ties with class 0, ranks 1
  };
  Tensor logits = Tensor::from_plain({5, 7}, values);
  auto counts = count_top_k(logits, std::vector<int32_t>{0, 2, 2, 1, 1});
  EXPECT_EQ(counts.top1, 1);
  EXPECT_EQ(counts.top5, 4);
  EXPECT_EQ(predictions(logits), (std::vector<int32_t>{0, 1, 6, 6, 0}));
  // Fewer than five classes: top-5 counts every sample.
  auto few = count_top_k(small_logits(), kLabels);
  EXPECT_EQ(few.top1, 1);  // sample 1 has equal logits: class 0 wins the tie
  EXPECT_EQ(few.top5, 2);
  EXPECT_THROW(count_top_k(small_logits(), std::vector<int32_t>{0, 5}), ShapeError);
}

}  // namespace
}  // namespace convoy
