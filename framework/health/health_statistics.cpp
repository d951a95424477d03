#include "framework/health/health_statistics.hpp"

#include <cmath>
#include <limits>
#include <vector>

#include "framework/common/error.hpp"

namespace convoy::health {

namespace {

// `count` indices spread evenly over [0, total): all of them when total <= count.
std::vector<int64_t> evenly_spaced(int64_t total, int64_t count) {
  std::vector<int64_t> indices;
  if (total <= count) {
    for (int64_t i = 0; i < total; ++i) indices.push_back(i);
  } else {
    for (int64_t k = 0; k < count; ++k) indices.push_back(k * total / count);
  }
  return indices;
}

// Mean |Pearson r| over pairs of the channels, each sampled at the same (image, position) rows.
// `channel_values[c]` holds one channel's sampled values.
double mean_abs_pairwise_correlation(std::vector<std::vector<double>> channel_values) {
  // Center and scale every channel to unit norm: r is then a dot product.
  for (auto& values : channel_values) {
    double mean = 0;
    for (double v : values) mean += v;
    mean /= static_cast<double>(values.size());
    double squares = 0;
    for (double& v : values) {
      v -= mean;
      squares += v * v;
    }
    const double norm = std::sqrt(squares);
    for (double& v : values) v /= norm;
  }
  double sum = 0;
  int64_t pairs = 0;
  for (size_t i = 0; i < channel_values.size(); ++i) {
    for (size_t j = i + 1; j < channel_values.size(); ++j) {
      double r = 0;
      for (size_t k = 0; k < channel_values[i].size(); ++k)
        r += channel_values[i][k] * channel_values[j][k];
      sum += std::abs(r);
      ++pairs;
    }
  }
  return pairs > 0 ? sum / static_cast<double>(pairs) : 0.0;
}

}  // namespace

ActivationStatistics activation_statistics(std::span<const float> values, const Shape& shape,
                                           const CorrelationSampling& sampling) {
  if (shape.size() != 2 && shape.size() != 4) {
    throw ShapeError("activation statistics need an (N, C) or (N, C, H, W) tensor, got " +
                     to_string(shape));
  }
  if (element_count(shape) != static_cast<int64_t>(values.size()) || values.empty()) {
    throw ShapeError("activation statistics: " + std::to_string(values.size()) +
                     " values for shape " + to_string(shape));
  }
  const int64_t images = shape[0], channels = shape[1];
  const int64_t positions = shape.size() == 4 ? shape[2] * shape[3] : 1;
  // values[(n * C + c) * positions + p]
  auto at = [&](int64_t image, int64_t channel, int64_t position) {
    return static_cast<double>(values[(image * channels + channel) * positions + position]);
  };

  ActivationStatistics result;
  result.channels = channels;
  double sum = 0;
  for (float v : values) sum += v;
  result.mean = sum / static_cast<double>(values.size());
  double squares = 0;
  for (float v : values) squares += (v - result.mean) * (v - result.mean);
  result.standard_deviation = std::sqrt(squares / static_cast<double>(values.size()));

  int64_t dead = 0;
  for (int64_t c = 0; c < channels; ++c) {
    bool all_zero = true;
    for (int64_t n = 0; n < images && all_zero; ++n) {
      for (int64_t p = 0; p < positions && all_zero; ++p) all_zero = at(n, c, p) == 0.0;
    }
    dead += all_zero ? 1 : 0;
  }
  result.dead_fraction = static_cast<double>(dead) / static_cast<double>(channels);

  // Sampled rows; then the channels that vary on them (a constant has no correlation).
  const std::vector<int64_t> rows = evenly_spaced(images * positions, sampling.max_samples);
  std::vector<std::vector<double>> varying;
  for (int64_t c = 0; c < channels; ++c) {
    std::vector<double> sampled;
    sampled.reserve(rows.size());
    for (int64_t row : rows) sampled.push_back(at(row / positions, c, row % positions));
    double mean = 0, raw_squares = 0, centered_squares = 0;
    for (double v : sampled) mean += v;
    mean /= static_cast<double>(sampled.size());
    for (double v : sampled) {
      raw_squares += v * v;
      centered_squares += (v - mean) * (v - mean);
    }
    // Relative test: a constant non-zero channel leaves rounding noise, not exactly zero.
    if (centered_squares > 1e-10 * raw_squares && centered_squares > 0)
      varying.push_back(std::move(sampled));
  }
  std::vector<std::vector<double>> chosen;
  for (int64_t index : evenly_spaced(static_cast<int64_t>(varying.size()), sampling.max_channels))
    chosen.push_back(std::move(varying[index]));
  result.correlated_channels = static_cast<int64_t>(chosen.size());
  result.mean_abs_correlation = mean_abs_pairwise_correlation(std::move(chosen));
  return result;
}

double l2_norm(std::span<const float> values) {
  double squares = 0;
  for (float v : values) squares += static_cast<double>(v) * v;
  return std::sqrt(squares);
}

ParameterStatistics parameter_statistics(std::span<const ParameterStep> tensors) {
  double weight_squares = 0, gradient_squares = 0, update_squares = 0;
  for (size_t t = 0; t < tensors.size(); ++t) {
    const ParameterStep& tensor = tensors[t];
    if (tensor.after.size() != tensor.before.size() ||
        tensor.gradient.size() != tensor.before.size()) {
      throw ShapeError("parameter statistics: tensor " + std::to_string(t) + " has " +
                       std::to_string(tensor.before.size()) + " values before the step, " +
                       std::to_string(tensor.after.size()) + " after and " +
                       std::to_string(tensor.gradient.size()) + " gradients");
    }
    for (size_t i = 0; i < tensor.before.size(); ++i) {
      const double before = tensor.before[i], after = tensor.after[i];
      const double gradient = tensor.gradient[i];
      weight_squares += before * before;
      gradient_squares += gradient * gradient;
      update_squares += (after - before) * (after - before);
    }
  }
  ParameterStatistics result;
  result.weight_norm = std::sqrt(weight_squares);
  result.gradient_norm = std::sqrt(gradient_squares);
  if (weight_squares > 0) {
    result.update_ratio = std::sqrt(update_squares) / result.weight_norm;
  } else {
    result.update_ratio = update_squares > 0 ? std::numeric_limits<double>::infinity() : 0.0;
  }
  return result;
}

}  // namespace convoy::health
