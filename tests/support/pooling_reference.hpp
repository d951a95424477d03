#pragma once
// The naive pooling loop the pooling tests compare convoy's kernels against.

#include <cstdint>
#include <functional>
#include <vector>

#include "framework/common/shape.hpp"

namespace convoy::testing {

// A pooling window as PyTorch defines it (stride already resolved: never 0).
struct PoolingWindow {
  int64_t kernel = 1;
  int64_t stride = 1;
  int64_t padding = 0;
  int64_t dilation = 1;
};

// Plain (N, C, H, W) `input` pooled to `output_shape`: each output is `reduce` of the in-bounds
// values of its window (padded positions are left out; `reduce` decides what they count for).
std::vector<float> reference_pool2d(
    const std::vector<float>& input, const Shape& shape, const Shape& output_shape,
    const PoolingWindow& window,
    const std::function<float(const std::vector<float>& in_bounds_values)>& reduce);

}  // namespace convoy::testing
