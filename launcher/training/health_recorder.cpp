#include "launcher/training/health_recorder.hpp"

#include <map>
#include <set>

#include "framework/health/health_statistics.hpp"
#include "framework/layers/activation.hpp"
#include "framework/layers/add.hpp"
#include "framework/layers/batch_norm2d.hpp"
#include "framework/layers/conv2d.hpp"

namespace convoy::launcher {

namespace {

// Outputs where a channel can be dead: a plain ReLU, or a layer with a ReLU fused in.
bool ends_with_relu(const Layer& layer) {
  if (auto* activation = dynamic_cast<const Activation*>(&layer))
    return activation->options().kind == ActivationKind::relu && activation->options().alpha == 0;
  if (auto* conv = dynamic_cast<const Conv2d*>(&layer)) return conv->options().fuse_relu;
  if (auto* norm = dynamic_cast<const BatchNorm2d*>(&layer)) return norm->options().fuse_relu;
  if (auto* add = dynamic_cast<const Add*>(&layer)) return add->fuse_relu();
  return false;
}

std::string type_of(const Layer& layer, bool relu_reported_by_next_node) {
  if (auto* activation = dynamic_cast<const Activation*>(&layer)) {
    return activation->fused_into_input() ? "ReLU" : layer.describe();  // "ReLU", "GELU" ...
  }
  return ends_with_relu(layer) && !relu_reported_by_next_node ? layer.type() + "+ReLU"
                                                              : layer.type();
}

}  // namespace

void HealthRecorder::before_update(const Net& net) {
  layers_.clear();
  std::map<std::string, int> seen;
  const auto outputs = net.last_forward_outputs();
  // A ReLU that Net::fuse_relus folded into its producer stays a node whose output IS the
  // producer's: report the activation there, under the ReLU's name, as without fusion.
  std::set<const void*> fused_relu_outputs;
  for (const auto& node : outputs) {
    auto* activation = dynamic_cast<const Activation*>(node.layer);
    if (activation && activation->fused_into_input() && !node.output.empty()) {
      fused_relu_outputs.insert(node.output.memory().data());
    }
  }
  for (const auto& node : outputs) {
    Layer& layer = *node.layer;
    const bool relu_reported_by_next_node = !node.output.empty() &&
                                            !dynamic_cast<const Activation*>(&layer) &&
                                            fused_relu_outputs.count(node.output.memory().data());
    const bool is_activation = dynamic_cast<const Activation*>(&layer) ||
                               (ends_with_relu(layer) && !relu_reported_by_next_node);
    std::vector<Parameter*> parameters = layer.parameters();
    if (parameters.empty() && !is_activation) continue;
    LayerSnapshot snapshot;
    const int occurrence = ++seen[node.name];
    snapshot.name = occurrence == 1 ? node.name : node.name + "#" + std::to_string(occurrence);
    snapshot.type = type_of(layer, relu_reported_by_next_node);
    for (Parameter* parameter : parameters) {
      snapshot.values_before.push_back(parameter->value.to_plain());
      snapshot.gradients.push_back(parameter->grad.to_plain());
    }
    snapshot.parameters = std::move(parameters);
    if (is_activation && !node.output.empty()) {
      const health::ActivationStatistics s =
          health::activation_statistics(node.output.to_plain(), node.output.shape());
      snapshot.activation = {{"activation_mean", s.mean},
                             {"activation_std", s.standard_deviation},
                             {"mean_abs_correlation", s.mean_abs_correlation}};
      if (ends_with_relu(layer)) snapshot.activation["dead_fraction"] = s.dead_fraction;
    }
    layers_.push_back(std::move(snapshot));
  }
}

nlohmann::json HealthRecorder::after_update(int64_t step) {
  nlohmann::json layers = nlohmann::json::array();
  for (auto& snapshot : layers_) {
    nlohmann::json entry = {{"name", snapshot.name}, {"type", snapshot.type}};
    if (!snapshot.parameters.empty()) {
      std::vector<std::vector<float>> values_after;
      std::vector<health::ParameterStep> steps;
      for (Parameter* parameter : snapshot.parameters)
        values_after.push_back(parameter->value.to_plain());
      for (size_t i = 0; i < snapshot.parameters.size(); ++i)
        steps.push_back({snapshot.values_before[i], values_after[i], snapshot.gradients[i]});
      const health::ParameterStatistics s = health::parameter_statistics(steps);
      // Non-finite numbers become JSON null, which `convoy health` reads as "not finite".
      entry["weight_norm"] = s.weight_norm;
      entry["grad_norm"] = s.gradient_norm;
      entry["update_ratio"] = s.update_ratio;
    }
    if (snapshot.activation.is_object()) {
      for (const auto& [key, value] : snapshot.activation.items()) entry[key] = value;
    }
    layers.push_back(std::move(entry));
  }
  layers_.clear();
  return {{"kind", "health"}, {"step", step}, {"layers", std::move(layers)}};
}

}  // namespace convoy::launcher
