// Which oneDNN implementation each convolution gets: never the reference loop on the shapes
// of the benchmarked models (it is ~100x slower), whatever the CPU's ISA.

#include <gtest/gtest.h>

#include "framework/kernels/context.hpp"
#include "framework/kernels/convolution.hpp"

namespace convoy::testing {
namespace {

struct Case {
  const char* name;  // where the shape occurs
  Shape input;
  int64_t out_channels, kernel, stride, padding;
  bool bias = false;
};

kernels::ConvolutionConfig config_of(const Case& c) {
  kernels::ConvolutionConfig config;
  config.input = c.input;
  config.out_channels = c.out_channels;
  config.kernel_h = config.kernel_w = c.kernel;
  config.stride_h = config.stride_w = c.stride;
  config.padding_h = config.padding_w = c.padding;
  config.bias = c.bias;
  return config;
}

TEST(ConvolutionImplementationTest, BenchmarkedShapesNeverFallBackToTheReferenceLoop) {
  const Case cases[] = {
      {"vgg11_bn features.22 (512 channels, 2x2)", {128, 512, 2, 2}, 512, 3, 1, 1, true},
      {"resnet18 layer4 (512 channels, 4x4)", {128, 512, 4, 4}, 512, 3, 1, 1},
      {"resnet18 layer4.0.downsample (1x1, stride 2)", {128, 256, 8, 8}, 512, 1, 2, 0},
      {"resnet20 conv1 on Fashion-MNIST (1 channel)", {64, 1, 28, 28}, 16, 3, 1, 1},
      {"resnet50 conv1 (7x7, stride 2)", {8, 3, 224, 224}, 64, 7, 2, 3},
      {"a small map, few channels", {4, 8, 2, 2}, 8, 3, 1, 1, true},
  };
  for (const auto& c : cases) {
    for (bool fuse_relu : {false, true}) {
      auto config = config_of(c);
      config.fuse_relu = fuse_relu;
      const auto chosen = kernels::Convolution(config).implementations();
      for (const auto& [pass, name] : {std::pair{"forward", chosen.forward},
                                       {"backward-data", chosen.backward_data},
                                       {"backward-weights", chosen.backward_weights}}) {
        EXPECT_NE(name.rfind("ref", 0), 0u)
            << c.name << (fuse_relu ? " with fused ReLU" : "") << ": " << pass << " runs oneDNN's "
            << name << " on ISA " << kernels::cpu_isa_name();
      }
    }
  }
}

// The gradients on those small maps are checked against finite differences in conv2d_test.cpp
// (TwoByTwoMap, OneByOneMap).

}  // namespace
}  // namespace convoy::testing
