#include "framework/optim/exponential_moving_average.hpp"

#include <algorithm>
#include <string>

#include "framework/common/error.hpp"

namespace convoy {

ExponentialMovingAverage::ExponentialMovingAverage(Net& net, double decay)
    : net_(net), decay_(decay) {
  if (!(decay >= 0 && decay < 1)) {
    throw ConfigError("model EMA decay must be in [0, 1), got " + std::to_string(decay));
  }
  int64_t total = 0;
  for_each_tensor([&](float*, float*, int64_t count, bool) { total += count; });
  average_.assign(static_cast<size_t>(total), 0.0f);
}

template <typename Visit>
void ExponentialMovingAverage::for_each_tensor(Visit visit) {
  int64_t offset = 0;
  auto one = [&](Tensor& tensor, bool counter) {
    const int64_t count = tensor.element_count();
    // Before the constructor sized it, the average has no storage: visit gets nullptr there.
    visit(tensor.plain_data(), average_.empty() ? nullptr : average_.data() + offset, count,
          counter);
    offset += count;
  };
  for (const auto& named : net_.parameters()) one(named.parameter->value, false);
  for (const auto& named : net_.buffers()) one(named.buffer->value, is_counter(named.name));
}

bool ExponentialMovingAverage::is_counter(const std::string& buffer_name) {
  const std::string suffix = "num_batches_tracked";
  return buffer_name.size() >= suffix.size() &&
         buffer_name.compare(buffer_name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void ExponentialMovingAverage::update() {
  const bool copy = updates_ == 0;
  const float keep = static_cast<float>(decay_), take = static_cast<float>(1.0 - decay_);
  for_each_tensor([&](float* values, float* average, int64_t count, bool counter) {
    if (copy || counter) {
      std::copy(values, values + count, average);
    } else {
      for (int64_t i = 0; i < count; ++i) average[i] = keep * average[i] + take * values[i];
    }
  });
  ++updates_;
}

void ExponentialMovingAverage::swap_with_net() {
  for_each_tensor([](float* values, float* average, int64_t count, bool) {
    std::swap_ranges(values, values + count, average);
  });
}

}  // namespace convoy
