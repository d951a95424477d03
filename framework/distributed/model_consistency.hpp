#pragma once
// Starting every rank from the same model: a check that all ranks built the same parameter
// list (names and shapes), the broadcast of rank 0's values, and a hash of the values that
// tests and tools compare across ranks.

#include <cstdint>
#include <vector>

#include "framework/distributed/communicator.hpp"
#include "framework/graph/net.hpp"

namespace convoy {

// Throws CollectiveError on every rank, naming the first entry where a rank's model differs
// from rank 0's, e.g. "rank 1 builds layer2.0.conv1.weight (32, 16, 3, 3) where rank 0 has
// layer2.0.conv1.weight (32, 32, 3, 3)".
void verify_same_model(Communicator& communicator, const Net& net);

// Parameters and buffers take rank 0's values on every rank.
void broadcast_parameters(Communicator& communicator, const std::vector<NamedParameter>& parameters,
                          const std::vector<NamedBuffer>& buffers);

// XXH3 of every parameter value and buffer value in order: equal hashes, equal bits.
uint64_t hash_parameters(const std::vector<NamedParameter>& parameters,
                         const std::vector<NamedBuffer>& buffers = {});

}  // namespace convoy
