#include "support/model_checkpoint.hpp"

#include "checkpoints/checkpoint_writer.hpp"

namespace convoy::testing {

static std::vector<NamedArray> state_of(const Net& net) {
  std::vector<NamedArray> state;
  for (const auto& [name, parameter] : net.parameters())
    state.push_back({name, parameter->value.shape(), parameter->value.to_plain()});
  for (const auto& [name, buffer] : net.buffers())
    state.push_back({name, buffer->value.shape(), buffer->value.to_plain()});
  return state;
}

void write_model_checkpoint(const Net& net, const std::string& configuration,
                            const std::string& path, const Net* model_ema) {
  Checkpoint checkpoint;
  checkpoint.recipe = "test-model";  // no such recipe file: the stored configuration is used
  checkpoint.configuration = configuration;
  checkpoint.model = state_of(net);
  if (model_ema != nullptr) {
    checkpoint.model_ema = state_of(*model_ema);
    checkpoint.model_ema_updates = 1;
  }
  CheckpointWriter::write(path, checkpoint);
}

}  // namespace convoy::testing
