#pragma once
// Moving training state between the live objects (Net, Optimizer) and the plain Checkpoint
// structure the checkpoints/ package writes and reads.

#include "checkpoints/checkpoint.hpp"
#include "framework/distributed/communicator.hpp"
#include "framework/graph/net.hpp"
#include "framework/optim/exponential_moving_average.hpp"
#include "framework/optim/optimizer.hpp"

namespace convoy::launcher {

// Parameters and buffers as plain named arrays (a PyTorch state_dict).
std::vector<NamedArray> model_state(const Net& net);
// Loads values into the net; the caller has checked names and shapes (check_compatible).
void load_model_state(Net& net, const std::vector<NamedArray>& model);
// The model EMA under the model's names, and back (swapped into the net, read or loaded like
// the model, swapped out: the net's own values come back bit for bit). Loading checks names and
// shapes and sets the average's update count.
std::vector<NamedArray> model_ema_state(Net& net, ExponentialMovingAverage& average);
void load_model_ema_state(Net& net, ExponentialMovingAverage& average,
                          const std::vector<NamedArray>& arrays, int64_t updates);
// Names and shapes of every parameter and buffer, for check_compatible.
std::vector<TensorInfo> model_tensor_infos(const Net& net);

// BatchNorm running statistics would drift apart between ranks (each normalizes its own shard);
// the trainer averages them over ranks after every step, so every rank holds the same bits at
// all times and a checkpoint or an evaluation never has to change training state (which would
// break bit-exact resume). The buffers are small: one allreduce of a few thousand floats.
void average_buffers(Communicator& communicator, Net& net);

}  // namespace convoy::launcher
