#include "framework/models/model_builder.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "framework/common/error.hpp"
#include "framework/layers/conv2d.hpp"
#include "support/layer_testing.hpp"

namespace convoy {
namespace {

using ::testing::HasSubstr;
using testing::relative_difference;
using ::testing::ThrowsMessage;

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

std::vector<float> gradient_of(const Net& net, const std::string& name) {
  for (const auto& named : net.parameters()) {
    if (named.name == name) return named.parameter->grad.to_plain();
  }
  ADD_FAILURE() << "no parameter " << name;
  return {};
}

// convolution_paths.whole_map_matmul = false turns VGG's 2x2-map convolutions back into
// convolution primitives (for measuring the matmul path): every Conv2d gets the option, and both
// nets compute the same logits and gradients up to rounding, the whole-map layers' weight
// gradients included.
TEST(ModelBuilderTest, WholeMapMatmulsOffRunsTheSameFunctionThroughConvolutionPrimitives) {
  ModelConfig config;
  config.architecture = "vgg11_bn";
  auto matmuls = build_model(config);
  config.convolution_paths.whole_map_matmul = false;
  auto primitives = build_model(config);
  int convolutions = 0;
  for (const auto& [name, layer] : primitives->layers()) {
    if (auto* conv = dynamic_cast<Conv2d*>(layer)) {
      EXPECT_FALSE(conv->options().paths.whole_map_matmul) << name;
      ++convolutions;
    }
  }
  EXPECT_EQ(convolutions, 8);

  const Tensor images = testing::random_tensor({4, 3, 32, 32}, 17);
  const Tensor logits_grad = testing::random_tensor({4, 10}, 18);
  const auto a = matmuls->forward(images, Mode::train).to_plain();
  const auto b = primitives->forward(images, Mode::train).to_plain();
  EXPECT_LT(relative_difference(a, b), 1e-5);
  const auto path_of = [](Net& net) { return net.layer("features.22").implementation(); };
  EXPECT_EQ(path_of(*matmuls).rfind("whole-map matmul", 0), 0u) << path_of(*matmuls);
  EXPECT_NE(path_of(*primitives).rfind("whole-map", 0), 0u) << path_of(*primitives);
  matmuls->backward(logits_grad);
  primitives->backward(logits_grad);
  EXPECT_LT(relative_difference(matmuls->parameter_grads(), primitives->parameter_grads()), 1e-4);
  for (const char* name : {"features.22.weight", "features.25.weight"}) {
    EXPECT_LT(relative_difference(gradient_of(*matmuls, name), gradient_of(*primitives, name)),
              1e-4)
        << name;
  }
}

// resnet18 with `lowered` on a lowered convolution path against the convolution primitives
// (`reference`): the same logits and gradients up to rounding, with `layers` on the path
// (`path` names its implementation) and on the primitives, and the same bits when a step is
// repeated. In eval mode: BatchNorm is then a fixed affine map, so a per-layer rounding
// difference (~1e-7 to 1e-6) stays that size; in train mode the batch statistics of a small
// batch amplify it ~1000x (measured with both paths), which would hide a real error.
void expect_the_function_of_the_primitives(const ModelConfig& lowered, const ModelConfig& reference,
                                           const std::vector<const char*>& layers,
                                           const std::string& path) {
  auto model = build_model(lowered);
  auto primitives = build_model(reference);
  const Tensor images = testing::random_tensor({2, 3, 32, 32}, 21);
  const Tensor logits_grad = testing::random_tensor({2, 10}, 22);
  const auto a = model->forward(images, Mode::eval).to_plain();
  const auto b = primitives->forward(images, Mode::eval).to_plain();
  EXPECT_LT(relative_difference(a, b), 1e-5);
  for (const char* name : layers) {
    const auto chosen = model->layer(name).implementation();
    EXPECT_EQ(chosen.rfind(path, 0), 0u) << name << ": " << chosen;
    const auto direct = primitives->layer(name).implementation();
    EXPECT_EQ(direct.find("matmul"), std::string::npos) << name << ": " << direct;
  }
  model->backward(logits_grad);
  primitives->backward(logits_grad);
  const auto grads = model->parameter_grads();
  const std::vector<float> gradients(grads.begin(), grads.end());
  EXPECT_LT(relative_difference(gradients, primitives->parameter_grads()), 1e-5);
  for (const char* name : {"conv1.weight", "layer4.1.conv2.weight", "fc.weight"}) {
    EXPECT_LT(relative_difference(gradient_of(*model, name), gradient_of(*primitives, name)), 1e-5)
        << name;
  }
  EXPECT_EQ(model->forward(images, Mode::eval).to_plain(), a);
  model->backward(logits_grad);
  const auto repeated = model->parameter_grads();
  EXPECT_EQ(std::vector<float>(repeated.begin(), repeated.end()), gradients);
}

ModelConfig resnet18_on_the_primitives() {
  ModelConfig config;
  config.architecture = "resnet18";
  config.convolution_paths.im2col_matmul = kernels::LoweringChoice::never;
  config.convolution_paths.winograd = kernels::LoweringChoice::never;
  return config;
}

// convolution_paths.im2col_matmul = always runs every ungrouped f32 convolution of resnet18 as
// im2col + matmul (automatic picks small maps on AVX2 only).
TEST(ModelBuilderTest, Im2colMatmulsComputeTheSameFunctionAsTheConvolutionPrimitives) {
  ModelConfig im2col = resnet18_on_the_primitives();
  im2col.convolution_paths.im2col_matmul = kernels::LoweringChoice::always;
  expect_the_function_of_the_primitives(
      im2col, resnet18_on_the_primitives(),
      {"conv1", "layer1.0.conv1", "layer4.0.conv1", "layer4.1.conv2", "layer4.0.downsample.0"},
      "im2col matmul");
}

// convolution_paths.winograd = always runs every 3x3 stride-1 convolution of resnet18 as
// Winograd, with 2x2 or 4x4 output blocks, in tile groups or as batched matmuls (automatic picks
// those with at least 16 channels on AVX2 only).
TEST(ModelBuilderTest, WinogradComputesTheSameFunctionAsTheConvolutionPrimitives) {
  for (const int64_t block : {2, 4})
    for (const bool groups : {true, false}) {
      SCOPED_TRACE("output block " + std::to_string(block) + (groups ? ", tile groups" : ""));
      ModelConfig winograd = resnet18_on_the_primitives();
      winograd.convolution_paths.winograd = kernels::LoweringChoice::always;
      winograd.convolution_paths.winograd_tile = block;
      winograd.convolution_paths.winograd_tile_groups =
          groups ? kernels::LoweringChoice::always : kernels::LoweringChoice::never;
      const std::string size = std::to_string(block) + "x" + std::to_string(block);
      expect_the_function_of_the_primitives(
          winograd, resnet18_on_the_primitives(),
          {"conv1", "layer1.0.conv1", "layer2.0.conv2", "layer3.1.conv1", "layer4.1.conv2"},
          "winograd F(" + size + ",3x3) " + (groups ? "in groups of" : "matmul"));
    }
}

TEST(ModelBuilderTest, RejectsUnknownArchitecturesListingTheKnownOnes) {
  ModelConfig config;
  config.architecture = "alexnet9";
  EXPECT_THAT([&] { build_model(config); },
              ThrowsMessage<ConfigError>(
                  HasSubstr("unknown architecture 'alexnet9'; available: resnet18")));
}

}  // namespace
}  // namespace convoy
