#include "framework/optim/optimizer_factory.hpp"

#include "framework/common/error.hpp"

namespace convoy {

std::unique_ptr<Optimizer> make_optimizer(const OptimizerConfig& config,
                                          std::vector<NamedParameter> parameters) {
  if (config.name == "sgd") return std::make_unique<SGD>(std::move(parameters), config.sgd);
  if (config.name == "adamw") return std::make_unique<AdamW>(std::move(parameters), config.adamw);
  throw ConfigError("optimizer: unknown name '" + config.name + "', expected sgd or adamw");
}

}  // namespace convoy
