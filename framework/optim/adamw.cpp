#include "framework/optim/adamw.hpp"

#include <cmath>

#include "framework/common/error.hpp"

namespace convoy {
namespace {

// The scalar factors are computed in double and rounded to float once, as torch does when it
// passes Python floats to float-tensor kernels.
struct Coefficients {
  float decay, beta1, one_minus_beta1, beta2, one_minus_beta2, step_size, bias_correction2_sqrt,
      eps;
};

// GCC vectorizes this loop only under -fno-math-errno: otherwise std::sqrt keeps a branch to
// the errno-setting library call for negative inputs (v never is). Function attributes and
// pragmas do not reach that decision, so the flag belongs on the command line.
void update_elements(float* __restrict value, const float* __restrict grad,
                     float* __restrict exp_avg, float* __restrict exp_avg_sq, int64_t count,
                     const Coefficients& c) {
#pragma omp parallel for simd if (count >= Optimizer::kParallelElements) schedule(static)
  for (int64_t i = 0; i < count; ++i) {
    const float decayed = value[i] * c.decay;
    const float m = exp_avg[i] * c.beta1 + c.one_minus_beta1 * grad[i];
    const float v = exp_avg_sq[i] * c.beta2 + c.one_minus_beta2 * grad[i] * grad[i];
    exp_avg[i] = m;
    exp_avg_sq[i] = v;
    const float denominator = std::sqrt(v) / c.bias_correction2_sqrt + c.eps;
    value[i] = decayed + c.step_size * m / denominator;
  }
}

}  // namespace

AdamW::AdamW(std::vector<NamedParameter> parameters, const AdamWOptions& options)
    : Optimizer("adamw", std::move(parameters), {"exp_avg", "exp_avg_sq"}), options_(options) {
  auto check_beta = [](const char* field, double beta) {
    if (!(beta >= 0.0 && beta < 1.0)) {
      throw ConfigError("adamw: " + std::string(field) + " must be in [0, 1), got " +
                        std::to_string(beta));
    }
  };
  check_beta("beta1", options.beta1);
  check_beta("beta2", options.beta2);
  if (!(options.eps > 0.0)) {
    throw ConfigError("adamw: eps must be > 0, got " + std::to_string(options.eps));
  }
  if (!(options.weight_decay >= 0.0) || !std::isfinite(options.weight_decay)) {
    throw ConfigError("adamw: weight_decay must be finite and >= 0, got " +
                      std::to_string(options.weight_decay));
  }
}

std::string AdamW::describe() const {
  return "AdamW(beta1=" + std::to_string(options_.beta1) +
         ", beta2=" + std::to_string(options_.beta2) + ", eps=" + std::to_string(options_.eps) +
         ", weight_decay=" + std::to_string(options_.weight_decay) +
         ", exempt_bias_and_norm=" + (options_.exempt_bias_and_norm ? "true" : "false") + ")";
}

void AdamW::update(Parameter& parameter, std::span<std::vector<float>> state,
                   double learning_rate) {
  const bool decays = !(options_.exempt_bias_and_norm && parameter.is_bias_or_norm);
  const double weight_decay = decays ? options_.weight_decay : 0.0;
  const auto step = static_cast<double>(step_count());
  const double bias_correction1 = 1.0 - std::pow(options_.beta1, step);
  const double bias_correction2 = 1.0 - std::pow(options_.beta2, step);
  Coefficients c{};
  c.decay = static_cast<float>(1.0 - learning_rate * weight_decay);
  c.beta1 = static_cast<float>(options_.beta1);
  c.one_minus_beta1 = static_cast<float>(1.0 - options_.beta1);
  c.beta2 = static_cast<float>(options_.beta2);
  c.one_minus_beta2 = static_cast<float>(1.0 - options_.beta2);
  c.step_size = static_cast<float>(-learning_rate / bias_correction1);
  c.bias_correction2_sqrt = static_cast<float>(std::sqrt(bias_correction2));
  c.eps = static_cast<float>(options_.eps);

  update_elements(parameter.value.plain_data(), parameter.grad.plain_data(), state[0].data(),
                  state[1].data(), parameter.value.element_count(), c);
}

}  // namespace convoy
