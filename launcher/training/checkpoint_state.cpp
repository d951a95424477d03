#include "launcher/training/checkpoint_state.hpp"

#include <algorithm>

#include "checkpoints/checkpoint_reader.hpp"
#include "framework/common/error.hpp"

namespace convoy::launcher {

std::vector<NamedArray> model_state(const Net& net) {
  std::vector<NamedArray> model;
  for (const auto& [name, parameter] : net.parameters()) {
    model.push_back({name, parameter->value.shape(), parameter->value.to_plain()});
  }
  for (const auto& [name, buffer] : net.buffers()) {
    model.push_back({name, buffer->value.shape(), buffer->value.to_plain()});
  }
  return model;
}

std::vector<TensorInfo> model_tensor_infos(const Net& net) {
  std::vector<TensorInfo> infos;
  for (const auto& [name, parameter] : net.parameters())
    infos.push_back({name, parameter->value.shape()});
  for (const auto& [name, buffer] : net.buffers()) infos.push_back({name, buffer->value.shape()});
  return infos;
}

void load_model_state(Net& net, const std::vector<NamedArray>& model) {
  auto find = [&](const std::string& name) -> const NamedArray& {
    auto it =
        std::find_if(model.begin(), model.end(), [&](const auto& a) { return a.name == name; });
    if (it == model.end()) throw ConfigError("the checkpoint has no tensor '" + name + "'");
    return *it;
  };
  for (const auto& [name, parameter] : net.parameters())
    parameter->value.copy_from_plain(find(name).values);
  for (const auto& [name, buffer] : net.buffers()) buffer->value.copy_from_plain(find(name).values);
}

std::vector<NamedArray> model_ema_state(Net& net, ExponentialMovingAverage& average) {
  average.swap_with_net();
  std::vector<NamedArray> state = model_state(net);
  average.swap_with_net();
  return state;
}

void load_model_ema_state(Net& net, ExponentialMovingAverage& average,
                          const std::vector<NamedArray>& arrays, int64_t updates) {
  check_compatible(arrays, "the checkpoint's /model_ema", model_tensor_infos(net));
  average.swap_with_net();
  load_model_state(net, arrays);
  average.swap_with_net();
  average.set_updates(updates);
}

void average_buffers(Communicator& communicator, Net& net) {
  if (communicator.world_size() == 1) return;
  for (const auto& [name, buffer] : net.buffers()) {
    std::span<float> values(buffer->value.plain_data(),
                            static_cast<size_t>(buffer->value.element_count()));
    // The allreduce gives every rank the same sum; num_batches_tracked averages to itself.
    communicator.allreduce_sum(values);
    for (auto& value : values) value /= static_cast<float>(communicator.world_size());
  }
}

}  // namespace convoy::launcher
