#include "framework/layers/conv2d.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "framework/common/error.hpp"
#include "framework/kernels/context.hpp"
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
using testing::relative_difference;

// The textbook seven-loop convolution, the definition the oneDNN result must match.
std::vector<float> reference_conv2d(const std::vector<float>& input, const Shape& input_shape,
                                    const std::vector<float>& weight,
                                    const std::vector<float>* bias, const Conv2dOptions& o,
                                    const Shape& output_shape) {
  const int64_t N = input_shape[0], C = input_shape[1], H = input_shape[2], W = input_shape[3];
  const int64_t O = output_shape[1], OH = output_shape[2], OW = output_shape[3];
  const int64_t group_in = C / o.groups, group_out = O / o.groups, K = o.kernel;
  std::vector<float> output(static_cast<size_t>(N * O * OH * OW));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t oc = 0; oc < O; ++oc)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          double sum = bias ? (*bias)[oc] : 0.0;
          const int64_t g = oc / group_out;
          for (int64_t ic = 0; ic < group_in; ++ic)
            for (int64_t kh = 0; kh < K; ++kh)
              for (int64_t kw = 0; kw < K; ++kw) {
                const int64_t ih = oh * o.stride - o.padding + kh * o.dilation;
                const int64_t iw = ow * o.stride - o.padding + kw * o.dilation;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                const int64_t c = g * group_in + ic;
                sum += static_cast<double>(input[((n * C + c) * H + ih) * W + iw]) *
                       weight[((oc * group_in + ic) * K + kh) * K + kw];
              }
          double value = o.fuse_relu ? std::max(sum, 0.0) : sum;
          output[((n * O + oc) * OH + oh) * OW + ow] = static_cast<float>(value);
        }
  return output;
}

struct Conv2dCase {
  const char* name;
  Shape input;
  Conv2dOptions options;
};

void PrintTo(const Conv2dCase& value, std::ostream* out) { *out << value.name; }

class Conv2dCases : public ::testing::TestWithParam<Conv2dCase> {};

TEST_P(Conv2dCases, ForwardMatchesReferenceLoop) {
  const auto& param = GetParam();
  Conv2d conv(param.options);
  randomize_parameters(conv, 7);
  Tensor input = random_tensor(param.input, 3);
  Tensor output = conv.forward({input}, Mode::train);
  auto bias = conv.bias() ? conv.bias()->value.to_plain() : std::vector<float>{};
  auto expected = reference_conv2d(input.to_plain(), param.input, conv.weight().value.to_plain(),
                                   conv.bias() ? &bias : nullptr, param.options, output.shape());
  expect_near(output.to_plain(), expected, 1e-4);
}

TEST_P(Conv2dCases, GradientsMatchFiniteDifferences) {
  const auto& param = GetParam();
  Conv2d conv(param.options);
  randomize_parameters(conv, 11);
  GradientCheckOptions options;
  if (param.options.fuse_relu) {
    // Pre-activations near zero make finite differences straddle the ReLU kink: small step.
    options.step = 1e-3;
    options.max_elements_per_tensor = 200;
  }
  expect_gradients_match(conv, {random_tensor(param.input, 5)}, options);
}

Conv2dOptions make(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding,
                   int64_t dilation = 1, int64_t groups = 1, bool bias = true,
                   bool fuse_relu = false) {
  return {in, out, kernel, stride, padding, dilation, groups, bias, fuse_relu};
}

Conv2dOptions primitives(Conv2dOptions options) {
  options.paths.whole_map_matmul = false;
  return options;
}

Conv2dOptions im2col(Conv2dOptions options) {
  options.paths.im2col_matmul = kernels::LoweringChoice::always;
  return options;
}

// Winograd F(2x2, 3x3): 4x4 tiles, 2x2 output blocks.
Conv2dOptions winograd(Conv2dOptions options) {
  options.paths.winograd = kernels::LoweringChoice::always;
  options.paths.winograd_tile = 2;
  options.paths.whole_map_matmul = false;  // which would take maps no larger than the kernel first
  return options;
}

// Winograd F(4x4, 3x3): 6x6 tiles, 4x4 output blocks.
Conv2dOptions winograd4(Conv2dOptions options) {
  options = winograd(options);
  options.paths.winograd_tile = 4;
  return options;
}

// Winograd's schedule forced: the whole batch's tiles through batched oneDNN matmuls (which the
// rule leaves to 64 channels in and out and more on AVX2, 128 with AVX-512), or cache-sized tile
// groups (fewer channels).
Conv2dOptions batched(Conv2dOptions options) {
  options.paths.winograd_tile_groups = kernels::LoweringChoice::never;
  return options;
}
Conv2dOptions tile_groups(Conv2dOptions options) {
  options.paths.winograd_tile_groups = kernels::LoweringChoice::always;
  return options;
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, Conv2dCases,
    ::testing::Values(
        Conv2dCase{"Basic3x3", {2, 3, 5, 5}, make(3, 4, 3, 1, 1)},
        Conv2dCase{"OddSizeStride2", {2, 3, 7, 6}, make(3, 5, 3, 2, 1)},
        Conv2dCase{"Dilation2NoBias", {1, 2, 9, 8}, make(2, 3, 3, 1, 2, 2, 1, false)},
        Conv2dCase{"Groups", {2, 4, 6, 6}, make(4, 6, 3, 1, 1, 1, 2)},
        Conv2dCase{"Depthwise", {2, 4, 5, 7}, make(4, 4, 3, 2, 1, 1, 4)},
        Conv2dCase{"Pointwise", {3, 5, 4, 4}, make(5, 7, 1, 1, 0)},
        Conv2dCase{"Kernel5Stride3", {2, 2, 11, 10}, make(2, 3, 5, 3, 2)},
        Conv2dCase{"Wide16Channels", {2, 16, 6, 6}, make(16, 32, 3, 1, 1)},
        Conv2dCase{"FusedRelu", {2, 16, 6, 6}, make(16, 16, 3, 1, 1, 1, 1, false, true)},
        // Maps smaller than the kernel, as at the end of VGG: on AVX2, oneDNN 2.6
        // has no optimized backward-weights for the forward's layout here.
        Conv2dCase{"TwoByTwoMap", {4, 8, 2, 2}, make(8, 8, 3, 1, 1)},
        Conv2dCase{"TwoByTwoMapFusedRelu", {4, 16, 2, 2}, make(16, 16, 3, 1, 1, 1, 1, true, true)},
        Conv2dCase{"OneByOneMap", {4, 8, 1, 1}, make(8, 16, 3, 1, 1)},
        // Every output's window covers the whole map: these run as matmuls (WholeMapConvolution)
        // with activations in blocked layouts and the weights expanded and folded back.
        Conv2dCase{"TwoByTwoMapNoBias", {3, 16, 2, 2}, make(16, 24, 3, 1, 1, 1, 1, false)},
        Conv2dCase{"Kernel5OnThreeByThreeMap", {2, 16, 3, 3}, make(16, 8, 5, 1, 2)},
        Conv2dCase{"UnpaddedKernelAsLargeAsTheMap", {3, 16, 3, 3}, make(16, 24, 3, 1, 0)},
        // A strided one (a torchvision ResNet's layer4.0.conv1 on 32-pixel images: 2x2 -> 1x1),
        // and a batch of one image (the matmuls' M is 1).
        Conv2dCase{"TwoByTwoMapStride2AsWholeMap", {3, 16, 2, 2}, make(16, 24, 3, 2, 1)},
        Conv2dCase{
            "OneImageOnATwoByTwoMap", {1, 16, 2, 2}, make(16, 16, 3, 1, 1, 1, 1, true, true)},
        // The same maps with the whole-map path switched off: the convolution primitives.
        Conv2dCase{"TwoByTwoMapAsConvolution", {4, 8, 2, 2}, primitives(make(8, 8, 3, 1, 1))},
        Conv2dCase{"TwoByTwoMapFusedReluAsConvolution",
                   {4, 16, 2, 2},
                   primitives(make(16, 16, 3, 1, 1, 1, 1, true, true))},
        Conv2dCase{"OneByOneMapAsConvolution", {4, 8, 1, 1}, primitives(make(8, 16, 3, 1, 1))},
        // Channel counts that leave padding in the blocked layouts: the convolution primitives run.
        Conv2dCase{"TwoByTwoMapPaddedChannelBlocks", {2, 3, 2, 2}, make(3, 5, 3, 1, 1)},
        // im2col + matmul (Im2colConvolution), forced on shapes the automatic rule leaves to
        // the primitives: strides, dilation, odd sizes, 5x5 and 1x1 kernels, no bias, a fused
        // ReLU, channel counts that fill no 8-wide block.
        Conv2dCase{"Basic3x3AsIm2col", {2, 3, 5, 5}, im2col(make(3, 4, 3, 1, 1))},
        Conv2dCase{"OddSizeStride2AsIm2col", {2, 3, 7, 6}, im2col(make(3, 5, 3, 2, 1))},
        Conv2dCase{
            "Dilation2NoBiasAsIm2col", {1, 2, 9, 8}, im2col(make(2, 3, 3, 1, 2, 2, 1, false))},
        Conv2dCase{"Kernel5Stride3AsIm2col", {2, 2, 11, 10}, im2col(make(2, 3, 5, 3, 2))},
        Conv2dCase{"PointwiseAsIm2col", {3, 5, 4, 4}, im2col(make(5, 7, 1, 1, 0))},
        Conv2dCase{"FourByFourMapAsIm2col", {3, 16, 4, 4}, im2col(make(16, 24, 3, 1, 1))},
        Conv2dCase{"FourByFourMapFusedReluAsIm2col",
                   {2, 16, 4, 4},
                   im2col(make(16, 16, 3, 1, 1, 1, 1, false, true))},
        Conv2dCase{"UnpaddedStride2AsIm2col", {2, 8, 8, 7}, im2col(make(8, 16, 3, 2, 0))},
        // Winograd F(2x2, 3x3) (WinogradConvolution), forced on shapes the automatic rule leaves
        // to the primitives: odd map sizes (blocks cut at the edge), paddings 0 and 2 (backward-
        // data then pads by 2 and 0), no bias, a fused ReLU, channel counts beyond one 64-wide
        // block and within no 8-wide one, maps smaller than a tile.
        Conv2dCase{"Basic3x3AsWinograd", {2, 3, 5, 5}, winograd(make(3, 4, 3, 1, 1))},
        Conv2dCase{"UnpaddedOddSizeAsWinograd", {2, 3, 7, 6}, winograd(make(3, 5, 3, 1, 0))},
        Conv2dCase{
            "Padding2NoBiasAsWinograd", {1, 2, 6, 5}, winograd(make(2, 3, 3, 1, 2, 1, 1, false))},
        Conv2dCase{"FusedReluAsWinograd",
                   {2, 16, 6, 6},
                   winograd(make(16, 16, 3, 1, 1, 1, 1, false, true))},
        Conv2dCase{"SeventyChannelsAsWinograd", {2, 70, 4, 3}, winograd(make(70, 66, 3, 1, 1))},
        Conv2dCase{"TwoByTwoMapAsWinograd", {3, 8, 2, 2}, winograd(make(8, 8, 3, 1, 1))},
        Conv2dCase{"OneByOneMapAsWinograd", {4, 8, 1, 1}, winograd(make(8, 16, 3, 1, 1))},
        // Winograd F(4x4, 3x3) on the same kinds of shapes: blocks cut at the edges of 5- to
        // 9-wide maps, and maps smaller than a block.
        Conv2dCase{"Basic3x3AsWinograd4x4", {2, 3, 5, 5}, winograd4(make(3, 4, 3, 1, 1))},
        Conv2dCase{"UnpaddedOddSizeAsWinograd4x4", {2, 3, 7, 6}, winograd4(make(3, 5, 3, 1, 0))},
        Conv2dCase{"Padding2NoBiasAsWinograd4x4",
                   {1, 2, 6, 5},
                   winograd4(make(2, 3, 3, 1, 2, 1, 1, false))},
        // (Fewer channels than F(2x2)'s case: the ReLU needs a small finite-difference step, and
        // F(4x4)'s larger rounding over 16 channels would swamp it.)
        Conv2dCase{"FusedReluAsWinograd4x4",
                   {2, 4, 6, 6},
                   winograd4(make(4, 4, 3, 1, 1, 1, 1, false, true))},
        // 13 and 11 channels: one 8-wide lane and a tail of single channels, on several blocks.
        Conv2dCase{"ChannelTailsAsWinograd4x4", {2, 13, 9, 7}, winograd4(make(13, 11, 3, 1, 1))},
        Conv2dCase{"TwoByTwoMapAsWinograd4x4", {3, 8, 2, 2}, winograd4(make(8, 8, 3, 1, 1))},
        Conv2dCase{"OneByOneMapAsWinograd4x4", {4, 8, 1, 1}, winograd4(make(8, 16, 3, 1, 1))},
        // The cases above with fewer than 64 channels ran in tile groups, the rule's schedule
        // there; the batched matmuls on the same kinds of shapes. Tile groups on channel tails: 22
        // in (eight-wide lanes and single channels), 18 out (a 16-wide kernel step and two single
        // columns); and 36 tiles as a 30-tile group and a 6-tile one, whose filter gradients are
        // summed in order when two threads take one each.
        Conv2dCase{"UnpaddedOddSizeAsWinogradBatched",
                   {2, 3, 7, 6},
                   batched(winograd(make(3, 5, 3, 1, 0)))},
        Conv2dCase{"Padding2NoBiasAsWinograd4x4Batched",
                   {1, 2, 6, 5},
                   batched(winograd4(make(2, 3, 3, 1, 2, 1, 1, false)))},
        Conv2dCase{"FusedReluAsWinograd4x4Batched",
                   {2, 4, 6, 6},
                   batched(winograd4(make(4, 4, 3, 1, 1, 1, 1, false, true)))},
        Conv2dCase{"ChannelTailsAsWinograd4x4Batched",
                   {2, 13, 9, 7},
                   batched(winograd4(make(13, 11, 3, 1, 1)))},
        Conv2dCase{"ChannelTailsAsWinogradTileGroups",
                   {2, 22, 4, 3},
                   tile_groups(winograd(make(22, 18, 3, 1, 1)))},
        Conv2dCase{"TwoGroupsOfTilesAsWinograd4x4",
                   {3, 16, 13, 11},
                   tile_groups(winograd4(make(16, 16, 3, 1, 1)))}),
    [](const auto& info) { return std::string(info.param.name); });

// A batch whose Winograd tiles exceed 32 MB runs in chunks of images (here 3 chunks of 3: 4 MB
// of tiles per 64x64 image): output, input gradient and the filter and bias gradients summed
// over the chunks equal the convolution primitives' up to rounding.
TEST(Conv2dTest, WinogradInChunksOfImagesComputesWhatThePrimitivesDo) {
  const Shape shape{9, 64, 64, 64};
  Conv2dOptions options = make(64, 64, 3, 1, 1);
  options.paths.im2col_matmul = kernels::LoweringChoice::never;
  options.paths.winograd = kernels::LoweringChoice::always;
  options.paths.winograd_tile = 2;  // 4x4 blocks would need 2.4 MB per image: no chunks
  options = batched(options);       // (AVX-512's rule takes tile groups for 64 channels)
  Conv2d winograd(options);
  options.paths.winograd = kernels::LoweringChoice::never;
  Conv2d primitives(options);
  const Tensor input = random_tensor(shape, 31), output_grad = random_tensor(shape, 32);
  std::vector<std::vector<float>> results[2];
  int side = 0;
  for (Conv2d* conv : {&winograd, &primitives}) {
    randomize_parameters(*conv, 33);
    const auto output = conv->forward({input}, Mode::train).to_plain();
    const auto input_grad = conv->backward(output_grad)[0].to_plain();
    results[side++] = {output, input_grad, conv->weight().grad.to_plain(),
                       conv->bias()->grad.to_plain()};
  }
  // The kernels exist once a forward ran.
  const std::string chosen = winograd.implementation();
  EXPECT_EQ(chosen.rfind("winograd F(2x2,3x3) matmul (", 0), 0u) << chosen;
  EXPECT_TRUE(chosen.ends_with(") in 3 chunks")) << chosen;
  EXPECT_EQ(primitives.implementation().find("winograd"), std::string::npos);
  for (const int k : {0, 1, 2, 3}) {
    EXPECT_LT(relative_difference(results[0][k], results[1][k]), 1e-5)
        << "output, input gradient, weight gradient, bias gradient: #" << k;
  }
}

// Both Winograd block sizes in both schedules on one many-channel map, against the convolution
// primitives: F(4x4, 3x3) names itself and stays within 1e-5 (relative, the whole tensor) of
// them, as F(2x2, 3x3) does; an output block of 3 is refused.
TEST(Conv2dTest, WinogradBlocksOfTwoAndFourComputeWhatThePrimitivesDo) {
  const Shape shape{4, 64, 13, 11};
  const Tensor input = random_tensor(shape, 41), output_grad = random_tensor(shape, 42);
  std::vector<std::vector<float>> expected;
  struct Run {
    int64_t block;
    bool groups;
  };
  for (const auto [block, groups] :
       {Run{0, false}, Run{2, false}, Run{4, false}, Run{2, true}, Run{4, true}}) {
    Conv2dOptions options = winograd(make(64, 64, 3, 1, 1));
    if (block == 0) options.paths.winograd = kernels::LoweringChoice::never;
    options.paths.winograd_tile = block;
    options.paths.im2col_matmul = kernels::LoweringChoice::never;
    options = groups ? tile_groups(options) : batched(options);
    Conv2d conv(options);
    randomize_parameters(conv, 43);
    const auto output = conv.forward({input}, Mode::train).to_plain();
    const auto input_grad = conv.backward(output_grad)[0].to_plain();
    const std::vector<std::vector<float>> results = {
        output, input_grad, conv.weight().grad.to_plain(), conv.bias()->grad.to_plain()};
    const std::string chosen = conv.implementation();
    if (block == 0) {
      EXPECT_EQ(chosen.find("winograd"), std::string::npos) << chosen;
      expected = results;
      continue;
    }
    const std::string name = "winograd F(" + std::to_string(block) + "x" + std::to_string(block) +
                             ",3x3) " + (groups ? "in groups of" : "matmul (");
    EXPECT_EQ(chosen.rfind(name, 0), 0u) << chosen;
    for (const int k : {0, 1, 2, 3}) {
      EXPECT_LT(relative_difference(results[k], expected[k]), 1e-5)
          << "block " << block << (groups ? " in tile groups" : "")
          << ": output, input gradient, weight gradient, bias gradient: #" << k;
    }
  }
  Conv2dOptions three = winograd(make(8, 8, 3, 1, 1));
  three.paths.winograd_tile = 3;
  Conv2d conv(three);
  EXPECT_THAT(
      [&] {
        conv.forward({random_tensor({1, 8, 6, 6}, 44)}, Mode::train);
      },
      ThrowsMessage<ConfigError>(HasSubstr("Winograd output blocks are 2x2 or 4x4, got 3")));
}

// Winograd's AVX-512 loops (16 channels a vector, then 8, then one at a time) compute the same
// bits as its AVX2 loops (8, then one), in both schedules and block sizes, with relu and bias
// and with channel counts that leave tails of every kind: forward, input gradient and the
// weight and bias gradients, compared bit for bit.
TEST(Conv2dTest, WinogradWideLanesComputeTheSameBitsAsEightLanes) {
  if (!kernels::wide_lanes_in_use()) {
    GTEST_SKIP() << "this CPU has no x86-64-v4 (AVX-512): Winograd runs its 8-lane loops only";
  }
  struct Case {
    const char* name;
    Shape input;
    Conv2dOptions options;
  };
  const Case cases[] = {
      {"tile groups, 4x4, 16 channels",
       {3, 16, 13, 11},
       tile_groups(winograd4(make(16, 16, 3, 1, 1)))},
      {"tile groups, 2x2, 40 -> 24 channels, relu",
       {2, 40, 9, 7},
       tile_groups(winograd(make(40, 24, 3, 1, 1, 1, 1, true, true)))},
      {"tile groups, 4x4, 13 -> 29 channels, no bias",
       {2, 13, 10, 9},
       tile_groups(winograd4(make(13, 29, 3, 1, 1, 1, 1, false)))},
      {"batched, 4x4, 70 -> 66 channels", {2, 70, 8, 7}, batched(winograd4(make(70, 66, 3, 1, 1)))},
      {"batched, 2x2, 64 -> 88 channels", {2, 64, 6, 6}, batched(winograd(make(64, 88, 3, 1, 1)))},
  };
  for (const auto& c : cases) {
    const Tensor input = random_tensor(c.input, 51);
    std::vector<std::vector<float>> results[2];
    for (const bool wide : {true, false}) {
      kernels::allow_wide_lanes(wide);
      Conv2d conv(c.options);
      randomize_parameters(conv, 52);
      const auto output = conv.forward({input}, Mode::train);
      const auto input_grad = conv.backward(random_tensor(output.shape(), 53))[0].to_plain();
      results[wide ? 0 : 1] = {output.to_plain(), input_grad, conv.weight().grad.to_plain()};
      if (conv.bias() != nullptr) results[wide ? 0 : 1].push_back(conv.bias()->grad.to_plain());
      EXPECT_EQ(conv.implementation().rfind("winograd F(", 0), 0u) << c.name;
    }
    kernels::allow_wide_lanes(true);
    for (size_t k = 0; k < results[0].size(); ++k) {
      EXPECT_EQ(results[0][k], results[1][k])
          << c.name << ": output, input gradient, weight gradient, bias gradient: #" << k;
    }
  }
}

// A network's first convolution skips its input gradient (Net::set_input_gradient_needed); with
// a fused ReLU its backward-weights then masks the output gradient itself, in the layouts its
// path keeps. On every path (a first layer takes one under --winograd or --im2col-matmul always)
// the weight and bias gradients must be the bits a backward with the input gradient gives, which
// GradientsMatchFiniteDifferences checks.
TEST(Conv2dTest, FusedReluWeightGradientsWithoutTheInputGradientAreTheSameOnEveryPath) {
  struct Case {
    const char* path;  // how the implementation's name starts
    Shape input;
    Conv2dOptions options;
  };
  const Case cases[] = {
      {"", {2, 3, 6, 5}, primitives(make(3, 16, 3, 1, 1, 1, 1, true, true))},
      {"whole-map matmul", {3, 16, 2, 2}, make(16, 24, 3, 1, 1, 1, 1, true, true)},
      {"im2col matmul", {2, 3, 7, 6}, im2col(make(3, 16, 3, 2, 1, 1, 1, true, true))},
      {"winograd F(2x2,3x3) in groups",
       {2, 3, 7, 6},
       tile_groups(winograd(make(3, 16, 3, 1, 1, 1, 1, true, true)))},
      {"winograd F(4x4,3x3) matmul",
       {2, 3, 9, 7},
       batched(winograd4(make(3, 16, 3, 1, 1, 1, 1, true, true)))},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.path[0] ? c.path : "convolution primitives");
    const Tensor input = random_tensor(c.input, 81);
    std::vector<float> gradients[2];
    for (const bool needed : {true, false}) {
      Conv2d conv(c.options);
      randomize_parameters(conv, 82);
      conv.set_input_gradient_needed(needed);
      const Tensor output = conv.forward({input}, Mode::train);
      const auto input_grad = conv.backward(random_tensor(output.shape(), 83));
      EXPECT_EQ(input_grad.at(0).empty(), !needed);
      EXPECT_EQ(conv.implementation().rfind(c.path, 0), 0u) << conv.implementation();
      gradients[needed] = conv.weight().grad.to_plain();
      const auto bias_grad = conv.bias()->grad.to_plain();
      gradients[needed].insert(gradients[needed].end(), bias_grad.begin(), bias_grad.end());
    }
    EXPECT_EQ(gradients[false], gradients[true]);
  }
}

TEST(Conv2dTest, ShiftingTheInputShiftsTheOutputAwayFromBorders) {
  Conv2d conv(make(2, 3, 3, 1, 1));
  randomize_parameters(conv, 1);
  const int64_t H = 12, W = 12, shift = 2;
  Tensor input = random_tensor({1, 2, H, W}, 9);
  auto values = input.to_plain();
  std::vector<float> shifted(values.size(), 0.0f);
  for (int64_t c = 0; c < 2; ++c)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t w = shift; w < W; ++w)
        shifted[(c * H + h) * W + w] = values[(c * H + h) * W + w - shift];
  auto out = conv.forward({input}, Mode::eval).to_plain();
  auto out_shifted =
      conv.forward({Tensor::from_plain({1, 2, H, W}, shifted)}, Mode::eval).to_plain();
  for (int64_t o = 0; o < 3; ++o)
    for (int64_t h = 1; h < H - 1; ++h)
      for (int64_t w = shift + 1; w < W - 1; ++w)
        EXPECT_NEAR(out_shifted[(o * H + h) * W + w], out[(o * H + h) * W + w - shift], 1e-5)
            << "channel " << o << " at (" << h << ", " << w << ")";
}

TEST(Conv2dTest, AcceptsAnyInputSizeAndDerivesOutputSize) {
  Conv2d conv(make(1, 2, 3, 2, 1));
  for (int64_t size : {1, 2, 7, 28, 33}) {
    Tensor output = conv.forward({random_tensor({2, 1, size, size + 1}, size)}, Mode::train);
    EXPECT_EQ(output.shape(), (Shape{2, 2, (size - 1) / 2 + 1, size / 2 + 1})) << "size " << size;
  }
}

TEST(Conv2dTest, RejectsBadOptionsWithAMessageNamingTheLayer) {
  EXPECT_THAT([&] { Conv2d conv(make(3, 4, 3, 1, -1)); },
              ThrowsMessage<ShapeError>(
                  AllOf(HasSubstr("padding must not be negative"), HasSubstr("Conv2d(3, 4"))));
  EXPECT_THROW(Conv2d(make(6, 4, 3, 1, 1, 1, 4)), ShapeError);
}

TEST(Conv2dTest, RejectsAnInputSmallerThanTheKernel) {
  Conv2d conv(make(1, 1, 3, 2, 0));
  EXPECT_THROW(conv.forward({random_tensor({1, 1, 2, 2}, 1)}, Mode::train), ShapeError);
}

TEST(Conv2dTest, RejectsAnInputWithTheWrongChannelCount) {
  Conv2d conv(make(3, 4, 3, 1, 1));
  EXPECT_THAT(
      [&] {
        conv.forward({random_tensor({1, 2, 5, 5}, 1)}, Mode::train);
      },
      ThrowsMessage<ShapeError>(HasSubstr("(N, 3, H, W), got (1, 2, 5, 5)")));
}

}  // namespace
}  // namespace convoy
