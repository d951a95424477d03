#pragma once
// LoweredConvolution: a convolution computed with oneDNN matmuls instead of its convolution
// primitives, for shapes where that is faster (WholeMapConvolution, Im2colConvolution,
// WinogradConvolution).
// Private to framework/kernels/.

#include <algorithm>
#include <cstdint>
#include <dnnl.hpp>
#include <string>

#include "framework/kernels/bfloat16.hpp"
#include "framework/kernels/kernel_timing.hpp"

namespace convoy::kernels {

// The activations arrive and leave in the layouts the convolution primitives chose for the
// neighbours, so a layer on a lowered path looks like any other from outside the kernel.
class LoweredConvolution {
 public:
  virtual ~LoweredConvolution() = default;

  // e.g. "whole-map matmul (gemm:jit)"
  virtual std::string implementation() const = 0;

  // weights: plain (O, C, KH, KW); bias: plain (O) or null. With fuse_relu, ReLU is applied.
  virtual void forward(const dnnl::memory& source, const float* weights, const float* bias,
                       const dnnl::memory& destination) = 0;
  virtual void backward_data(const dnnl::memory& destination_grad, const float* weights,
                             const dnnl::memory& source_grad) = 0;
  // Overwrites weights_grad (O, C, KH, KW) and bias_grad (O), if not null.
  virtual void backward_weights(const dnnl::memory& source, const dnnl::memory& destination_grad,
                                float* weights_grad, float* bias_grad) = 0;
};

// sums[j] = the sum over `count` rows of rows[i * width + j] (float or bf16, summed in float): a
// bias gradient from an NHWC output gradient. One pass in row order, so the same bits on every
// run.
template <class Value>
inline void sum_rows(const Value* rows, int64_t count, int64_t width, float* sums) {
  const OwnLoopTimer timer;
  std::fill_n(sums, width, 0.0f);
  for (int64_t row = 0; row < count; ++row) {
    const Value* values = rows + row * width;
    for (int64_t j = 0; j < width; ++j) sums[j] += to_float(values[j]);
  }
}

}  // namespace convoy::kernels
