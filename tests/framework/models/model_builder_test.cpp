#include "framework/models/model_builder.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "framework/common/error.hpp"

namespace convoy {
namespace {

// Expected counts come from PyTorch (scripts/bench/pytorch_models.py, which matches
// torchvision's state_dict names and shapes): parameters, and state_dict entries
// (parameters + BatchNorm buffers).
struct ModelCase {
  const char* architecture;
  const char* variant;
  int64_t in_channels, classes;
  int64_t parameters;
  size_t state_dict_entries;
  std::vector<std::string> some_names;
};
void PrintTo(const ModelCase& value, std::ostream* out) {
  *out << value.architecture << "/" << value.variant;
}

class ModelCases : public ::testing::TestWithParam<ModelCase> {};

TEST_P(ModelCases, MatchesTorchvisionNamesAndParameterCounts) {
  const auto& param = GetParam();
  ModelConfig config;
  config.architecture = param.architecture;
  config.variant = param.variant;
  config.in_channels = param.in_channels;
  config.num_classes = param.classes;
  auto net = build_model(config);
  EXPECT_EQ(net->parameter_count(), param.parameters);
  std::vector<std::string> names;
  for (const auto& p : net->parameters()) names.push_back(p.name);
  for (const auto& b : net->buffers()) names.push_back(b.name);
  EXPECT_EQ(names.size(), param.state_dict_entries);
  for (const auto& expected : param.some_names) {
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Recipes, ModelCases,
    ::testing::Values(
        ModelCase{"resnet20",
                  "cifar",
                  1,
                  10,
                  272186,
                  128,
                  {"conv1.weight", "bn1.running_mean", "layer1.0.conv1.weight",
                   "layer2.0.downsample.0.weight", "layer3.2.bn2.num_batches_tracked", "fc.bias"}},
        ModelCase{"resnet18",
                  "imagenet",
                  3,
                  1000,
                  11689512,
                  122,
                  {"layer4.1.conv2.weight", "layer2.0.downsample.1.running_var", "fc.weight"}},
        ModelCase{"resnet18", "cifar", 3, 10, 11173962, 122, {"conv1.weight", "fc.bias"}},
        ModelCase{"resnet50",
                  "imagenet",
                  3,
                  1000,
                  25557032,
                  320,
                  {"layer1.0.conv3.weight", "layer3.5.bn3.bias", "layer4.0.downsample.0.weight"}},
        ModelCase{"vgg11_bn",
                  "cifar",
                  1,
                  10,
                  9229962,
                  58,
                  {"features.0.weight", "features.1.running_mean", "features.25.weight",
                   "classifier.0.bias"}},
        // VGG's ImageNet head (classifier.0/3/6) adds 120 M parameters: too slow to build in
        // a unit test; its names follow the same numbering code path as the features.
        ModelCase{"vgg16",
                  "cifar",
                  3,
                  10,
                  14719818,
                  28,
                  {"features.28.weight", "features.26.bias", "classifier.0.weight"}}),
    [](const auto& info) {
      return std::string(info.param.architecture) + "_" + info.param.variant;
    });

TEST(ModelBuilderTest, ProducesLogitsOfTheRightShapeForSmallInputs) {
  ModelConfig config;
  config.architecture = "resnet20";
  config.in_channels = 1;
  auto net = build_model(config);
  Tensor logits = net->forward(Tensor::zeros({2, 1, 28, 28}), Mode::eval);
  EXPECT_EQ(logits.shape(), (Shape{2, 10}));
}

TEST(ModelBuilderTest, SameSeedGivesSameWeightsAndAnotherSeedDiffers) {
  ModelConfig config;
  config.architecture = "resnet20";
  auto a = build_model(config);
  auto b = build_model(config);
  config.seed = 1;
  auto c = build_model(config);
  std::vector<float> va(a->parameter_values().begin(), a->parameter_values().end());
  std::vector<float> vb(b->parameter_values().begin(), b->parameter_values().end());
  std::vector<float> vc(c->parameter_values().begin(), c->parameter_values().end());
  EXPECT_EQ(va, vb);
  EXPECT_NE(va, vc);
}

TEST(ModelBuilderTest, RejectsUnknownArchitecturesListingTheKnownOnes) {
  ModelConfig config;
  config.architecture = "alexnet9";
  try {
    build_model(config);
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_NE(
        std::string(error.what()).find("unknown architecture 'alexnet9'; available: resnet18"),
        std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace convoy
