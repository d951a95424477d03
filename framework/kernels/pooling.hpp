#pragma once
// Pooling: oneDNN max or average pooling (forward and backward) for one input shape and layout,
// created once and executed every step. Max pooling keeps oneDNN's workspace (the argmax of each
// window) from forward for backward.

#include <memory>

#include "framework/kernels/memory.hpp"

namespace convoy::kernels {

enum class PoolingAlgorithm {
  max,
  average_include_padding,  // divides by kernel_h * kernel_w (PyTorch count_include_pad=True)
  average_exclude_padding,  // divides by the in-bounds elements of each window
};

struct PoolingConfig {
  Shape input;  // (N, C, H, W)
  // Layout the input arrives in. oneDNN pooling cannot choose its source layout (no
  // format_tag::any), so it is built for the layout the producer chose; empty means plain.
  Layout source_layout;
  PoolingAlgorithm algorithm = PoolingAlgorithm::max;
  int64_t kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t padding_h = 0, padding_w = 0;
  int64_t dilation_h = 1, dilation_w = 1;

  // H_out = floor((H + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1 (PyTorch's floor
  // mode). A negative numerator floors below zero, so an input smaller than the window gives a
  // non-positive size instead of C++'s truncation to 1.
  Shape output_shape() const;
};

class Pooling {
 public:
  explicit Pooling(const PoolingConfig& config);
  ~Pooling();
  Pooling(Pooling&&) noexcept;
  Pooling& operator=(Pooling&&) noexcept;

  const PoolingConfig& config() const;
  // oneDNN's implementations, "forward | backward" where they differ.
  std::string implementation() const;
  // Layouts of the output (allocate the layer output with it) and of the input gradient.
  Layout destination_layout() const;
  Layout source_layout() const;

  // Sources in another layout than the configured one are reordered first (correct, slower).
  void forward(const Memory& source, const Memory& destination);
  // Uses the workspace of the last forward for max pooling.
  void backward(const Memory& destination_grad, const Memory& source_grad);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace convoy::kernels
