#include "framework/distributed/gradient_accumulator.hpp"

#include <algorithm>

#include "framework/common/error.hpp"

namespace convoy {

GradientAccumulator::GradientAccumulator(std::vector<NamedParameter> parameters)
    : parameters_(std::move(parameters)) {
  int64_t total = 0;
  for (const auto& named : parameters_) {
    offsets_.push_back(total);
    total += named.parameter->grad.element_count();
  }
  sums_.assign(static_cast<size_t>(total), 0.0f);
}

void GradientAccumulator::start_step() { kept_ = 0; }

void GradientAccumulator::keep() {
  for (size_t i = 0; i < parameters_.size(); ++i) {
    const Tensor& grad = parameters_[i].parameter->grad;
    const float* from = grad.plain_data();
    float* sum = sums_.data() + offsets_[i];
    const int64_t count = grad.element_count();
    if (kept_ == 0) {
      std::copy(from, from + count, sum);
    } else {
      for (int64_t k = 0; k < count; ++k) sum[k] += from[k];
    }
  }
  ++kept_;
}

void GradientAccumulator::fold_into(std::span<const int> parameter_indices) {
  if (kept_ == 0) return;
  for (int index : parameter_indices) {
    if (index < 0 || index >= static_cast<int>(parameters_.size())) {
      throw DistributedError("gradient accumulation: unknown parameter index " +
                             std::to_string(index));
    }
    Tensor& grad = parameters_[index].parameter->grad;
    float* to = grad.plain_data();
    const float* sum = sums_.data() + offsets_[index];
    const int64_t count = grad.element_count();
    for (int64_t k = 0; k < count; ++k) to[k] += sum[k];
  }
}

}  // namespace convoy
