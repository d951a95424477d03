#pragma once
// LocalResponseNormalization: oneDNN LRN across channels (AlexNet's "norm" layers), forward and
// backward for one input shape and layout:
//   b_c = a_c * (k + alpha / size * sum_{c' = c - size/2}^{c + size/2} a_{c'}^2)^(-beta)
// with out-of-range channels counting as zero, as torch.nn.LocalResponseNorm for odd sizes.

#include <memory>

#include "framework/kernels/memory.hpp"

namespace convoy::kernels {

struct LocalResponseNormalizationConfig {
  Shape input;  // (N, C, H, W)
  // Layout the input arrives in (LRN cannot choose its own); empty means plain.
  Layout source_layout;
  int64_t size = 5;  // odd: oneDNN's window is symmetric, PyTorch's is lopsided for even sizes
  float alpha = 1e-4f;
  float beta = 0.75f;
  float k = 1.0f;
};

class LocalResponseNormalization {
 public:
  explicit LocalResponseNormalization(const LocalResponseNormalizationConfig& config);
  ~LocalResponseNormalization();
  LocalResponseNormalization(LocalResponseNormalization&&) noexcept;
  LocalResponseNormalization& operator=(LocalResponseNormalization&&) noexcept;

  const LocalResponseNormalizationConfig& config() const;
  // Layouts of the output and of the input gradient (both the source's).
  Layout destination_layout() const;
  Layout source_layout() const;

  // Keeps oneDNN's workspace (the per-element denominators) for backward.
  void forward(const Memory& source, const Memory& destination);
  // `source` is the forward's input.
  void backward(const Memory& source, const Memory& destination_grad, const Memory& source_grad);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace convoy::kernels
