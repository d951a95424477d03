#pragma once
// Helpers shared by layer tests: seeded random tensors and the GoogleTest face of the
// GradientChecker.

#include <gtest/gtest.h>

#include <cstdint>
#include <span>
#include <vector>

#include "framework/gradient_checker.hpp"
#include "framework/layers/conv2d.hpp"

namespace convoy::testing {

// Uniform values in [low, high) from a fixed seed.
std::vector<float> random_values(int64_t count, uint64_t seed, float low = -1.0f,
                                 float high = 1.0f);
Tensor random_tensor(const Shape& shape, uint64_t seed, float low = -1.0f, float high = 1.0f);
// Sets every parameter of `layer` to seeded random values (so biases are not all zero).
void randomize_parameters(Layer& layer, uint64_t seed);

// A 3x3, stride 1, padding 1 convolution from `channels` to `channels` (same output size), for
// hand-built test graphs.
Conv2dOptions same_size_conv(int64_t channels);

// Fails the current test with one message per mismatching (tensor, index).
void expect_gradients_match(Layer& layer, const std::vector<Tensor>& inputs,
                            GradientCheckOptions options = {}, Mode mode = Mode::train);

// ||a - b|| / ||b||, failing the test where b is empty, all zeros or of another size.
double relative_difference(std::span<const float> a, std::span<const float> b);

// Element-wise comparison with a message naming the first index that differs.
void expect_near(const std::vector<float>& actual, const std::vector<float>& expected,
                 double tolerance);

}  // namespace convoy::testing
