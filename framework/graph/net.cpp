#include "framework/graph/net.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <random>
#include <set>

#include "framework/common/error.hpp"
#include "framework/kernels/kernel_timing.hpp"
#include "framework/layers/activation.hpp"
#include "framework/layers/add.hpp"

namespace convoy {

// Why the Net looks the way it does:
// 1. Insertion order is a topological order (a node may only read earlier nodes), so forward
//    is one loop and backward the same loop reversed; no scheduler is needed for CNNs.
// 2. Parameters live in one contiguous arena in state_dict order. The optimizer, the gradient
//    allreduce (buckets are contiguous slices, walked from the end as backward produces them)
//    and the checkpoint are each one loop over plain memory.
// 3. Errors from a layer are rethrown with the node's name, so a shape mismatch reads
//    "layer2.0.conv1: Conv2d(...): expects ...".
// 4. Gradients w.r.t. node outputs are not kept for the run: a node drops its gradient right
//    after its layer's backward used it, and layers take their input gradients from one
//    GradientBufferPool, which recycles every buffer no one holds any more. Backward then
//    needs about as many activation-sized buffers as are alive at once (a handful), not one
//    per layer, which is what PyTorch achieves by freeing each gradient after use.

using Clock = std::chrono::steady_clock;

std::string Net::node_label(const Node& node) const {
  return node.name.empty() ? node.layer->describe() : node.name;
}

Net::NodeId Net::add(const std::string& name, std::unique_ptr<Layer> layer,
                     std::vector<NodeId> inputs) {
  if (finalized_) throw ConfigError("Net::add(" + name + ") after finalize()");
  if (static_cast<int>(inputs.size()) != layer->input_count()) {
    throw ShapeError(name + ": " + layer->describe() + " takes " +
                     std::to_string(layer->input_count()) + " input(s), the graph gives " +
                     std::to_string(inputs.size()));
  }
  const NodeId id = static_cast<NodeId>(nodes_.size());
  for (NodeId input : inputs) {
    if (input < 0 || input >= id) {
      throw ConfigError(name + ": input node " + std::to_string(input) + " does not exist yet");
    }
    ++nodes_[input].consumer_count;
  }
  Node node;
  node.name = name;
  node.layer = std::move(layer);
  node.inputs = std::move(inputs);
  nodes_.push_back(std::move(node));
  return id;
}

void Net::finalize() {
  if (finalized_) return;
  if (nodes_.size() < 2) throw ConfigError("a Net needs at least one layer");
  int64_t total = 0;
  for (auto& node : nodes_) {
    if (!node.layer) continue;
    node.layer->set_gradient_buffer_pool(&gradient_buffers_);
    for (Parameter* parameter : node.layer->parameters()) {
      node.parameter_indices.push_back(static_cast<int>(parameters_.size()));
      parameters_.push_back({node.name + "." + parameter->name, parameter});
      total += parameter->value.element_count();
    }
    for (Buffer* buffer : node.layer->buffers()) {
      buffers_.push_back({node.name + "." + buffer->name, buffer});
    }
  }
  values_arena_.assign(static_cast<size_t>(total), 0.0f);
  grads_arena_.assign(static_cast<size_t>(total), 0.0f);
  size_t offset = 0;
  for (auto& [name, parameter] : parameters_) {
    const Layout layout = parameter->value.layout();
    const size_t count = static_cast<size_t>(parameter->value.element_count());
    std::memcpy(values_arena_.data() + offset, parameter->value.plain_data(),
                count * sizeof(float));
    parameter->value = Tensor(kernels::Memory(layout, values_arena_.data() + offset));
    parameter->grad = Tensor(kernels::Memory(layout, grads_arena_.data() + offset));
    offset += count;
  }
  finalized_ = true;
}

int64_t Net::parameter_count() const { return static_cast<int64_t>(values_arena_.size()); }

Tensor Net::forward(const Tensor& input, Mode mode) {
  if (!finalized_) throw ConfigError("Net::forward before finalize()");
  nodes_[kInput].output = input;
  for (size_t i = 1; i < nodes_.size(); ++i) {
    Node& node = nodes_[i];
    std::vector<Tensor> inputs;
    inputs.reserve(node.inputs.size());
    for (NodeId id : node.inputs) inputs.push_back(nodes_[id].output);
    try {
      const bool timed = profiling_ || timeline_;
      const TimingMark mark = timed ? timing_mark() : TimingMark{};
      node.output = node.layer->forward(inputs, mode);
      if (timed) record_time(node, "forward", mark, node.forward_timing);
    } catch (const ShapeError& error) {
      throw ShapeError(node.name + ": " + error.what());
    }
  }
  return nodes_.back().output;
}

bool Net::add_gradient(Node& node, const Tensor& contribution) {
  if (!node.grad_set) {
    node.grad = contribution;
    node.grad_set = true;
    node.grad_is_sum = false;
    return false;
  }
  // Second contribution to a fan-out node: sum into a buffer no one else sees. The first
  // contribution is one if only this node still holds it (a residual branch's gradient once
  // the branch's last layer ran); otherwise it may be shared (Add gives both branches one
  // tensor, the caller keeps its output_grad, a hook kept a copy) and is copied first.
  // In place or copied, the sum is the same: first + second, element by element.
  if (!node.grad_is_sum && !gradient_buffers_.held_only_by(node.grad)) {
    Tensor sum = gradient_buffers_.acquire(node.grad.layout());
    sum.copy_from(node.grad);
    node.grad = sum;
  }
  node.grad_is_sum = true;
  kernels::accumulate(contribution.memory(), node.grad.memory());
  return true;
}

Tensor Net::backward(const Tensor& output_grad, const GradientsReadyCallback& on_ready) {
  return backward_through(static_cast<NodeId>(nodes_.size() - 1), output_grad, on_ready,
                          /*every_node_reached=*/true);
}

Tensor Net::backward_from(const std::string& name, const Tensor& output_grad) {
  return backward_through(index_of(name), output_grad, {}, /*every_node_reached=*/false);
}

Tensor Net::backward_through(NodeId start, const Tensor& output_grad,
                             const GradientsReadyCallback& on_ready, bool every_node_reached) {
  for (auto& node : nodes_) {
    node.grad = Tensor();  // a backward that threw may have left some
    node.grad_set = false;
  }
  add_gradient(nodes_[start], output_grad);
  for (size_t i = static_cast<size_t>(start); i >= 1; --i) {
    Node& node = nodes_[i];
    if (!node.grad_set) {
      if (!every_node_reached) continue;
      throw ConfigError(node_label(node) + ": no gradient reached this node (is it unused?)");
    }
    std::vector<Tensor> input_grads;
    const bool timed = profiling_ || timeline_;
    try {
      const TimingMark mark = timed ? timing_mark() : TimingMark{};
      input_grads = node.layer->backward(node.grad);
      if (timed) record_time(node, "backward", mark, node.backward_timing);
    } catch (const ShapeError& error) {
      throw ShapeError(node.name + ": " + error.what());
    }
    if (node.backward_hook) node.backward_hook(*node.layer, input_grads);
    if (on_ready && !node.parameter_indices.empty()) on_ready(node.parameter_indices);
    // Summing into a fan-out node's gradient is this layer's backward too (and its reorder).
    const TimingMark sums_mark = timed ? timing_mark() : TimingMark{};
    bool summed = false;
    for (size_t k = 0; k < node.inputs.size(); ++k) {
      // Empty: the layer skipped a gradient nobody needs (set_input_gradient_needed).
      if (!input_grads[k].empty()) summed |= add_gradient(nodes_[node.inputs[k]], input_grads[k]);
    }
    if (timed && summed) record_time(node, "gradient sum", sums_mark, node.backward_timing);
    node.grad = Tensor();  // used: its buffer goes back to the pool once no input shares it
  }
  Node& input = nodes_[kInput];
  if (!input.grad_set && !input_gradient_needed_) return Tensor();
  if (!input.grad_set) {
    throw ConfigError(node_label(nodes_[start]) + ": does not depend on the input");
  }
  Tensor input_grad = std::move(input.grad);  // the caller holds it for as long as it needs
  input.grad = Tensor();
  return input_grad;
}

std::vector<Net::NodeSummary> Net::summarize(const Shape& input_shape) const {
  std::vector<Shape> shapes(nodes_.size());
  std::vector<int64_t> field(nodes_.size(), 1), jump(nodes_.size(), 1);
  std::vector<double> offset(nodes_.size(), 0.0);
  shapes[kInput] = input_shape;
  std::vector<NodeSummary> rows;
  for (size_t i = 1; i < nodes_.size(); ++i) {
    const Node& node = nodes_[i];
    std::vector<Shape> inputs;
    int64_t input_field = 1, input_jump = 1;
    for (NodeId id : node.inputs) {
      inputs.push_back(shapes[id]);
      input_field = std::max(input_field, field[id]);
      input_jump = std::max(input_jump, jump[id]);
    }
    try {
      shapes[i] = node.layer->output_shape(inputs);
    } catch (const ShapeError& error) {
      throw ShapeError(node_label(node) + ": " + error.what());
    }
    const Layer::Window window = node.layer->window();
    field[i] = input_field + window.dilation * (window.kernel - 1) * input_jump;
    jump[i] = input_jump * window.stride;
    // Output 0 reads inputs -padding .. -padding + dilation * (kernel - 1); branches that
    // merge (residual adds) are aligned, so the first input's centre stands for all.
    const double input_offset = offset[node.inputs[0]];
    offset[i] = input_offset + static_cast<double>(input_jump) *
                                   (window.dilation * (window.kernel - 1) / 2.0 - window.padding);
    // Global and adaptive pooling collapse the whole map: every output sees every input pixel.
    const Shape& in = inputs[0];
    if (window.kernel == 1 && in.size() == 4 && shapes[i].size() == 4 && shapes[i][2] == 1 &&
        in[2] > 1) {
      field[i] = input_field + (in[2] - 1) * input_jump;
      jump[i] = input_jump * in[2];
      offset[i] = input_offset + static_cast<double>(input_jump) * (in[2] - 1) / 2.0;
    }
    NodeSummary row{node.name, node.layer->describe(), shapes[i]};
    for (Parameter* parameter : node.layer->parameters()) {
      row.parameter_count += parameter->value.element_count();
    }
    row.forward_flops = node.layer->forward_flops(inputs);
    row.receptive_field = field[i];
    row.jump = jump[i];
    row.centre_offset = offset[i];
    rows.push_back(row);
  }
  return rows;
}

Net::NodeId Net::index_of(const std::string& name) const {
  for (size_t i = 1; i < nodes_.size(); ++i) {
    if (nodes_[i].name == name) return static_cast<NodeId>(i);
  }
  std::string names;
  for (size_t i = 1; i < nodes_.size(); ++i) {
    if (!nodes_[i].layer->parameters().empty())
      names += (names.empty() ? "" : ", ") + nodes_[i].name;
  }
  throw ConfigError("no layer named '" + name + "'; layers with parameters: " + names);
}

Layer& Net::layer(const std::string& name) { return *nodes_[index_of(name)].layer; }

std::vector<std::pair<std::string, Layer*>> Net::layers() const {
  std::vector<std::pair<std::string, Layer*>> result;
  for (size_t i = 1; i < nodes_.size(); ++i)
    result.emplace_back(nodes_[i].name, nodes_[i].layer.get());
  return result;
}

void Net::require_intact_output(const Node& node) const {
  if (node.overwritten_by == 0) return;
  throw ConfigError(node_label(node) + ": its output was overwritten in place by " +
                    node_label(nodes_[node.overwritten_by]) +
                    " (Net::set_in_place_adds); build the model with in-place adds off to read "
                    "hidden activations");
}

const Tensor& Net::activation(const std::string& name) const {
  const Node& node = nodes_[index_of(name)];
  require_intact_output(node);
  return node.output;
}

std::vector<Net::NodeOutput> Net::last_forward_outputs() const {
  std::vector<NodeOutput> result;
  for (size_t i = 1; i < nodes_.size(); ++i) {
    require_intact_output(nodes_[i]);
    result.push_back({nodes_[i].name, nodes_[i].layer.get(), nodes_[i].output});
  }
  return result;
}

std::vector<Net::NodeInputs> Net::last_forward_inputs() const {
  std::vector<NodeInputs> result;
  for (size_t i = 1; i < nodes_.size(); ++i) {
    NodeInputs entry{nodes_[i].name, nodes_[i].layer.get(), {}};
    for (NodeId id : nodes_[i].inputs) {
      require_intact_output(nodes_[id]);
      entry.inputs.push_back(nodes_[id].output);
    }
    result.push_back(std::move(entry));
  }
  return result;
}

void Net::set_profiling(bool enabled) { profiling_ = enabled; }

void Net::set_timeline(Timeline* timeline) { timeline_ = timeline; }

Net::TimingMark Net::timing_mark() const {
  return {Clock::now(), profiling_ ? kernels::kernel_timing().reorder_seconds : 0.0};
}

void Net::record_time(const Node& node, const char* pass, const TimingMark& mark,
                      PassTiming& timing) {
  const auto end = Clock::now();
  if (profiling_) {
    timing.seconds += std::chrono::duration<double>(end - mark.start).count();
    timing.reorder_seconds += kernels::kernel_timing().reorder_seconds - mark.reorder_seconds;
  }
  if (timeline_) timeline_->add(node.name + " " + pass, "compute", mark.start, end);
}

void Net::set_backward_hook(const std::string& name, BackwardHook hook) {
  nodes_[index_of(name)].backward_hook = std::move(hook);
}

void Net::reset_layer_timings() {
  for (auto& node : nodes_) node.forward_timing = node.backward_timing = PassTiming{};
}

std::vector<Net::LayerTiming> Net::layer_timings() const {
  std::vector<LayerTiming> timings;
  for (size_t i = 1; i < nodes_.size(); ++i) {
    const Node& node = nodes_[i];
    LayerTiming timing{.name = node.name,
                       .description = node.layer->describe(),
                       .forward_seconds = node.forward_timing.seconds,
                       .backward_seconds = node.backward_timing.seconds,
                       .forward_reorder_seconds = node.forward_timing.reorder_seconds,
                       .backward_reorder_seconds = node.backward_timing.reorder_seconds,
                       .implementation = node.layer->implementation()};
    std::vector<Shape> inputs;
    for (NodeId id : node.inputs) {
      if (nodes_[id].output.empty()) break;
      inputs.push_back(nodes_[id].output.shape());
    }
    if (inputs.size() == node.inputs.size())
      timing.forward_flops = node.layer->forward_flops(inputs);
    timings.push_back(timing);
  }
  return timings;
}

void Net::reset_parameters(uint64_t seed) {
  std::mt19937_64 generator(seed);
  for (size_t i = 1; i < nodes_.size(); ++i) nodes_[i].layer->reset_parameters(generator);
}

int Net::fuse_relus() {
  int fused = 0;
  for (auto& node : nodes_) {
    auto* activation = dynamic_cast<Activation*>(node.layer.get());
    if (!activation || !activation->is_plain_relu() || node.inputs.size() != 1) continue;
    Node& producer = nodes_[node.inputs[0]];
    // The producer's own output becomes relu'd: nobody else may be reading it.
    if (!producer.layer || producer.consumer_count != 1) continue;
    if (!producer.layer->absorb_relu()) continue;
    activation->set_fused_into_input(true);
    ++fused;
  }
  return fused;
}

size_t Net::activation_bytes() const {
  std::set<const void*> seen;
  size_t bytes = 0;
  for (size_t i = 1; i < nodes_.size(); ++i) {
    const Tensor& output = nodes_[i].output;
    if (output.empty() || !seen.insert(output.memory().data()).second) continue;
    bytes += output.layout().bytes();
  }
  return bytes;
}

void Net::set_input_gradient_needed(bool needed) {
  input_gradient_needed_ = needed;
  for (auto& node : nodes_) {
    if (!node.layer) continue;
    const bool reads_only_the_batch =
        std::all_of(node.inputs.begin(), node.inputs.end(), [](NodeId id) { return id == kInput; });
    if (reads_only_the_batch) node.layer->set_input_gradient_needed(needed);
  }
}

int Net::set_in_place_adds(bool enabled) {
  int in_place = 0;
  for (auto& node : nodes_) node.overwritten_by = 0;
  for (size_t i = 1; i < nodes_.size(); ++i) {
    auto* add = dynamic_cast<Add*>(nodes_[i].layer.get());
    if (!add) continue;
    const NodeId first = nodes_[i].inputs[0];
    Node& producer = nodes_[first];
    // The Add must be the only reader of that buffer, now and in backward.
    const bool possible = enabled && first != kInput && producer.consumer_count == 1 &&
                          producer.layer->output_overwritable();
    add->set_in_place(possible);
    if (!possible) continue;
    producer.overwritten_by = static_cast<NodeId>(i);
    ++in_place;
  }
  return in_place;
}

void Net::set_compute_type(DataType type) {
  for (auto& node : nodes_) {
    if (node.layer) node.layer->set_compute_type(type);
  }
}

}  // namespace convoy
