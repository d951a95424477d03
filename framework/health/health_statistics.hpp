#pragma once
// Training-health statistics of one layer at one step, on plain float data: parameter norms,
// the update-to-weight ratio of an optimizer step, and activation statistics (mean, standard
// deviation, dead ReLU channels, correlation between channels).
//
// Why these definitions:
// 1. Norms are L2 norms over every element of a layer's parameters together (weight and bias),
//    so a layer has one gradient norm and one update ratio, as in CS231n's "ratio of the
//    update magnitudes to the value magnitudes, ~1e-3" rule of thumb.
// 2. A unit is a channel (a feature map, or one output of a Linear): a channel is dead when its
//    output is exactly zero for every image and every position of the batch. Only outputs of a
//    ReLU can be dead in that sense, so dead fractions are computed only for them.
// 3. Channel correlation is the Pearson correlation of two channels' values over the samples
//    (image x position). Evaluating it on every position costs channels^2 x N x H x W, so at
//    most `max_samples` evenly spaced samples and `max_channels` evenly spaced channels are
//    used (deterministic: the same activations give the same number). A constant channel (a
//    dead one, for instance) has no correlation and is left out of the pairs.

#include <cstdint>
#include <span>

#include "framework/common/shape.hpp"

namespace convoy::health {

struct ActivationStatistics {
  double mean = 0;
  double standard_deviation = 0;  // population (divides by the element count)
  // Channels whose every value in the batch is exactly 0, over all channels (ReLU outputs).
  double dead_fraction = 0;
  // Mean of |r| over the pairs of distinct non-constant channels; 0 with fewer than two.
  double mean_abs_correlation = 0;
  int64_t channels = 0;
  int64_t correlated_channels = 0;  // channels that entered the correlation (capped)
};

struct CorrelationSampling {
  int64_t max_samples = 512;  // (image, position) rows
  int64_t max_channels = 64;
};

// Statistics of an activation of shape (N, C, H, W) or (N, C), row-major `values`.
// Throws ShapeError when the shape is not 2-D or 4-D or does not match the value count.
ActivationStatistics activation_statistics(std::span<const float> values, const Shape& shape,
                                           const CorrelationSampling& sampling = {});

// One parameter tensor of a layer around one optimizer step.
struct ParameterStep {
  std::span<const float> before;    // value the gradient was computed at
  std::span<const float> after;     // value after the optimizer step
  std::span<const float> gradient;  // (allreduced) gradient at `before`
};

struct ParameterStatistics {
  double weight_norm = 0;    // ||before||
  double gradient_norm = 0;  // ||gradient||
  // ||after - before|| / ||before||; infinite when the weights were all zero and moved.
  double update_ratio = 0;
};

// Statistics of a layer's parameters taken together (note 1). Throws ShapeError when a
// tensor's before, after and gradient differ in size.
ParameterStatistics parameter_statistics(std::span<const ParameterStep> tensors);

// sqrt(sum of squares), accumulated in double.
double l2_norm(std::span<const float> values);

}  // namespace convoy::health
