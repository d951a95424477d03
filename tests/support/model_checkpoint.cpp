#include "support/model_checkpoint.hpp"

#include "checkpoints/checkpoint_writer.hpp"

namespace convoy::testing {

void write_model_checkpoint(const Net& net, const std::string& configuration,
                            const std::string& path) {
  Checkpoint checkpoint;
  checkpoint.recipe = "test-model";  // no such recipe file: the stored configuration is used
  checkpoint.configuration = configuration;
  for (const auto& [name, parameter] : net.parameters())
    checkpoint.model.push_back({name, parameter->value.shape(), parameter->value.to_plain()});
  for (const auto& [name, buffer] : net.buffers())
    checkpoint.model.push_back({name, buffer->value.shape(), buffer->value.to_plain()});
  CheckpointWriter::write(path, checkpoint);
}

}  // namespace convoy::testing
