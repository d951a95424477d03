#include "framework/visual/effective_receptive_field.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "framework/common/error.hpp"
#include "framework/layers/conv2d.hpp"
#include "support/layer_testing.hpp"

namespace convoy::visual {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

// A linear stack (no ReLU, no bias) of 3x3 all-ones convolutions with "same" padding, plus a
// last convolution after the measured layer that must not matter.
std::unique_ptr<Net> all_ones_stack(const std::vector<int64_t>& dilations) {
  auto net = std::make_unique<Net>();
  Net::NodeId x = Net::kInput;
  for (size_t i = 0; i <= dilations.size(); ++i) {
    Conv2dOptions options;
    options.in_channels = i == 0 ? 2 : 3;
    options.out_channels = 3;
    options.kernel = 3;
    options.dilation = i < dilations.size() ? dilations[i] : 1;
    options.padding = options.dilation;
    options.bias = false;
    x = net->add<Conv2d>(i < dilations.size() ? "conv" + std::to_string(i) : "after", options, {x});
  }
  net->finalize();
  for (float& value : net->parameter_values()) value = 1.0f;
  return net;
}

// With positive weights and no nonlinearity every path adds: the gradient is nonzero exactly
// on the theoretical receptive field, a square of side `field` centred on the centre unit.
void expect_support_is_the_centred_square(const EffectiveReceptiveField& erf, int64_t field) {
  const int64_t half = field / 2;
  for (int y = 0; y < erf.height; ++y) {
    for (int x = 0; x < erf.width; ++x) {
      const bool inside = std::abs(y - erf.centre_y) <= half && std::abs(x - erf.centre_x) <= half;
      const float value = erf.map[static_cast<size_t>(y * erf.width + x)];
      if (inside) {
        EXPECT_GT(value, 0.0f) << "(" << y << ", " << x << ") inside the field";
      } else {
        EXPECT_EQ(value, 0.0f) << "(" << y << ", " << x << ") outside the field";
      }
    }
  }
  EXPECT_EQ(centred_square_side(erf, 1.0), field);
}

TEST(EffectiveReceptiveFieldTest, ThreeAllOnes3x3ConvolutionsReachExactlyTheSevenPixelField) {
  auto net = all_ones_stack({1, 1, 1});
  EXPECT_EQ(net->summarize({1, 2, 15, 15})[2].receptive_field, 7);
  const auto erf =
      effective_receptive_field(*net, "conv2", testing::random_tensor({2, 2, 15, 15}, 4));
  ASSERT_EQ(erf.height, 15);
  ASSERT_EQ(erf.width, 15);
  EXPECT_EQ(erf.centre_y, 7);
  EXPECT_EQ(erf.centre_x, 7);
  expect_support_is_the_centred_square(erf, 7);
  // Linear in the input, so the map does not depend on the images. At the centre: 3-step
  // paths of offsets in {-1, 0, 1} per axis that return (7 per axis, 49 in 2-D), times the
  // channel sums (3 seeded outputs of conv2, 3 channels of conv1, 3 of conv0).
  int64_t paths = 0;
  for (int a = -1; a <= 1; ++a)
    for (int b = -1; b <= 1; ++b)
      for (int c = -1; c <= 1; ++c) paths += a + b + c == 0;
  EXPECT_FLOAT_EQ(erf.map[7 * 15 + 7], static_cast<float>(paths * paths * 3 * 3 * 3));
}

TEST(EffectiveReceptiveFieldTest, Dilations124ReachExactlyTheFifteenPixelField) {
  auto net = all_ones_stack({1, 2, 4});
  EXPECT_EQ(net->summarize({1, 2, 21, 21})[2].receptive_field, 15);
  const auto erf =
      effective_receptive_field(*net, "conv2", testing::random_tensor({1, 2, 21, 21}, 5));
  EXPECT_EQ(erf.centre_y, 10);
  expect_support_is_the_centred_square(erf, 15);
}

TEST(EffectiveReceptiveFieldTest, TheSquareHoldingAShareOfTheMassGrowsWithTheShare) {
  EffectiveReceptiveField erf;
  erf.height = erf.width = 5;
  erf.map.assign(25, 0.0f);
  erf.map[12] = 6;               // centre
  erf.map[7] = erf.map[17] = 1;  // above and below
  erf.map[0] = 2;                // a corner
  // Centre of mass: y = (6*2 + 1*1 + 1*3 + 2*0) / 10 = 1.6 -> 2, x = (8*2) / 10 = 1.6 -> 2.
  EXPECT_EQ(centred_square_side(erf, 0.6), 1);
  EXPECT_EQ(centred_square_side(erf, 0.8), 3);
  EXPECT_EQ(centred_square_side(erf, 1.0), 5);
  erf.map.assign(25, 0.0f);
  EXPECT_EQ(centred_square_side(erf, 0.95), 0);
}

TEST(EffectiveReceptiveFieldTest, AnUnknownLayerNamesTheValidOnes) {
  auto net = all_ones_stack({1});
  EXPECT_THAT(
      [&] {
        effective_receptive_field(*net, "conv9", testing::random_tensor({1, 2, 9, 9}, 1));
      },
      ThrowsMessage<ConfigError>(HasSubstr("conv0, after")));
}

}  // namespace
}  // namespace convoy::visual
