#pragma once
// Eltwise: one oneDNN element-wise operation (ReLU, tanh, GELU, ...) forward and backward,
// built for the layout its input arrives in so activations never force a reorder.

#include <memory>

#include "framework/kernels/memory.hpp"

namespace convoy::kernels {

enum class EltwiseAlgorithm {
  relu,  // max(x, 0); with alpha: leaky ReLU (alpha * x for x < 0)
  elu,   // x > 0 ? x : alpha * (exp(x) - 1)
  tanh,
  logistic,   // sigmoid
  gelu_erf,   // x * Phi(x), PyTorch's default GELU
  swish,      // x * sigmoid(alpha * x); alpha = 1 is SiLU
  hardswish,  // x * relu6(x + 3) / 6
  abs,
  square,
  clip,  // min(max(x, alpha), beta); alpha = 0, beta = 6 is ReLU6
};

struct EltwiseConfig {
  Layout source;  // the layout and dims the input arrives in
  EltwiseAlgorithm algorithm = EltwiseAlgorithm::relu;
  float alpha = 0.0f, beta = 0.0f;
};

class Eltwise {
 public:
  explicit Eltwise(const EltwiseConfig& config);
  ~Eltwise();
  Eltwise(Eltwise&&) noexcept;
  Eltwise& operator=(Eltwise&&) noexcept;

  const EltwiseConfig& config() const;
  // True when backward needs the forward output rather than the input (relu, tanh, elu,
  // logistic), so a layer need not keep its input alive.
  bool backward_uses_output() const;

  void forward(const Memory& source, const Memory& destination);
  // `saved` is the forward output when backward_uses_output(), otherwise the forward input.
  void backward(const Memory& destination_grad, const Memory& saved, const Memory& source_grad);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace convoy::kernels
