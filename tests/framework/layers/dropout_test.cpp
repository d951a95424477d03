#include "framework/layers/dropout.hpp"

#include <gtest/gtest.h>

#include "framework/common/error.hpp"
#include "support/layer_testing.hpp"

namespace convoy {
namespace {

using testing::random_tensor;

TEST(DropoutTest, KeepsAboutOneMinusPAndScalesTheKeptValues) {
  Dropout dropout({0.3, 11});
  Tensor ones = Tensor::from_plain({100, 1000}, std::vector<float>(100000, 1.0f));
  auto out = dropout.forward({ones}, Mode::train).to_plain();
  int64_t kept = 0;
  for (float v : out) {
    if (v != 0.0f) {
      ++kept;
      ASSERT_FLOAT_EQ(v, 1.0f / 0.7f);
    }
  }
  EXPECT_NEAR(kept / 100000.0, 0.7, 0.01);
}

TEST(DropoutTest, MaskIsAPureFunctionOfSeedAndCallIndex) {
  Tensor input = random_tensor({4, 50}, 1);
  Dropout a({0.5, 7}), b({0.5, 7});
  auto first = a.forward({input}, Mode::train).to_plain();
  auto second = a.forward({input}, Mode::train).to_plain();
  EXPECT_NE(first, second) << "each call must draw a new mask";
  b.set_call_index(1);
  EXPECT_EQ(b.forward({input}, Mode::train).to_plain(), second);
  EXPECT_EQ(b.call_index(), 2u);
}

TEST(DropoutTest, IsTheIdentityInEvalMode) {
  Dropout dropout({0.5, 1});
  Tensor input = random_tensor({3, 8}, 2);
  EXPECT_EQ(dropout.forward({input}, Mode::eval).to_plain(), input.to_plain());
}

TEST(DropoutTest, GradientMatchesFiniteDifferencesWithAFrozenMask) {
  Dropout dropout({0.4, 3});
  dropout.freeze_mask(true);
  testing::expect_gradients_match(dropout, {random_tensor({2, 3, 4, 4}, 4)});
}

TEST(DropoutTest, RejectsAProbabilityOutsideZeroToOne) {
  EXPECT_THROW(Dropout({1.0, 0}), ConfigError);
  EXPECT_THROW(Dropout({-0.1, 0}), ConfigError);
}

}  // namespace
}  // namespace convoy
