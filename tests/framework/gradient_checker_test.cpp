#include "framework/gradient_checker.hpp"

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "support/layer_testing.hpp"

namespace convoy {
namespace {

// f(x) = sum(x^2) over three values, whose gradient is 2x; `analytic` is what a backward claims.
GradientCheckReport check_square_sum(std::vector<float> analytic) {
  std::vector<float> x{0.5f, -1.25f, 2.0f};
  CheckedTensor tensor{"x", [&] { return x; }, [&](const std::vector<float>& v) { x = v; },
                       std::move(analytic)};
  auto objective = [&] {
    double sum = 0;
    for (float value : x) sum += double(value) * value;
    return sum;
  };
  return GradientChecker({.step = 1e-3, .tolerance = 1e-3}).check(objective, {tensor});
}

TEST(GradientCheckerTest, PassesTheTrueGradientAndFailsAWrongOne) {
  EXPECT_TRUE(check_square_sum({1.0f, -2.5f, 4.0f}).passed());
  auto wrong = check_square_sum({1.0f, -2.5f, 4.1f});
  EXPECT_FALSE(wrong.passed());
  ASSERT_EQ(wrong.mismatches.size(), 1u);
  EXPECT_EQ(wrong.mismatches[0].index, 2);
}

TEST(GradientCheckerTest, ANonFiniteAnalyticGradientIsAMismatchNotAPass) {
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    auto report = check_square_sum({1.0f, bad, 4.0f});
    EXPECT_FALSE(report.passed()) << "analytic " << bad;
    ASSERT_EQ(report.mismatches.size(), 1u) << "analytic " << bad;
    EXPECT_EQ(report.mismatches[0].index, 1);
    EXPECT_TRUE(std::isinf(report.tensors.at(0).max_relative_error));
  }
}

TEST(ExpectNearTest, FailsOnNaNAndOnUnequalInfinitiesAndPassesEqualOnes) {
  constexpr float nan = std::numeric_limits<float>::quiet_NaN();
  constexpr float inf = std::numeric_limits<float>::infinity();
  EXPECT_FATAL_FAILURE(testing::expect_near({nan}, {1.0f}, 1e-3), "got nan");
  EXPECT_FATAL_FAILURE(testing::expect_near({1.0f}, {nan}, 1e-3), "expected nan");
  EXPECT_FATAL_FAILURE(testing::expect_near({1.0f}, {-inf}, 0.0), "expected -inf");
  EXPECT_FATAL_FAILURE(testing::expect_near({inf}, {1.0f}, 1e-3), "got inf");
  EXPECT_FATAL_FAILURE(testing::expect_near({1.0f}, {1.1f}, 1e-3), "element 0");
  testing::expect_near({-inf, 1.0f}, {-inf, 1.0005f}, 1e-3);
}

}  // namespace
}  // namespace convoy
