// --precision bf16: Conv2d and Linear multiply bf16-rounded inputs, weights and output
// gradients and accumulate in f32. Conv2d stores its output and input gradient in bf16 (the
// activations stay bf16 between convolutions) and its weight gradient in f32; Linear writes f32.
// The references below round exactly those operands to bf16 (round to nearest even), accumulate
// in double and round a bf16 result once: a layer that still computed in f32 misses them by
// ~100x the tolerance.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <numeric>
#include <random>

#include "framework/kernels/context.hpp"
#include "framework/layers/activation.hpp"
#include "framework/layers/adaptive_avg_pool2d.hpp"
#include "framework/layers/add.hpp"
#include "framework/layers/batch_norm2d.hpp"
#include "framework/layers/conv2d.hpp"
#include "framework/layers/linear.hpp"
#include "framework/layers/max_pool2d.hpp"
#include "framework/models/model_builder.hpp"
#include "support/layer_testing.hpp"

namespace convoy {
namespace {

using testing::expect_near;
using testing::random_tensor;
using testing::randomize_parameters;

float round_to_bf16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  bits += 0x7FFF + ((bits >> 16) & 1);  // round to nearest, ties to even
  bits &= 0xFFFF0000u;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

std::vector<float> rounded(std::vector<float> values) {
  for (auto& value : values) value = round_to_bf16(value);
  return values;
}

// Each value is a bf16 (low 16 bits zero) and the nearest one to the exact result, or its
// neighbour (oneDNN rounds an f32 sum, the reference a double one).
void expect_bf16_rounding_of(const std::vector<float>& actual, const std::vector<double>& exact) {
  ASSERT_EQ(actual.size(), exact.size());
  int misses = 0;
  for (size_t i = 0; i < actual.size() && misses < 5; ++i) {
    uint32_t bits;
    std::memcpy(&bits, &actual[i], sizeof bits);
    // One bf16 step (2^-7 relative at most), plus room for f32 accumulation near zero.
    const double ulp = std::abs(exact[i]) * std::pow(2.0, -7) + 1e-5;
    if ((bits & 0xFFFFu) != 0 || std::abs(actual[i] - exact[i]) > ulp) {
      ADD_FAILURE() << "element " << i << ": " << actual[i] << ", expected the bf16 rounding of "
                    << exact[i];
      ++misses;
    }
  }
}

double max_abs_difference(const std::vector<float>& a, const std::vector<float>& b) {
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(double(a[i]) - b[i]));
  return worst;
}

// Stride-2, padded, biased 3x3 convolution: forward, input gradient and weight gradient loops.
struct ConvolutionReference {
  int64_t N = 2, C = 5, H = 7, W = 6, O = 8, K = 3, stride = 2, padding = 1;
  int64_t OH = (H + 2 * padding - K) / stride + 1, OW = (W + 2 * padding - K) / stride + 1;

  template <typename Visit>
  void for_each_tap(Visit visit) const {
    for (int64_t n = 0; n < N; ++n)
      for (int64_t o = 0; o < O; ++o)
        for (int64_t oh = 0; oh < OH; ++oh)
          for (int64_t ow = 0; ow < OW; ++ow)
            for (int64_t c = 0; c < C; ++c)
              for (int64_t kh = 0; kh < K; ++kh)
                for (int64_t kw = 0; kw < K; ++kw) {
                  const int64_t ih = oh * stride - padding + kh, iw = ow * stride - padding + kw;
                  if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                  visit(((n * C + c) * H + ih) * W + iw, ((o * C + c) * K + kh) * K + kw,
                        ((n * O + o) * OH + oh) * OW + ow);
                }
  }
};

Conv2dOptions bf16_conv_options(const ConvolutionReference& r) {
  Conv2dOptions options;
  options.in_channels = r.C;
  options.out_channels = r.O;
  options.kernel = r.K;
  options.stride = r.stride;
  options.padding = r.padding;
  options.compute_type = DataType::bf16;
  return options;
}

class MixedPrecisionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // oneDNN 2.6 runs no bf16 primitive below AVX-512; such CPUs are refused by name, which
    // TrainCommandTest.Bf16TrainsWhereTheCpuHasItAndIsRefusedByNameElsewhere checks.
    if (!kernels::cpu_has_bf16()) {
      GTEST_SKIP() << "this CPU's best ISA is " << kernels::cpu_isa_name()
                   << ", without AVX512-BF16 or AMX: bf16 arithmetic cannot be checked here";
    }
  }
};

TEST_F(MixedPrecisionTest, Conv2dMultipliesBf16OperandsAndAccumulatesInF32) {
  ConvolutionReference r;
  Conv2d conv(bf16_conv_options(r));
  randomize_parameters(conv, 21);
  Tensor input = random_tensor({r.N, r.C, r.H, r.W}, 22);
  Tensor output = conv.forward({input}, Mode::train);
  ASSERT_EQ(output.layout().data_type(), DataType::bf16);

  const auto x = rounded(input.to_plain()), w = rounded(conv.weight().value.to_plain());
  const auto bias = conv.bias()->value.to_plain();  // bias is added in f32
  std::vector<double> expected(static_cast<size_t>(r.N * r.O * r.OH * r.OW));
  for (int64_t i = 0; i < static_cast<int64_t>(expected.size()); ++i) {
    expected[i] = bias[(i / (r.OH * r.OW)) % r.O];
  }
  r.for_each_tap(
      [&](int64_t xi, int64_t wi, int64_t yi) { expected[yi] += double(x[xi]) * w[wi]; });
  expect_bf16_rounding_of(output.to_plain(), expected);
  const std::vector<float> expected_f32(expected.begin(), expected.end());

  // The same layer in f32 differs from the bf16 reference by the rounding of its operands.
  Conv2dOptions f32_options = bf16_conv_options(r);
  f32_options.compute_type = DataType::f32;
  Conv2d reference_layer(f32_options);
  randomize_parameters(reference_layer, 21);
  const auto f32_output = reference_layer.forward({input}, Mode::train).to_plain();
  EXPECT_GT(max_abs_difference(f32_output, expected_f32), 1e-3);

  // Backward: input and weight gradients from bf16 operands; the input gradient is stored in
  // bf16, the weight gradient in f32 (the optimizer's master copy is f32).
  Tensor output_grad = random_tensor(output.shape(), 23);
  const auto g = rounded(output_grad.to_plain());
  auto input_grad = conv.backward(output_grad).at(0);
  ASSERT_EQ(input_grad.layout().data_type(), DataType::bf16);
  std::vector<double> expected_input_grad(x.size()), expected_weight_grad(w.size());
  r.for_each_tap([&](int64_t xi, int64_t wi, int64_t yi) {
    expected_input_grad[xi] += double(w[wi]) * g[yi];
    expected_weight_grad[wi] += double(x[xi]) * g[yi];
  });
  expect_bf16_rounding_of(input_grad.to_plain(), expected_input_grad);
  expect_near(conv.weight().grad.to_plain(),
              std::vector<float>(expected_weight_grad.begin(), expected_weight_grad.end()), 1e-4);
}

TEST_F(MixedPrecisionTest, LinearMultipliesBf16OperandsAndAccumulatesInF32) {
  const int64_t batch = 4, in = 37, out = 6;
  Linear linear(LinearOptions{in, out, true, DataType::bf16});
  randomize_parameters(linear, 31);
  Tensor input = random_tensor({batch, in}, 32);
  const auto y = linear.forward({input}, Mode::train).to_plain();
  const auto x = rounded(input.to_plain()), w = rounded(linear.weight().value.to_plain());
  const auto b = linear.bias()->value.to_plain();
  std::vector<float> expected(static_cast<size_t>(batch * out));
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t o = 0; o < out; ++o) {
      double sum = b[o];
      for (int64_t i = 0; i < in; ++i) sum += double(x[n * in + i]) * w[o * in + i];
      expected[n * out + o] = static_cast<float>(sum);
    }
  expect_near(y, expected, 1e-4);

  Tensor output_grad = random_tensor({batch, out}, 33);
  const auto g = rounded(output_grad.to_plain());
  const auto input_grad = linear.backward(output_grad).at(0).to_plain();
  std::vector<float> expected_input_grad(x.size()), expected_weight_grad(w.size());
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t o = 0; o < out; ++o)
      for (int64_t i = 0; i < in; ++i) {
        expected_input_grad[n * in + i] += w[o * in + i] * g[n * out + o];
        expected_weight_grad[o * in + i] += x[n * in + i] * g[n * out + o];
      }
  expect_near(input_grad, expected_input_grad, 1e-4);
  expect_near(linear.weight().grad.to_plain(), expected_weight_grad, 1e-4);
}

// Winograd in a bf16 layer with 2x2 blocks in the batched schedule rounds the transformed tiles
// and filters to bf16 (its matmuls' operands), not the inputs and weights, so its results are not
// the bf16 rounding of one exact sum as above; with 4x4 blocks, and in the tile groups (whose own
// kernel multiplies floats) with either block, it runs in f32 inside between bf16 maps. Against
// the f32 convolution all must stay within a small multiple of the bf16 primitives' own error:
// forward, input gradient, weight and bias gradients (relative, the whole tensor), on a
// many-channel map with its borders, with a fused ReLU, and on a batch run in chunks of images.
// 4x4 blocks on bf16 operands measured 10x that error; 2x2 blocks 1.7-2.2x.
TEST_F(MixedPrecisionTest, WinogradInBf16StaysWithinTheBf16ConvolutionsError) {
  struct Run {
    int64_t block;
    bool tile_groups;
  };
  struct Case {
    const char* name;
    Shape input;
    bool relu;
    std::vector<Run> runs;
  };
  const std::vector<Run> every_run = {{2, false}, {4, false}, {2, true}, {4, true}};
  const Case cases[] = {{"64 channels on 8x8", {4, 64, 8, 8}, false, every_run},
                        {"with ReLU", {4, 64, 7, 9}, true, every_run},
                        {"in 3 chunks of 3 images", {9, 64, 64, 64}, false, {{2, false}}}};
  for (const auto& c : cases) {
    const Tensor input = random_tensor(c.input, 61), output_grad = random_tensor(c.input, 62);
    std::string chosen;
    auto run = [&](DataType type, kernels::LoweringChoice winograd, Run how) {
      Conv2dOptions options{64, 64, 3, 1, 1};
      options.fuse_relu = c.relu;
      options.compute_type = type;
      options.paths.whole_map_matmul = false;
      options.paths.im2col_matmul = kernels::LoweringChoice::never;
      options.paths.winograd = winograd;
      options.paths.winograd_tile = how.block;
      options.paths.winograd_tile_groups =
          how.tile_groups ? kernels::LoweringChoice::always : kernels::LoweringChoice::never;
      Conv2d conv(options);
      randomize_parameters(conv, 63);
      const auto output = conv.forward({input}, Mode::train);
      EXPECT_EQ(output.layout().data_type(), type);
      const auto input_grad = conv.backward(output_grad)[0].to_plain();
      chosen = conv.implementation();
      return std::vector<std::vector<float>>{output.to_plain(), input_grad,
                                             conv.weight().grad.to_plain(),
                                             conv.bias()->grad.to_plain()};
    };
    const auto exact = run(DataType::f32, kernels::LoweringChoice::never, {0, false});
    const auto direct = run(DataType::bf16, kernels::LoweringChoice::never, {0, false});
    EXPECT_EQ(chosen.find("winograd"), std::string::npos) << chosen;
    for (const Run how : c.runs) {
      const auto winograd = run(DataType::bf16, kernels::LoweringChoice::always, how);
      const std::string name = std::string(c.name) + ", block " + std::to_string(how.block) +
                               (how.tile_groups ? " in tile groups" : " batched");
      // The schedule names itself, and the batched matmuls their operand type: bf16 with 2x2
      // blocks only.
      EXPECT_EQ(chosen.rfind("winograd F(" + std::to_string(how.block) + "x", 0), 0u) << chosen;
      EXPECT_EQ(chosen.find(" in groups of ") != std::string::npos, how.tile_groups) << chosen;
      const bool bf16_operands = how.block == 2 && !how.tile_groups;
      EXPECT_EQ(chosen.find("bf16") != std::string::npos, bf16_operands) << chosen;
      if (c.input[0] == 9) {
        EXPECT_TRUE(chosen.ends_with(" in 3 chunks")) << chosen;
      }
      const double bound = bf16_operands ? 3.0 : 1.2;
      for (const int k : {0, 1, 2, 3}) {
        const double direct_error = testing::relative_difference(direct[k], exact[k]);
        const double winograd_error = testing::relative_difference(winograd[k], exact[k]);
        EXPECT_LT(winograd_error, bound * std::max(direct_error, 1e-4))
            << name << ": output, input gradient, weight gradient, bias gradient: #" << k
            << "; the bf16 primitives' error " << direct_error;
      }
    }
  }
}

// `count` distinct values (2k + 1) / 256, k in [-count / 2, count / 2), in a seeded order: exact
// in bf16 for count <= 256, never zero (no ReLU kink) and never tied (no max-pooling tie).
std::vector<float> distinct_bf16_values(int64_t count, uint64_t seed) {
  std::vector<float> values(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) values[i] = static_cast<float>(2 * (i - count / 2) + 1) / 256;
  std::shuffle(values.begin(), values.end(), std::mt19937_64(seed));
  return values;
}

// A result of the bf16 layer against the f32 layer's on the same values: the bf16 rounding of it
// where the bf16 layer wrote bf16, else (f32) the same up to f32 rounding.
void expect_bf16_result(const Tensor& actual, const Tensor& f32_result, const std::string& what) {
  SCOPED_TRACE(what + ", " + actual.layout().describe());
  const auto exact = f32_result.to_plain();
  if (actual.layout().data_type() == DataType::bf16) {
    expect_bf16_rounding_of(actual.to_plain(), std::vector<double>(exact.begin(), exact.end()));
  } else {
    expect_near(actual.to_plain(), exact, 1e-5);
  }
}

// Under --precision bf16 the layers between convolutions (BatchNorm, ReLU, max and adaptive
// average pooling, the residual Add, each with its fused ReLU where it has one) read bf16
// activations in the layouts bf16 convolutions write: oneDNN's blocked one, and NHWC between
// bf16 Winograd layers. Each must compute what the f32 layer (checked against naive loops and
// finite differences elsewhere) computes on the same values, rounded once to bf16: forward in
// training and eval mode, input gradients, and parameter gradients in f32.
TEST_F(MixedPrecisionTest, LayersBetweenConvolutionsComputeOnBf16WhatTheyComputeInF32) {
  const Shape shape{1, 16, 4, 4};  // batch 1: BatchNorm's statistics over 16 values a channel
  Conv2dOptions conv_options = testing::same_size_conv(16);
  conv_options.compute_type = DataType::bf16;
  conv_options.paths.winograd = kernels::LoweringChoice::never;
  Conv2d conv(conv_options);
  const Layout blocked = conv.forward({random_tensor(shape, 91)}, Mode::train).layout();
  ASSERT_EQ(blocked.data_type(), DataType::bf16) << blocked.describe();
  ASSERT_FALSE(blocked.is_plain() || blocked.is_nhwc()) << blocked.describe();

  struct Case {
    const char* name;
    std::function<std::unique_ptr<Layer>()> make;
    bool keeps_bf16;  // the adaptive pooling's loop (uneven bins) writes plain f32
  };
  auto batch_norm = [](bool relu) {
    return [relu] {
      return std::make_unique<BatchNorm2d>(BatchNorm2dOptions{.channels = 16, .fuse_relu = relu});
    };
  };
  auto adaptive = [](int64_t size) {
    return [size] {
      return std::make_unique<AdaptiveAvgPool2d>(AdaptiveAvgPool2dOptions{size, size});
    };
  };
  const Case cases[] = {
      {"BatchNorm2d", batch_norm(false), true},
      {"BatchNorm2d+ReLU", batch_norm(true), true},
      {"ReLU", [] { return std::make_unique<Activation>(relu()); }, true},
      {"MaxPool2d(3, 2, 1)",
       [] {
         return std::make_unique<MaxPool2d>(
             MaxPool2dOptions{.kernel = 3, .stride = 2, .padding = 1});
       },
       true},
      {"AdaptiveAvgPool2d(1)", adaptive(1), true},
      {"AdaptiveAvgPool2d(3)", adaptive(3), false},
      {"Add", [] { return std::make_unique<Add>(AddOptions{false}); }, true},
      {"Add+ReLU", [] { return std::make_unique<Add>(AddOptions{true}); }, true},
  };
  for (const Layout& layout : {blocked, Layout::nhwc(shape, DataType::bf16)}) {
    for (const auto& c : cases) {
      SCOPED_TRACE(std::string(c.name) + " on " + layout.describe());
      auto low = c.make(), full = c.make();
      randomize_parameters(*low, 92);
      randomize_parameters(*full, 92);
      std::vector<Tensor> low_inputs, full_inputs;
      for (int i = 0; i < low->input_count(); ++i) {
        const Tensor values = Tensor::from_plain(shape, distinct_bf16_values(256, 93 + i));
        low_inputs.emplace_back(layout);
        low_inputs.back().copy_from(values);
        full_inputs.push_back(values);
      }
      const Tensor output = low->forward(low_inputs, Mode::train);
      EXPECT_EQ(output.layout().data_type(), c.keeps_bf16 ? DataType::bf16 : DataType::f32);
      expect_bf16_result(output, full->forward(full_inputs, Mode::train), "training forward");

      const Tensor output_grad =
          Tensor::from_plain(output.shape(), rounded(random_tensor(output.shape(), 95).to_plain()));
      const auto low_grads = low->backward(output_grad), full_grads = full->backward(output_grad);
      ASSERT_EQ(low_grads.size(), full_grads.size());
      for (size_t i = 0; i < low_grads.size(); ++i) {
        expect_bf16_result(low_grads[i], full_grads[i], "input gradient " + std::to_string(i));
      }
      const auto low_parameters = low->parameters(), full_parameters = full->parameters();
      for (size_t i = 0; i < low_parameters.size(); ++i) {
        SCOPED_TRACE(low_parameters[i]->name + " gradient");
        expect_near(low_parameters[i]->grad.to_plain(), full_parameters[i]->grad.to_plain(), 1e-4);
      }
      expect_bf16_result(low->forward(low_inputs, Mode::eval),
                         full->forward(full_inputs, Mode::eval), "eval forward");
    }
  }
}

TEST_F(MixedPrecisionTest, ANetSwitchesPrecisionBackAndForthWithTheSameWeights) {
  ModelConfig config;
  config.architecture = "resnet20";
  config.in_channels = 1;
  auto net = build_model(config);
  Tensor input = random_tensor({2, 1, 16, 16}, 41);
  const auto f32_logits = net->forward(input, Mode::eval).to_plain();
  net->set_compute_type(DataType::bf16);
  const auto bf16_logits = net->forward(input, Mode::eval).to_plain();
  // Close (bf16 keeps ~3 significant digits through 20 layers), but not the f32 computation.
  expect_near(bf16_logits, f32_logits, 0.05);
  EXPECT_GT(max_abs_difference(bf16_logits, f32_logits), 1e-5);
  net->set_compute_type(DataType::f32);
  EXPECT_EQ(net->forward(input, Mode::eval).to_plain(), f32_logits);
}

}  // namespace
}  // namespace convoy
