#include "framework/gradient_checker.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <sstream>

#include "framework/graph/net.hpp"

namespace convoy {

CheckedTensor checked_parameter(const std::string& name, Parameter& parameter) {
  Tensor target = parameter.value;
  float* data = target.plain_data();
  return {name, [target] { return target.to_plain(); },
          [target](const std::vector<float>& v) mutable { target.copy_from_plain(v); },
          parameter.grad.to_plain(), [data](int64_t index, float value) { data[index] = value; }};
}

double dot(const std::vector<float>& a, const std::vector<float>& b) {
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += static_cast<double>(a[i]) * b[i];
  return sum;
}

bool GradientCheckReport::passed() const {
  return std::all_of(tensors.begin(), tensors.end(), [](const auto& t) { return t.passed; });
}

std::string GradientCheckReport::summary() const {
  std::ostringstream out;
  for (const auto& t : tensors) {
    out << t.name << ": " << t.checked << " checked, max relative error " << t.max_relative_error
        << (t.passed ? " ok" : " FAILED") << "\n";
  }
  for (const auto& m : mismatches) {
    out << "  " << m.tensor << "[" << m.index << "]: analytic " << m.analytic << " numeric "
        << m.numeric << " relative error " << m.relative_error << "\n";
  }
  return out.str();
}

GradientCheckReport GradientChecker::check(const std::function<double()>& objective,
                                           const std::vector<CheckedTensor>& tensors) const {
  GradientCheckReport report;
  std::mt19937_64 generator(options_.seed);
  for (const auto& tensor : tensors) {
    GradientCheckReport::TensorResult result{tensor.name};
    std::vector<float> values = tensor.read();
    std::vector<int64_t> indices(values.size());
    std::iota(indices.begin(), indices.end(), 0);
    if (options_.max_elements_per_tensor > 0 &&
        static_cast<int64_t>(indices.size()) > options_.max_elements_per_tensor) {
      std::shuffle(indices.begin(), indices.end(), generator);
      indices.resize(options_.max_elements_per_tensor);
    }
    for (int64_t index : indices) {
      const float original = values[index];
      if (options_.kink_range > 0 && std::abs(original - options_.kink) < options_.kink_range) {
        continue;
      }
      auto set = [&](float value) {
        values[index] = value;
        if (tensor.write_element) {
          tensor.write_element(index, value);
        } else {
          tensor.write(values);
        }
      };
      set(static_cast<float>(original + options_.step));
      const double plus = objective();
      set(static_cast<float>(original - options_.step));
      const double minus = objective();
      set(original);
      // The step actually applied differs from h by float rounding; divide by the real one.
      const double upper = static_cast<double>(static_cast<float>(original + options_.step));
      const double lower = static_cast<double>(static_cast<float>(original - options_.step));
      const double numeric = (plus - minus) / (upper - lower);
      const double analytic = tensor.analytic_grad[index];
      const double scale = std::max({std::abs(analytic), std::abs(numeric), 1.0});
      if (options_.skip_kinks_inside) {
        const double centre = objective();
        const double forward_slope = (plus - centre) / (upper - original);
        const double backward_slope = (centre - minus) / (original - lower);
        if (std::abs(forward_slope - backward_slope) / scale > options_.tolerance) {
          ++result.skipped_at_kinks;
          continue;
        }
      }
      // A non-finite gradient on either side is a mismatch: NaN compares false with anything,
      // so the plain test below would let it pass.
      const double error = std::isfinite(analytic) && std::isfinite(numeric)
                               ? std::abs(analytic - numeric) / scale
                               : INFINITY;
      ++result.checked;
      result.max_relative_error = std::max(result.max_relative_error, error);
      if (error > options_.tolerance) {
        result.passed = false;
        if (report.mismatches.size() < 10) {
          report.mismatches.push_back({tensor.name, index, analytic, numeric, error});
        }
      }
    }
    report.tensors.push_back(result);
  }
  return report;
}

GradientCheckReport GradientChecker::check_layer(
    Layer& layer, const std::vector<Tensor>& inputs, Mode mode,
    const std::function<void(Layer&)>& after_backward) const {
  // Inputs are copied so the caller's tensors are never perturbed.
  std::vector<Tensor> perturbed;
  for (const auto& input : inputs) perturbed.push_back(input.clone());

  Tensor output = layer.forward(perturbed, mode);
  std::mt19937_64 generator(options_.seed);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> projection(static_cast<size_t>(output.element_count()));
  for (auto& value : projection) value = uniform(generator);

  Tensor output_grad = Tensor::from_plain(output.shape(), projection);
  std::vector<Tensor> input_grads = layer.backward(output_grad);
  if (after_backward) after_backward(layer);

  std::vector<CheckedTensor> checked;
  for (size_t i = 0; i < perturbed.size(); ++i) {
    Tensor target = perturbed[i];
    checked.push_back({"input" + std::to_string(i), [target] { return target.to_plain(); },
                       [target](const std::vector<float>& v) mutable { target.copy_from_plain(v); },
                       input_grads.at(i).to_plain()});
  }
  for (Parameter* parameter : layer.parameters()) {
    checked.push_back(checked_parameter(parameter->name, *parameter));
  }
  auto objective = [&] { return dot(layer.forward(perturbed, mode).to_plain(), projection); };
  return check(objective, checked);
}

GradientCheckReport GradientChecker::check_net(Net& net, const Tensor& input, Mode mode) const {
  Tensor perturbed = input.clone();
  Tensor output = net.forward(perturbed, mode);
  std::mt19937_64 generator(options_.seed);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> projection(static_cast<size_t>(output.element_count()));
  for (auto& value : projection) value = uniform(generator);
  Tensor input_grad = net.backward(Tensor::from_plain(output.shape(), projection));

  std::vector<CheckedTensor> checked;
  checked.push_back(
      {"input", [perturbed] { return perturbed.to_plain(); },
       [perturbed](const std::vector<float>& v) mutable { perturbed.copy_from_plain(v); },
       input_grad.to_plain()});
  for (const auto& [name, parameter] : net.parameters()) {
    checked.push_back(checked_parameter(name, *parameter));
  }
  auto objective = [&] { return dot(net.forward(perturbed, mode).to_plain(), projection); };
  return check(objective, checked);
}

GradientCheckReport GradientChecker::check_net_layerwise(
    Net& net, const Tensor& input, Mode mode,
    const std::function<void(const std::string&, Layer&)>& after_backward) const {
  net.forward(input, mode);
  // Copies: checking a layer re-runs its forward, which would overwrite the outputs that later
  // layers read.
  std::vector<Net::NodeInputs> nodes = net.last_forward_inputs();
  for (auto& node : nodes) {
    for (auto& tensor : node.inputs) tensor = tensor.clone();
  }
  GradientCheckReport report;
  for (auto& node : nodes) {
    std::function<void(Layer&)> hook;
    if (after_backward) hook = [&](Layer& layer) { after_backward(node.name, layer); };
    GradientCheckReport layer_report = check_layer(*node.layer, node.inputs, mode, hook);
    for (auto& tensor : layer_report.tensors) {
      tensor.name = node.name + "." + tensor.name;
      report.tensors.push_back(tensor);
    }
    for (auto& mismatch : layer_report.mismatches) {
      mismatch.tensor = node.name + "." + mismatch.tensor;
      if (report.mismatches.size() < 10) report.mismatches.push_back(mismatch);
    }
  }
  return report;
}

}  // namespace convoy
