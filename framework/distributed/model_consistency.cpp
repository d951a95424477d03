#include "framework/distributed/model_consistency.hpp"

#include <xxhash.h>

#include "framework/distributed/rank_agreement.hpp"

namespace convoy {

static std::vector<std::string> model_entries(const Net& net) {
  std::vector<std::string> entries;
  for (const auto& [name, parameter] : net.parameters()) {
    entries.push_back(name + " " + to_string(parameter->value.shape()));
  }
  for (const auto& [name, buffer] : net.buffers()) {
    entries.push_back(name + " " + to_string(buffer->value.shape()));
  }
  return entries;
}

void verify_same_model(Communicator& communicator, const Net& net) {
  verify_ranks_agree(communicator, model_entries(net), "builds",
                     "every rank must build the same model");
}

void broadcast_parameters(Communicator& communicator, const std::vector<NamedParameter>& parameters,
                          const std::vector<NamedBuffer>& buffers) {
  if (communicator.world_size() == 1) return;
  for (const auto& [name, parameter] : parameters) {
    communicator.broadcast(
        {parameter->value.plain_data(), static_cast<size_t>(parameter->value.element_count())}, 0);
  }
  for (const auto& [name, buffer] : buffers) {
    communicator.broadcast(
        {buffer->value.plain_data(), static_cast<size_t>(buffer->value.element_count())}, 0);
  }
}

uint64_t hash_parameters(const std::vector<NamedParameter>& parameters,
                         const std::vector<NamedBuffer>& buffers) {
  XXH3_state_t* state = XXH3_createState();
  XXH3_64bits_reset(state);
  for (const auto& [name, parameter] : parameters) {
    XXH3_64bits_update(state, parameter->value.plain_data(),
                       static_cast<size_t>(parameter->value.element_count()) * sizeof(float));
  }
  for (const auto& [name, buffer] : buffers) {
    XXH3_64bits_update(state, buffer->value.plain_data(),
                       static_cast<size_t>(buffer->value.element_count()) * sizeof(float));
  }
  const uint64_t hash = XXH3_64bits_digest(state);
  XXH3_freeState(state);
  return hash;
}

}  // namespace convoy
