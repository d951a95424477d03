#include "framework/optim/gradient_clipping.hpp"

#include <cmath>

#include "framework/common/error.hpp"
#include "framework/optim/optimizer.hpp"

namespace convoy {

double global_grad_norm(const std::vector<NamedParameter>& parameters) {
  double sum_of_squares = 0.0;
  for (const auto& [name, parameter] : parameters) {
    const float* grad = parameter->grad.plain_data();
    const int64_t count = parameter->grad.element_count();
    double parameter_sum = 0.0;
#pragma omp parallel for simd reduction(+ : parameter_sum) \
    if (count >= Optimizer::kParallelElements) schedule(static)
    for (int64_t i = 0; i < count; ++i) {
      parameter_sum += static_cast<double>(grad[i]) * grad[i];
    }
    sum_of_squares += parameter_sum;
  }
  return std::sqrt(sum_of_squares);
}

double clip_grad_norm(const std::vector<NamedParameter>& parameters, double max_norm) {
  if (!(max_norm > 0.0) || !std::isfinite(max_norm)) {
    throw ConfigError("clip_grad_norm: max_norm must be finite and > 0, got " +
                      std::to_string(max_norm));
  }
  const double total_norm = global_grad_norm(parameters);
  if (!std::isfinite(total_norm)) return total_norm;
  const double clip_coefficient = max_norm / (total_norm + 1e-6);
  if (clip_coefficient >= 1.0) return total_norm;
  const auto scale = static_cast<float>(clip_coefficient);
  for (const auto& [name, parameter] : parameters) {
    float* grad = parameter->grad.plain_data();
    const int64_t count = parameter->grad.element_count();
#pragma omp parallel for simd if (count >= Optimizer::kParallelElements) schedule(static)
    for (int64_t i = 0; i < count; ++i) grad[i] *= scale;
  }
  return total_norm;
}

}  // namespace convoy
