#include "support/layer_testing.hpp"

#include <cmath>
#include <random>

namespace convoy::testing {

std::vector<float> random_values(int64_t count, uint64_t seed, float low, float high) {
  std::mt19937_64 generator(seed);
  std::uniform_real_distribution<float> uniform(low, high);
  std::vector<float> values(static_cast<size_t>(count));
  for (auto& value : values) value = uniform(generator);
  return values;
}

Tensor random_tensor(const Shape& shape, uint64_t seed, float low, float high) {
  return Tensor::from_plain(shape, random_values(element_count(shape), seed, low, high));
}

void randomize_parameters(Layer& layer, uint64_t seed) {
  for (Parameter* parameter : layer.parameters()) {
    parameter->value.copy_from_plain(random_values(parameter->value.element_count(), seed++));
  }
}

void expect_gradients_match(Layer& layer, const std::vector<Tensor>& inputs,
                            GradientCheckOptions options, Mode mode) {
  GradientChecker checker(options);
  GradientCheckReport report = checker.check_layer(layer, inputs, mode);
  EXPECT_TRUE(report.passed()) << layer.describe() << "\n" << report.summary();
  for (const auto& tensor : report.tensors) {
    EXPECT_GT(tensor.checked, 0) << layer.describe() << ": no element of " << tensor.name
                                 << " was checked";
  }
}

void expect_near(const std::vector<float>& actual, const std::vector<float>& expected,
                 double tolerance) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    const double a = actual[i], e = expected[i];
    // Infinities must match exactly and NaN never does; a relative test alone would pass both
    // (NaN compares false, and tolerance x infinite scale is NaN or infinite).
    const bool close = std::isfinite(a) && std::isfinite(e)
                           ? std::abs(a - e) <= tolerance * std::max(1.0, std::abs(e))
                           : a == e;
    if (!close) {
      FAIL() << "element " << i << ": got " << actual[i] << ", expected " << expected[i]
             << " (tolerance " << tolerance << ")";
    }
  }
}

Conv2dOptions same_size_conv(int64_t channels) {
  Conv2dOptions options;
  options.in_channels = options.out_channels = channels;
  options.kernel = 3;
  options.padding = 1;
  return options;
}

// ||a - b|| / ||b||, after checking that b is not all zeros (a test comparing zeros proves
// nothing).
double relative_difference(std::span<const float> a, std::span<const float> b) {
  if (a.size() != b.size() || b.empty()) {
    ADD_FAILURE() << "comparing " << a.size() << " values with " << b.size();
    return INFINITY;
  }
  double difference = 0, norm = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    difference += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    norm += double(b[i]) * b[i];
  }
  EXPECT_GT(norm, 0.0);
  return std::sqrt(difference / norm);
}

}  // namespace convoy::testing
