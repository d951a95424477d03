#include "framework/optim/optimizer.hpp"

#include <cmath>
#include <map>
#include <set>
#include <utility>

#include "framework/common/error.hpp"

namespace convoy {

Optimizer::Optimizer(std::string kind, std::vector<NamedParameter> parameters,
                     std::vector<std::string> state_keys)
    : kind_(std::move(kind)),
      parameters_(std::move(parameters)),
      state_keys_(std::move(state_keys)) {
  std::set<std::string> seen;
  for (const auto& [name, parameter] : parameters_) {
    if (parameter == nullptr) throw ConfigError(kind_ + ": parameter '" + name + "' is null");
    if (!seen.insert(name).second) {
      throw ConfigError(kind_ + ": parameter '" + name + "' is listed twice");
    }
    if (parameter->grad.shape() != parameter->value.shape()) {
      throw ShapeError(kind_ + ": parameter '" + name + "' has value " +
                       to_string(parameter->value.shape()) + " but gradient " +
                       to_string(parameter->grad.shape()));
    }
    parameter->value.plain_data();  // throws ShapeError unless plain f32
    parameter->grad.plain_data();
  }
}

void Optimizer::step(double learning_rate) {
  if (!std::isfinite(learning_rate) || learning_rate < 0) {
    throw TrainingError(kind_ + ": learning rate must be finite and >= 0, got " +
                        std::to_string(learning_rate) + " at step " +
                        std::to_string(step_count_ + 1));
  }
  if (state_.empty()) {
    state_.resize(parameters_.size());
    for (size_t i = 0; i < parameters_.size(); ++i) {
      const auto count = static_cast<size_t>(parameters_[i].parameter->value.element_count());
      state_[i].assign(state_keys_.size(), std::vector<float>(count, 0.0f));
    }
  }
  ++step_count_;
  for (size_t i = 0; i < parameters_.size(); ++i) {
    update(*parameters_[i].parameter, state_[i], learning_rate);
  }
}

OptimizerSnapshot Optimizer::export_state() const {
  OptimizerSnapshot snapshot;
  snapshot.optimizer = kind_;
  snapshot.scalars["step"] = static_cast<double>(step_count_);
  for (size_t i = 0; i < state_.size(); ++i) {
    for (size_t k = 0; k < state_keys_.size(); ++k) {
      snapshot.tensors.push_back({parameters_[i].name + "." + state_keys_[k],
                                  parameters_[i].parameter->value.shape(), state_[i][k]});
    }
  }
  return snapshot;
}

void Optimizer::import_state(const OptimizerSnapshot& snapshot) {
  const std::string where = kind_ + " optimizer state: ";
  if (snapshot.optimizer != kind_) {
    throw ConfigError(where + "snapshot is for optimizer '" + snapshot.optimizer + "'");
  }
  const auto step = snapshot.scalars.find("step");
  if (step == snapshot.scalars.end()) throw ConfigError(where + "scalar 'step' is missing");
  if (!(step->second >= 0) || step->second != std::floor(step->second)) {
    throw ConfigError(where + "scalar 'step' must be a whole number >= 0, got " +
                      std::to_string(step->second));
  }
  const auto step_count = static_cast<int64_t>(step->second);

  // Every (parameter, key) the snapshot must hold once a step has been taken.
  std::map<std::string, std::pair<size_t, size_t>> expected;
  if (step_count > 0) {
    for (size_t i = 0; i < parameters_.size(); ++i) {
      for (size_t k = 0; k < state_keys_.size(); ++k) {
        expected[parameters_[i].name + "." + state_keys_[k]] = {i, k};
      }
    }
  }
  std::vector<std::vector<std::vector<float>>> state(step_count > 0 ? parameters_.size() : 0);
  for (auto& buffers : state) buffers.resize(state_keys_.size());
  std::set<std::string> loaded;
  for (const auto& tensor : snapshot.tensors) {
    const auto slot = expected.find(tensor.name);
    if (slot == expected.end()) {
      throw ConfigError(where + "unexpected entry '" + tensor.name + "' (no such parameter and " +
                        "state key" + (step_count == 0 ? " before the first step)" : ")"));
    }
    if (!loaded.insert(tensor.name).second) {
      throw ConfigError(where + "entry '" + tensor.name + "' appears twice");
    }
    const auto [index, key] = slot->second;
    const Shape expected_shape = parameters_[index].parameter->value.shape();
    if (tensor.shape != expected_shape) {
      throw ConfigError(where + "entry '" + tensor.name + "' has shape " + to_string(tensor.shape) +
                        ", expected " + to_string(expected_shape));
    }
    if (static_cast<int64_t>(tensor.values.size()) != element_count(expected_shape)) {
      throw ConfigError(where + "entry '" + tensor.name + "' holds " +
                        std::to_string(tensor.values.size()) + " values, expected " +
                        std::to_string(element_count(expected_shape)));
    }
    state[index][key] = tensor.values;
  }
  if (step_count > 0) {
    for (const auto& [name, parameter] : parameters_) {
      for (const auto& key : state_keys_) {
        if (!loaded.contains(name + "." + key)) {
          throw ConfigError(where + "entry '" + name + "." + key + "' is missing");
        }
      }
    }
  }
  state_ = std::move(state);
  step_count_ = step_count;
}

}  // namespace convoy
