#pragma once
// GradientChecker: central finite differences against backward (after Caffe's
// test_gradient_check_util.hpp). Used by every layer test and by `convoy gradcheck`.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "framework/layers/layer.hpp"

namespace convoy {
class Net;
}

namespace convoy {

struct GradientCheckOptions {
  double step = 1e-2;                   // finite-difference step h
  double tolerance = 1e-2;              // on |analytic - numeric| / max(|analytic|, |numeric|, 1)
  uint64_t seed = 1701;                 // for the output projection and element sampling
  int64_t max_elements_per_tensor = 0;  // 0 checks every element; otherwise a seeded sample
  // Elements whose value lies within kink_range of kink are skipped: the derivative of ReLU or
  // max-pooling is not defined there and finite differences straddle the kink.
  double kink = 0.0;
  double kink_range = -1.0;
  // Kinks inside a layer (a fused ReLU after a convolution, BatchNorm or Add sits on values the
  // checker does not perturb directly): also evaluate the objective at the element's own value
  // and skip the element when the forward and backward one-sided slopes disagree by more than
  // the tolerance, i.e. when the function is not differentiable within one step of it.
  bool skip_kinks_inside = false;
};

struct GradientMismatch {
  std::string tensor;
  int64_t index = 0;  // row-major index into the tensor's logical shape
  double analytic = 0, numeric = 0, relative_error = 0;
};

struct GradientCheckReport {
  struct TensorResult {
    std::string name;
    int64_t checked = 0;
    int64_t skipped_at_kinks = 0;  // by skip_kinks_inside
    double max_relative_error = 0;
    bool passed = true;
  };
  std::vector<TensorResult> tensors;
  std::vector<GradientMismatch> mismatches;  // the first few, for messages
  bool passed() const;
  std::string summary() const;  // one line per tensor
};

// One tensor the objective depends on: how to read and write it, and its analytic gradient.
struct CheckedTensor {
  std::string name;
  std::function<std::vector<float>()> read;
  std::function<void(const std::vector<float>&)> write;
  std::vector<float> analytic_grad;
  // Optional: sets one element in place (plain parameters), so a perturbation of a 100 M-value
  // weight does not rewrite the whole tensor.
  std::function<void(int64_t index, float value)> write_element = {};
};

// The CheckedTensor of a parameter: plain f32, perturbed in place.
CheckedTensor checked_parameter(const std::string& name, Parameter& parameter);

class GradientChecker {
 public:
  explicit GradientChecker(GradientCheckOptions options = {}) : options_(options) {}

  // Checks the gradient of every input and every parameter of `layer`. The objective is
  // sum(output * R) for a fixed random R, so every output element contributes.
  // `after_backward`, when given, runs right after the layer's backward (a test fixture uses it
  // to corrupt gradients and prove the check catches it).
  GradientCheckReport check_layer(Layer& layer, const std::vector<Tensor>& inputs,
                                  Mode mode = Mode::train,
                                  const std::function<void(Layer&)>& after_backward = {}) const;

  // Checks the input gradient and every parameter gradient of a whole network (BatchNorm in
  // training mode included): the objective is sum(logits * R). Tensors are reported by their
  // parameter names ("layer1.0.conv1.weight") and "input".
  GradientCheckReport check_net(Net& net, const Tensor& input, Mode mode = Mode::train) const;

  // Checks every layer of `net` on the very inputs it receives in a forward pass of `input`,
  // one layer at a time. Each layer is differentiated where it is smooth, so a deep network's
  // ReLU and max-pool kinks (which make whole-network finite differences meaningless in float32)
  // cannot hide or fake an error. Tensors are named "<node>.<tensor>" ("layer1.0.conv1.weight",
  // "layer1.0.conv1.input0").
  // `after_backward(node name, layer)` as for check_layer.
  GradientCheckReport check_net_layerwise(
      Net& net, const Tensor& input, Mode mode = Mode::train,
      const std::function<void(const std::string&, Layer&)>& after_backward = {}) const;

  // The general form: `objective` recomputes the scalar after tensors were perturbed.
  GradientCheckReport check(const std::function<double()>& objective,
                            const std::vector<CheckedTensor>& tensors) const;

  const GradientCheckOptions& options() const { return options_; }

 private:
  GradientCheckOptions options_;
};

// sum(a * b) accumulated in double.
double dot(const std::vector<float>& a, const std::vector<float>& b);

}  // namespace convoy
