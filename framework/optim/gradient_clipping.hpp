#pragma once
// Gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_ (L2 norm).

#include <vector>

#include "framework/graph/named_tensors.hpp"

namespace convoy {

// L2 norm of all gradients taken together, accumulated in double.
double global_grad_norm(const std::vector<NamedParameter>& parameters);

// Scales every gradient by max_norm / (total_norm + 1e-6) when that factor is below 1 (torch's
// formula, epsilon included) and returns the total norm before clipping. A non-finite norm
// leaves the gradients untouched: the caller decides (the trainer raises TrainingError naming
// the step). Throws ConfigError unless max_norm > 0.
double clip_grad_norm(const std::vector<NamedParameter>& parameters, double max_norm);

}  // namespace convoy
