#pragma once
// AdamW: Adam with decoupled weight decay (Loshchilov & Hutter 2019), exactly torch.optim.AdamW
// (amsgrad off).

#include "framework/optim/optimizer.hpp"

namespace convoy {

struct AdamWOptions {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.01;  // torch's default; decoupled: p *= 1 - lr * weight_decay
  // Skips weight decay for biases and normalization parameters (Parameter::is_bias_or_norm).
  bool exempt_bias_and_norm = false;
};

// Per element at step t (1-based), with g the gradient and p the value:
//   p = p * (1 - learning_rate * weight_decay)
//   m = beta1 * m + (1 - beta1) * g            (state "exp_avg")
//   v = beta2 * v + (1 - beta2) * g * g        (state "exp_avg_sq")
//   p = p - learning_rate / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
class AdamW : public Optimizer {
 public:
  // Throws ConfigError for betas outside [0, 1), eps <= 0 or negative weight decay.
  AdamW(std::vector<NamedParameter> parameters, const AdamWOptions& options);
  std::string describe() const override;
  const AdamWOptions& options() const { return options_; }

 protected:
  void update(Parameter& parameter, std::span<std::vector<float>> state,
              double learning_rate) override;

 private:
  AdamWOptions options_;
};

}  // namespace convoy
