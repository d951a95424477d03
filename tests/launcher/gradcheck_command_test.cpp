// `convoy gradcheck` passes on every shipped recipe and fails, naming the layer, when one
// layer's backward is corrupted on purpose.

#include <gtest/gtest.h>

#include "support/command_runner.hpp"

namespace convoy::testing {
namespace {

class GradcheckRecipes : public ::testing::TestWithParam<const char*> {};

TEST_P(GradcheckRecipes, EveryLayerMatchesFiniteDifferences) {
  auto result = run_convoy(std::string("gradcheck --recipe ") + GetParam() + " --samples 3");
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("layers pass"), std::string::npos) << result.output;
}

INSTANTIATE_TEST_SUITE_P(Recipes, GradcheckRecipes,
                         ::testing::Values("fashion-resnet20", "fashion-vgg11_bn",
                                           "cifar10-resnet56", "imagenet-resnet50"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name)
                             if (c == '-') c = '_';
                           return name;
                         });

TEST(GradcheckCommandTest, ACorruptedLayerFailsAndIsNamed) {
  auto result = run_convoy("gradcheck --recipe fashion-resnet20 --perturb-layer layer2.0.conv1");
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("gradients do not match finite differences in: layer2.0.conv1\n"),
            std::string::npos)
      << result.output;
}

}  // namespace
}  // namespace convoy::testing
