#pragma once
// OptimizerSnapshot: an optimizer's state as plain named arrays and scalars, the form the
// checkpoint writer stores beside the weights and the reader hands back on resume.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "framework/common/shape.hpp"

namespace convoy {

// One state tensor of one parameter, named "<parameter name>.<state key>", for example
// "layer1.0.conv1.weight.momentum_buffer" (torch's state_dict keys it by parameter and key).
struct OptimizerState {
  std::string name;
  Shape shape;
  std::vector<float> values;  // row-major, element_count(shape) values
};

struct OptimizerSnapshot {
  std::string optimizer;                  // "sgd", "adamw": loading into another kind fails
  std::vector<OptimizerState> tensors;    // empty before the first step, as in torch
  std::map<std::string, double> scalars;  // "step": optimizer steps taken so far
};

}  // namespace convoy
