#include "framework/optim/sgd.hpp"

#include <cmath>

#include "framework/common/error.hpp"

namespace convoy {
namespace {

std::vector<std::string> state_keys_for(const SgdOptions& options) {
  if (options.momentum == 0.0) return {};
  return {"momentum_buffer"};
}

void check_non_negative(const char* field, double value) {
  if (!(value >= 0.0) || !std::isfinite(value)) {
    throw ConfigError("sgd: " + std::string(field) + " must be finite and >= 0, got " +
                      std::to_string(value));
  }
}

// The coefficients are rounded to float once, as torch does for a float tensor's `alpha`.
struct Coefficients {
  float weight_decay, momentum, buffer_decay, gradient_weight, step;
};

void update_without_momentum(float* __restrict value, const float* __restrict grad, int64_t count,
                             const Coefficients& c) {
#pragma omp parallel for simd if (count >= Optimizer::kParallelElements) schedule(static)
  for (int64_t i = 0; i < count; ++i) {
    const float direction = grad[i] + c.weight_decay * value[i];
    value[i] = value[i] + c.step * direction;
  }
}

// On the first step buffer_decay = 0 and gradient_weight = 1 over a zero buffer, which gives
// torch's "buffer = clone(d)" exactly, without a branch in the loop.
template <bool kNesterov>
void update_with_momentum(float* __restrict value, const float* __restrict grad,
                          float* __restrict buffer, int64_t count, const Coefficients& c) {
#pragma omp parallel for simd if (count >= Optimizer::kParallelElements) schedule(static)
  for (int64_t i = 0; i < count; ++i) {
    float direction = grad[i] + c.weight_decay * value[i];
    const float momentum_buffer = c.buffer_decay * buffer[i] + c.gradient_weight * direction;
    buffer[i] = momentum_buffer;
    direction = kNesterov ? direction + c.momentum * momentum_buffer : momentum_buffer;
    value[i] = value[i] + c.step * direction;
  }
}

}  // namespace

SGD::SGD(std::vector<NamedParameter> parameters, const SgdOptions& options)
    : Optimizer("sgd", std::move(parameters), state_keys_for(options)), options_(options) {
  check_non_negative("momentum", options.momentum);
  check_non_negative("dampening", options.dampening);
  check_non_negative("weight_decay", options.weight_decay);
  if (options.nesterov && (options.momentum <= 0.0 || options.dampening != 0.0)) {
    throw ConfigError("sgd: nesterov needs momentum > 0 and dampening == 0, got momentum " +
                      std::to_string(options.momentum) + " and dampening " +
                      std::to_string(options.dampening));
  }
}

std::string SGD::describe() const {
  return "SGD(momentum=" + std::to_string(options_.momentum) +
         ", dampening=" + std::to_string(options_.dampening) +
         ", nesterov=" + (options_.nesterov ? "true" : "false") +
         ", weight_decay=" + std::to_string(options_.weight_decay) +
         ", exempt_bias_and_norm=" + (options_.exempt_bias_and_norm ? "true" : "false") + ")";
}

void SGD::update(Parameter& parameter, std::span<std::vector<float>> state, double learning_rate) {
  const bool decays = !(options_.exempt_bias_and_norm && parameter.is_bias_or_norm);
  const bool first_step = step_count() == 1;
  Coefficients c{};
  c.weight_decay = decays ? static_cast<float>(options_.weight_decay) : 0.0f;
  c.momentum = static_cast<float>(options_.momentum);
  c.buffer_decay = first_step ? 0.0f : c.momentum;
  c.gradient_weight = first_step ? 1.0f : static_cast<float>(1.0 - options_.dampening);
  c.step = static_cast<float>(-learning_rate);

  float* value = parameter.value.plain_data();
  const float* grad = parameter.grad.plain_data();
  const int64_t count = parameter.value.element_count();
  if (state.empty()) {
    update_without_momentum(value, grad, count, c);
  } else if (options_.nesterov) {
    update_with_momentum<true>(value, grad, state[0].data(), count, c);
  } else {
    update_with_momentum<false>(value, grad, state[0].data(), count, c);
  }
}

}  // namespace convoy
