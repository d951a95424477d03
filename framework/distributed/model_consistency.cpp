#include "framework/distributed/model_consistency.hpp"

#include <xxhash.h>

#include <sstream>

#include "framework/common/error.hpp"

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
  const auto entries = model_entries(net);
  std::string text;
  for (const auto& entry : entries) text += entry + "\n";
  const uint64_t hash = XXH3_64bits(text.data(), text.size());
  const auto hashes = communicator.allgather(hash);
  int differing = -1;
  for (int rank = 1; rank < communicator.world_size() && differing < 0; ++rank) {
    if (hashes[rank] != hashes[0]) differing = rank;
  }
  if (differing < 0) return;
  // Rank 0 sends its list; the first differing rank names the first entry that differs and
  // sends the message back to everyone, so every rank throws the same error.
  std::string reference = text;
  communicator.broadcast(reference, 0);
  std::string message;
  if (communicator.rank() == differing) {
    std::vector<std::string> theirs;
    std::istringstream lines(reference);
    for (std::string line; std::getline(lines, line);) theirs.push_back(line);
    size_t index = 0;
    while (index < entries.size() && index < theirs.size() && entries[index] == theirs[index])
      ++index;
    auto entry = [&](const std::vector<std::string>& list) {
      return index < list.size() ? list[index] : std::string("nothing more");
    };
    message = "rank " + std::to_string(differing) + " builds " + entry(entries) +
              " where rank 0 has " + entry(theirs) + " (entry " + std::to_string(index) +
              "): every rank must build the same model";
  }
  communicator.broadcast(message, differing);
  throw CollectiveError(message);
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
