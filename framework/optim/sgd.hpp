#pragma once
// SGD: stochastic gradient descent with momentum, exactly torch.optim.SGD.

#include "framework/optim/optimizer.hpp"

namespace convoy {

struct SgdOptions {
  double momentum = 0.0;
  double dampening = 0.0;
  bool nesterov = false;      // needs momentum > 0 and dampening == 0, as in torch
  double weight_decay = 0.0;  // L2: added to the gradient before momentum
  // Skips weight decay for biases and normalization parameters (Parameter::is_bias_or_norm),
  // the parameter groups torchvision's recipes build with --norm-weight-decay 0.
  bool exempt_bias_and_norm = false;
};

// Per element, with g the gradient and p the value (torch's order of operations):
//   d = g + weight_decay * p
//   buffer = d at the first step, else momentum * buffer + (1 - dampening) * d
//   d = nesterov ? d + momentum * buffer : buffer     (when momentum != 0)
//   p = p - learning_rate * d
class SGD : public Optimizer {
 public:
  // Throws ConfigError for negative values or nesterov without plain momentum.
  SGD(std::vector<NamedParameter> parameters, const SgdOptions& options);
  std::string describe() const override;
  const SgdOptions& options() const { return options_; }

 protected:
  void update(Parameter& parameter, std::span<std::vector<float>> state,
              double learning_rate) override;

 private:
  SgdOptions options_;
};

}  // namespace convoy
