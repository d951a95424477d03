#pragma once
// Parameters with hand-chosen values and gradients for optimizer tests.

#include <deque>
#include <string>
#include <vector>

#include "framework/graph/named_tensors.hpp"

namespace convoy::testing {

// Owns the Parameters (a deque keeps their addresses stable) and lists them by name.
class ParameterList {
 public:
  ParameterList() = default;
  ParameterList(ParameterList&&) = default;  // a deque's move keeps element addresses
  ParameterList(const ParameterList&) = delete;

  Parameter& add(const std::string& name, const std::vector<float>& values,
                 const std::vector<float>& grads, bool is_bias_or_norm = false) {
    const Shape shape{static_cast<int64_t>(values.size())};
    owned_.push_back(Parameter{name, Tensor::from_plain(shape, values),
                               Tensor::from_plain(shape, grads), is_bias_or_norm});
    named_.push_back({name, &owned_.back()});
    return owned_.back();
  }
  const std::vector<NamedParameter>& named() const { return named_; }
  Parameter& operator[](size_t index) { return owned_[index]; }

 private:
  std::deque<Parameter> owned_;
  std::vector<NamedParameter> named_;
};

inline void set_grad(Parameter& parameter, const std::vector<float>& grads) {
  parameter.grad.copy_from_plain(grads);
}

inline std::vector<float> values_of(const Parameter& parameter) {
  return parameter.value.to_plain();
}

}  // namespace convoy::testing
