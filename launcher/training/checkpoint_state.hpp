#pragma once
// Moving training state between the live objects (Net, Optimizer) and the plain Checkpoint
// structure the checkpoints/ package writes and reads.

#include "checkpoints/checkpoint.hpp"
#include "framework/distributed/communicator.hpp"
#include "framework/graph/net.hpp"
#include "framework/optim/optimizer.hpp"

namespace convoy::launcher {

// Parameters and buffers as plain named arrays (a PyTorch state_dict).
std::vector<NamedArray> model_state(const Net& net);
// Loads values into the net; the caller has checked names and shapes (check_compatible).
void load_model_state(Net& net, const std::vector<NamedArray>& model);
// Names and shapes of every parameter and buffer, for check_compatible.
std::vector<TensorInfo> model_tensor_infos(const Net& net);

// BatchNorm running statistics differ between ranks (each normalizes its own shard); before an
// evaluation or a checkpoint they are averaged over ranks and broadcast from rank 0, so every
// rank holds the same bits.
void synchronize_buffers(Communicator& communicator, Net& net);

}  // namespace convoy::launcher
