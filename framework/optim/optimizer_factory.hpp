#pragma once
// make_optimizer: builds the optimizer a recipe names ("sgd", "adamw") from one config struct,
// so the launcher holds no per-optimizer code.

#include <memory>
#include <string>
#include <vector>

#include "framework/optim/adamw.hpp"
#include "framework/optim/sgd.hpp"

namespace convoy {

struct OptimizerConfig {
  std::string name = "sgd";  // "sgd" or "adamw"
  SgdOptions sgd{};          // used when name == "sgd"
  AdamWOptions adamw{};      // used when name == "adamw"
};

// Throws ConfigError for an unknown name (and whatever the optimizer's own checks raise).
std::unique_ptr<Optimizer> make_optimizer(const OptimizerConfig& config,
                                          std::vector<NamedParameter> parameters);

}  // namespace convoy
