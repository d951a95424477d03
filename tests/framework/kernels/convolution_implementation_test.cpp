// Which oneDNN implementation each convolution gets: never the reference loop on the shapes
// of the benchmarked models (it is ~100x slower), whatever the CPU's ISA.

#include <gtest/gtest.h>

#include <algorithm>

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

// Where every output's window covers the whole input map, the three passes run as matmuls
// (WholeMapConvolution); elsewhere the convolution primitives run.
TEST(ConvolutionImplementationTest, WholeMapShapesRunAsMatmulsAndOthersAsConvolutions) {
  const Case whole_map[] = {
      {"vgg11_bn features.22 (512 channels, 2x2)", {128, 512, 2, 2}, 512, 3, 1, 1, true},
      {"a 1x1 map under a 3x3 kernel", {4, 8, 1, 1}, 16, 3, 1, 1},
      {"an unpadded kernel as large as the map", {4, 16, 3, 3}, 24, 3, 1, 0},
      {"a 5x5 kernel, padding 2, on a 3x3 map", {2, 16, 3, 3}, 8, 5, 1, 2},
      {"stride 2 on a 2x2 map (resnet layer4.0.conv1 at 32 px)", {3, 16, 2, 2}, 24, 3, 2, 1},
      {"one image on a 2x2 map", {1, 16, 2, 2}, 16, 3, 1, 1, true},
  };
  const Case convolution[] = {
      {"resnet18 layer4 (4x4): corners miss each other", {128, 512, 4, 4}, 512, 3, 1, 1},
      {"stride 2 on a 3x3 map: the second output misses the first row", {4, 16, 3, 3}, 16, 3, 2, 1},
      {"a 1x1 kernel on a 2x2 map", {4, 16, 2, 2}, 16, 1, 1, 0},
  };
  for (const auto& c : whole_map) {
    const auto chosen = kernels::Convolution(config_of(c)).implementations();
    EXPECT_EQ(chosen.forward.rfind("whole-map matmul", 0), 0u) << c.name << ": " << chosen.forward;
    EXPECT_EQ(chosen.backward_weights, chosen.forward) << c.name;
    auto switched_off = config_of(c);
    switched_off.paths.whole_map_matmul = false;
    EXPECT_NE(kernels::Convolution(switched_off).implementations().forward.rfind("whole-map", 0),
              0u)
        << c.name << " with whole_map_matmul off";
    auto bf16 = config_of(c);
    bf16.compute_type = kernels::DataType::bf16;
    if (kernels::cpu_has_bf16()) {
      EXPECT_NE(kernels::Convolution(bf16).implementations().forward.rfind("whole-map", 0), 0u)
          << c.name << " in bf16 (the whole-map path is f32 only)";
    }
  }
  for (const auto& c : convolution) {
    const auto chosen = kernels::Convolution(config_of(c)).implementations();
    EXPECT_NE(chosen.forward.rfind("whole-map", 0), 0u) << c.name << ": " << chosen.forward;
  }
}

// im2col + matmul runs where it was measured faster than oneDNN's direct AVX2 convolution
// (output maps up to 7x7, at least 256 input channels under a 3x3 kernel), only where that
// convolution is the one oneDNN would pick, and never on the whole-map path's shapes.
TEST(ConvolutionImplementationTest, Im2colRunsOnSmallMapsWithManyChannelsOnAvx2) {
  const Case im2col_on_avx2[] = {
      {"resnet18 layer4 (512 channels, 4x4)", {128, 512, 4, 4}, 512, 3, 1, 1},
      {"resnet18 layer4.0.conv1 (8x8 -> 4x4, stride 2)", {128, 256, 8, 8}, 512, 3, 2, 1},
      {"resnet50 layer4 (512 channels, 7x7)", {32, 512, 7, 7}, 512, 3, 1, 1},
  };
  const Case primitives[] = {
      {"resnet18 layer3 (256 channels, 8x8)", {128, 256, 8, 8}, 256, 3, 1, 1},
      {"resnet18 layer2 (128 channels, 16x16)", {128, 128, 16, 16}, 128, 3, 1, 1},
      {"resnet20 on Fashion-MNIST (64 channels, 7x7)", {64, 64, 7, 7}, 64, 3, 1, 1},
      {"resnet18 layer4.0.downsample (1x1)", {128, 256, 8, 8}, 512, 1, 2, 0},
      {"vgg11_bn features.22 (2x2): the whole-map path", {128, 512, 2, 2}, 512, 3, 1, 1, true},
  };
  auto path = [](kernels::ConvolutionConfig config, kernels::LoweringChoice when) {
    config.paths.im2col_matmul = when;
    // Winograd off: it takes 3x3 stride-1 shapes first.
    config.paths.winograd = kernels::LoweringChoice::never;
    return kernels::Convolution(config).implementations();
  };
  for (const auto& c : im2col_on_avx2) {
    const auto direct = path(config_of(c), kernels::LoweringChoice::never);
    const auto chosen = path(config_of(c), kernels::LoweringChoice::automatic);
    const bool avx2_direct = direct.forward == "jit:avx2";
    EXPECT_EQ(chosen.forward.rfind("im2col matmul", 0) == 0, avx2_direct)
        << c.name << " on ISA " << kernels::cpu_isa_name() << ": " << chosen.forward
        << " (the primitive: " << direct.forward << ")";
    EXPECT_EQ(chosen.backward_data, chosen.forward) << c.name;
    EXPECT_EQ(chosen.backward_weights, chosen.forward) << c.name;
    const auto forced = path(config_of(c), kernels::LoweringChoice::always);
    EXPECT_EQ(forced.forward.rfind("im2col matmul", 0), 0u) << c.name << ": " << forced.forward;
  }
  for (const auto& c : primitives) {
    const auto chosen = path(config_of(c), kernels::LoweringChoice::automatic);
    EXPECT_EQ(chosen.forward.find("im2col"), std::string::npos) << c.name << ": " << chosen.forward;
  }
  // Forced, the whole-map path still takes its shapes; bf16 and groups keep the primitives.
  const Case& whole_map = primitives[4];
  EXPECT_EQ(
      path(config_of(whole_map), kernels::LoweringChoice::always).forward.rfind("whole-map", 0),
      0u);
  auto grouped = config_of(primitives[0]);
  grouped.groups = 4;
  EXPECT_EQ(path(grouped, kernels::LoweringChoice::always).forward.find("im2col"),
            std::string::npos);
  if (kernels::cpu_has_bf16()) {
    auto bf16 = config_of(im2col_on_avx2[0]);
    bf16.compute_type = kernels::DataType::bf16;
    EXPECT_EQ(path(bf16, kernels::LoweringChoice::always).forward.find("im2col"),
              std::string::npos);
  }
}

// Winograd runs on 3x3 stride-1 convolutions with at least 16 channels in and out where oneDNN
// would run its direct AVX2 convolution, and with at least 32 where it would run its direct
// AVX-512 one: as batched matmuls from 64 channels in and out on AVX2 and from 128 with AVX-512's
// wide lanes (large maps in chunks of images), in tile groups below; with 4x4 output blocks where
// they cut the map little (7, 8, 16, 28, 32, 56 wide) and, as batched matmuls, 2x2 blocks where 4x4
// would waste a third of their work (14 wide; the tile groups take 4x4 there too); forced, it takes
// every 3x3 stride-1 f32 convolution without groups and nothing else. Its activations and their
// gradients are NHWC.
TEST(ConvolutionImplementationTest, WinogradRunsOnThreeByThreeConvolutionsOnAvx2AndAvx512) {
  const Case winograd_on_avx2[] = {
      {"resnet18 layer2 (128 channels, 16x16)", {128, 128, 16, 16}, 128, 3, 1, 1},
      {"resnet18 layer3 (256 channels, 8x8)", {128, 256, 8, 8}, 256, 3, 1, 1},
      {"resnet18 layer4 (512 channels, 4x4)", {128, 512, 4, 4}, 512, 3, 1, 1},
      {"resnet20 layer3 (64 channels, 8x8)", {128, 64, 8, 8}, 64, 3, 1, 1},
      {"resnet20 on Fashion-MNIST (64 channels, 7x7)", {64, 64, 7, 7}, 64, 3, 1, 1},
      {"resnet50 layer4 (512 channels, 7x7)", {32, 512, 7, 7}, 512, 3, 1, 1},
      {"vgg11_bn features.4 (64 -> 128 channels, 16x16)", {128, 64, 16, 16}, 128, 3, 1, 1, true},
      {"resnet18 layer1 (64 channels, 32x32: in chunks)", {128, 64, 32, 32}, 64, 3, 1, 1},
      {"resnet50 layer1 (64 channels, 56x56: in chunks)", {32, 64, 56, 56}, 64, 3, 1, 1},
      {"resnet50 layer3 (256 channels, 14x14: 2x2 blocks)", {32, 256, 14, 14}, 256, 3, 1, 1},
  };
  const Case tile_groups_on_avx2[] = {
      {"resnet20 layer1 (16 channels, 32x32)", {128, 16, 32, 32}, 16, 3, 1, 1},
      {"resnet20 layer2 (32 channels, 16x16)", {128, 32, 16, 16}, 32, 3, 1, 1},
      {"resnet20 on Fashion-MNIST layer1 (16 channels, 28x28)", {64, 16, 28, 28}, 16, 3, 1, 1},
      {"resnet20 on Fashion-MNIST layer2 (32 channels, 14x14)", {64, 32, 14, 14}, 32, 3, 1, 1},
      {"vgg11_bn features.0 after a 16-channel stem (16 -> 64 channels)",
       {128, 16, 32, 32},
       64,
       3,
       1,
       1},
  };
  const auto block_of = [](const Case& c, const std::string& schedule) {
    return c.input[3] == 14 && schedule == "matmul" ? "2x2" : "4x4";
  };
  const Case others[] = {
      {"resnet20 conv1 (3 -> 16 channels)", {128, 3, 32, 32}, 16, 3, 1, 1},
      {"resnet18 layer4.0.conv1 (stride 2)", {128, 256, 8, 8}, 512, 3, 2, 1},
      {"resnet18 layer4.0.downsample (1x1)", {128, 256, 8, 8}, 512, 1, 2, 0},
      {"vgg11_bn features.22 (2x2): the whole-map path", {128, 512, 2, 2}, 512, 3, 1, 1, true},
  };
  auto path = [](kernels::ConvolutionConfig config, kernels::LoweringChoice when) {
    config.paths.winograd = when;
    return kernels::Convolution(config).implementations();
  };
  auto primitive = [](kernels::ConvolutionConfig config) {
    config.paths.winograd = config.paths.im2col_matmul = kernels::LoweringChoice::never;
    return kernels::Convolution(config).implementations();
  };
  const std::string winograd = "winograd F(";
  auto expect_winograd = [&](const Case& c) {
    const int64_t batched_from = kernels::wide_lanes_in_use() ? 128 : 64;
    const std::string schedule =
        std::min(c.input[1], c.out_channels) < batched_from ? "in groups of" : "matmul";
    const auto direct = primitive(config_of(c));
    const auto chosen = path(config_of(c), kernels::LoweringChoice::automatic);
    const int64_t channels = std::min(c.input[1], c.out_channels);
    const bool winograd_here =
        direct.forward == "jit:avx2" || (direct.forward == "jit:avx512_core" && channels >= 32);
    const std::string expected = winograd + block_of(c, schedule) + ",3x3) " + schedule;
    EXPECT_EQ(chosen.forward.rfind(expected, 0) == 0, winograd_here)
        << c.name << " on ISA " << kernels::cpu_isa_name() << ": " << chosen.forward
        << " (the primitive: " << direct.forward << ")";
    EXPECT_EQ(chosen.backward_data, chosen.forward) << c.name;
    EXPECT_EQ(chosen.backward_weights, chosen.forward) << c.name;
    EXPECT_EQ(direct.forward.find("winograd"), std::string::npos) << c.name;
    EXPECT_EQ(path(config_of(c), kernels::LoweringChoice::always).forward.rfind(expected, 0), 0u)
        << c.name;
    auto forced = config_of(c);
    forced.paths.winograd = kernels::LoweringChoice::always;
    const kernels::Convolution convolution(forced);
    EXPECT_NE(convolution.destination_layout().describe().find(" nhwc"), std::string::npos)
        << c.name << ": " << convolution.destination_layout().describe();
    EXPECT_NE(convolution.source_layout().describe().find(" nhwc"), std::string::npos)
        << c.name << ": " << convolution.source_layout().describe();
  };
  for (const auto& c : winograd_on_avx2) expect_winograd(c);
  for (const auto& c : tile_groups_on_avx2) expect_winograd(c);
  // The schedule forced either way.
  auto groups_forced = config_of(winograd_on_avx2[0]),
       batched_forced = config_of(tile_groups_on_avx2[1]);
  groups_forced.paths.winograd_tile_groups = kernels::LoweringChoice::always;
  batched_forced.paths.winograd_tile_groups = kernels::LoweringChoice::never;
  EXPECT_NE(path(groups_forced, kernels::LoweringChoice::always).forward.find("in groups of"),
            std::string::npos);
  EXPECT_NE(path(batched_forced, kernels::LoweringChoice::always).forward.find("matmul"),
            std::string::npos);
  for (const auto& c : others) {
    const auto chosen = path(config_of(c), kernels::LoweringChoice::automatic);
    EXPECT_EQ(chosen.forward.find("winograd"), std::string::npos)
        << c.name << ": " << chosen.forward;
  }
  // Forced: resnet20's 3-channel stem is taken; a stride, a 5x5 kernel, dilation and groups are
  // not Winograd; the whole-map path keeps its shapes.
  EXPECT_EQ(path(config_of(others[0]), kernels::LoweringChoice::always).forward.rfind(winograd, 0),
            0u);
  auto five = config_of(winograd_on_avx2[1]);
  five.kernel_h = five.kernel_w = 5;
  five.padding_h = five.padding_w = 2;
  auto dilated = config_of(winograd_on_avx2[1]);
  dilated.dilation_h = dilated.dilation_w = 2;
  dilated.padding_h = dilated.padding_w = 2;
  auto grouped = config_of(winograd_on_avx2[1]);
  grouped.groups = 4;
  for (const auto& config : {config_of(others[1]), five, dilated, grouped}) {
    EXPECT_EQ(path(config, kernels::LoweringChoice::always).forward.find("winograd"),
              std::string::npos)
        << to_string(config.input) << " kernel " << config.kernel_h;
  }
  EXPECT_EQ(
      path(config_of(others[3]), kernels::LoweringChoice::always).forward.rfind("whole-map", 0),
      0u);
  // im2col forced outranks Winograd's automatic choice.
  auto im2col_forced = config_of(winograd_on_avx2[2]);
  im2col_forced.paths.im2col_matmul = kernels::LoweringChoice::always;
  EXPECT_EQ(path(im2col_forced, kernels::LoweringChoice::automatic).forward.rfind("im2col", 0), 0u);
}

// bf16 layers take Winograd where oneDNN would run jit_bf16:avx512_core_bf16: from 256 channels
// in and out, or 128 on maps up to 16x16, with 2x2 blocks on bf16 matmuls (the implementation
// names the matmul's bf16 ISA); from 64 to 127 channels in AVX-512's tile groups, f32 inside with
// 4x4 blocks. 32 channels and stride 2 keep the bf16 primitives, and so does every layer where
// oneDNN has another bf16 implementation (AMX: not measured). Forced, 4x4 blocks run f32 matmuls
// inside the bf16 layer.
TEST(ConvolutionImplementationTest, Bf16WinogradRunsFrom64Channels) {
  if (!kernels::cpu_has_bf16()) {
    GTEST_SKIP() << "this CPU's best ISA is " << kernels::cpu_isa_name()
                 << ", without AVX512-BF16 or AMX: no bf16 convolutions to choose for";
  }
  const Case batched_cases[] = {
      {"resnet18 layer3 (256 channels, 8x8)", {128, 256, 8, 8}, 256, 3, 1, 1},
      {"resnet18 layer4 (512 channels, 4x4)", {128, 512, 4, 4}, 512, 3, 1, 1},
      {"resnet18 layer2 (128 channels, 16x16)", {128, 128, 16, 16}, 128, 3, 1, 1},
      {"resnet50 layer3 (256 channels, 14x14)", {32, 256, 14, 14}, 256, 3, 1, 1},
  };
  const Case tile_group_cases[] = {
      {"resnet18 layer1 (64 channels, 32x32)", {128, 64, 32, 32}, 64, 3, 1, 1},
      {"resnet50 layer1 (64 channels, 56x56)", {32, 64, 56, 56}, 64, 3, 1, 1},
      {"resnet20 on Fashion-MNIST layer3 (64 channels, 7x7)", {64, 64, 7, 7}, 64, 3, 1, 1},
      {"vgg11_bn features.4 (64 -> 128 channels, 16x16)", {128, 64, 16, 16}, 128, 3, 1, 1, true},
  };
  const Case primitive_cases[] = {
      {"resnet50 layer2 (128 channels, 28x28)", {32, 128, 28, 28}, 128, 3, 1, 1},
      {"resnet20 layer2 (32 channels, 16x16)", {128, 32, 16, 16}, 32, 3, 1, 1},
      {"resnet18 layer4.0.conv1 (stride 2)", {128, 256, 8, 8}, 512, 3, 2, 1},
  };
  auto bf16 = [](const Case& c, kernels::LoweringChoice winograd) {
    auto config = config_of(c);
    config.compute_type = kernels::DataType::bf16;
    config.paths.winograd = winograd;
    return config;
  };
  auto chosen = [&](const Case& c, kernels::LoweringChoice winograd) {
    return kernels::Convolution(bf16(c, winograd)).implementations().forward;
  };
  const auto primitive = chosen(batched_cases[0], kernels::LoweringChoice::never);
  const bool measured_here =
      primitive == "jit_bf16:avx512_core_bf16" && kernels::wide_lanes_in_use();
  for (const auto& c : batched_cases) {
    const auto automatic = chosen(c, kernels::LoweringChoice::automatic);
    EXPECT_EQ(automatic.rfind("winograd F(2x2,3x3) matmul (", 0) == 0, measured_here)
        << c.name << ": " << automatic << " (the primitive: " << primitive << ")";
    const auto forced = chosen(c, kernels::LoweringChoice::always);
    EXPECT_EQ(forced.rfind("winograd F(2x2,3x3) matmul (", 0), 0u) << c.name << ": " << forced;
    EXPECT_NE(forced.find("bf16"), std::string::npos) << c.name << ": " << forced;
    auto four = bf16(c, kernels::LoweringChoice::always);
    four.paths.winograd_tile = 4;
    const auto f32_inside = kernels::Convolution(four).implementations().forward;
    EXPECT_EQ(f32_inside.rfind("winograd F(4x4,3x3) matmul (", 0), 0u)
        << c.name << ": " << f32_inside;
    EXPECT_EQ(f32_inside.find("bf16"), std::string::npos) << c.name << ": " << f32_inside;
  }
  for (const auto& c : tile_group_cases) {
    const auto automatic = chosen(c, kernels::LoweringChoice::automatic);
    EXPECT_EQ(automatic.rfind("winograd F(4x4,3x3) in groups of ", 0) == 0, measured_here)
        << c.name << ": " << automatic << " (the primitive: " << primitive << ")";
  }
  for (const auto& c : primitive_cases) {
    const auto automatic = chosen(c, kernels::LoweringChoice::automatic);
    EXPECT_EQ(automatic.find("winograd"), std::string::npos) << c.name << ": " << automatic;
    EXPECT_NE(automatic.find("bf16"), std::string::npos) << c.name << ": " << automatic;
  }
}

// The forward and gradients of the lowered paths on these maps are checked against the reference
// loop and finite differences in conv2d_test.cpp (TwoByTwoMap, OneByOneMap,
// Kernel5OnThreeByThreeMap, and the ...AsIm2col and ...AsWinograd cases).

}  // namespace
}  // namespace convoy::testing
