#pragma once
// Activation: one layer type over oneDNN's element-wise kinds (ReLU, LeakyReLU, ELU, Tanh,
// Sigmoid, GELU, SiLU/Swish, Hardswish, ReLU6 ...), applied in the input's own layout.

#include <optional>

#include "framework/kernels/eltwise.hpp"
#include "framework/layers/layer.hpp"

namespace convoy {

using ActivationKind = kernels::EltwiseAlgorithm;

struct ActivationOptions {
  ActivationKind kind = ActivationKind::relu;
  // relu: negative slope (LeakyReLU); elu: alpha; swish: beta of x * sigmoid(beta x);
  // clip: lower bound (with upper = beta).
  float alpha = 0.0f;
  float beta = 0.0f;
};

class Activation : public Layer {
 public:
  explicit Activation(const ActivationOptions& options = {});

  std::string describe() const override;
  int64_t forward_flops(const std::vector<Shape>& input_shapes) const override;
  const ActivationOptions& options() const { return options_; }
  bool is_plain_relu() const {
    return options_.kind == ActivationKind::relu && options_.alpha == 0;
  }
  // The previous layer computes this activation already (Net::fuse_relus): forward returns its
  // input and backward its output gradient, untouched. The node keeps its name and place.
  void set_fused_into_input(bool fused);
  bool fused_into_input() const { return fused_into_input_; }

 protected:
  Shape infer_output_shape(const std::vector<Shape>& input_shapes) const override;
  void reshape(const std::vector<Shape>& input_shapes) override;
  Tensor forward_impl(const std::vector<Tensor>& inputs, Mode mode) override;
  std::vector<Tensor> backward_impl(const Tensor& output_grad) override;

 private:
  ActivationOptions options_;
  bool fused_into_input_ = false;
  std::optional<kernels::Eltwise> kernel_;
  Tensor input_;   // kept only when backward needs the input (GELU, Swish, ...)
  Tensor output_;  // same dims and layout as the input
};

inline ActivationOptions relu() { return {ActivationKind::relu, 0.0f, 0.0f}; }

}  // namespace convoy
