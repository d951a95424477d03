#pragma once
// Net: a directed acyclic graph of layers with torchvision-style names. Forward runs the
// nodes in insertion order (always topological); backward runs them in reverse, summing the
// gradients of nodes that feed several consumers (residual branches).

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "framework/common/timeline.hpp"
#include "framework/gradient_buffer_pool.hpp"
#include "framework/graph/named_tensors.hpp"
#include "framework/layers/layer.hpp"

namespace convoy {

class Net {
 public:
  using NodeId = int;
  static constexpr NodeId kInput = 0;  // node 0 is the image batch

  // One row of `convoy summary`: what the node computes for a given input shape.
  struct NodeSummary {
    std::string name;  // torchvision prefix, e.g. "layer1.0.conv1"
    std::string description;
    Shape output_shape;
    int64_t parameter_count = 0;
    int64_t forward_flops = 0;  // multiply-accumulates
    int64_t receptive_field = 1;
    int64_t jump = 1;  // product of strides up to this node
    // Unit (y, x) of this node's output is centred on input pixel (y * jump + centre_offset,
    // x * jump + centre_offset): padding shifts it left, a kernel's half-extent right.
    double centre_offset = 0;
  };
  // Called during backward after a layer wrote its parameter gradients, with their indices
  // into parameters() (the data-parallel reducer launches allreduces from here).
  using GradientsReadyCallback = std::function<void(std::span<const int> parameter_indices)>;

  Net() = default;
  Net(const Net&) = delete;
  Net& operator=(const Net&) = delete;

  // Adds `layer` fed by `inputs`. `name` is the layer's torchvision prefix, which names its
  // parameters ("<name>.weight"); parameterless layers may reuse a readable name.
  NodeId add(const std::string& name, std::unique_ptr<Layer> layer, std::vector<NodeId> inputs);
  template <typename LayerType, typename Options>
  NodeId add(const std::string& name, const Options& options, std::vector<NodeId> inputs) {
    return add(name, std::make_unique<LayerType>(options), std::move(inputs));
  }
  // Seals the graph: the last added node is the output; parameters move into one contiguous
  // arena (values and gradients), in parameters() order.
  void finalize();

  Tensor forward(const Tensor& input, Mode mode);
  // Returns the gradient with respect to the input batch (if asked for, see below). Gradients
  // w.r.t. inner nodes live only while needed: a node's is dropped once its layer's backward used
  // it, and the buffer is recycled (see GradientBufferPool), so at most a few activation-sized
  // gradients exist at once, as in PyTorch. Without set_input_gradient_needed(true), returns an
  // empty tensor.
  Tensor backward(const Tensor& output_grad, const GradientsReadyCallback& on_ready = {});
  // Gradient with respect to the input batch of a gradient placed on the named node's output
  // (after a forward): backward through that node and the nodes feeding it only. Nodes after
  // it, and nodes before it that do not feed it, are skipped (effective receptive fields).
  Tensor backward_from(const std::string& name, const Tensor& output_grad);

  // In torchvision state_dict order; backward produces gradients roughly in reverse.
  const std::vector<NamedParameter>& parameters() const { return parameters_; }
  const std::vector<NamedBuffer>& buffers() const { return buffers_; }
  int64_t parameter_count() const;
  // The arena: every parameter value (gradient) back to back, in parameters() order.
  std::span<float> parameter_values() { return values_arena_; }
  std::span<float> parameter_grads() { return grads_arena_; }

  std::vector<NodeSummary> summarize(const Shape& input_shape) const;

  // Per-layer wall time of forward and backward, summed since the last reset (convoy bench), and
  // the part of it spent in layout conversions (oneDNN reorders, timed when kernel timing is on).
  // A layer's backward includes adding its input gradients into fan-out sums.
  struct LayerTiming {
    std::string name;
    std::string description;
    double forward_seconds = 0, backward_seconds = 0;
    double forward_reorder_seconds = 0, backward_reorder_seconds = 0;
    int64_t forward_flops = 0;  // of one forward at the last input shape
    std::string implementation;  // Layer::implementation
  };
  void set_profiling(bool enabled);
  // With a timeline, every layer's forward and backward is also a span on its "compute" lane
  // (convoy bench --trace). The timeline must outlive the Net or be unset with nullptr.
  void set_timeline(Timeline* timeline);

  // Called right after the named node's backward, with its layer and the input gradients it
  // returned (PyTorch's register_full_backward_hook). `convoy gradcheck --perturb-layer` uses it
  // to corrupt one layer's gradients on purpose and show that the check catches it.
  using BackwardHook = std::function<void(Layer& layer, std::vector<Tensor>& input_grads)>;
  void set_backward_hook(const std::string& name, BackwardHook hook);
  std::vector<LayerTiming> layer_timings() const;
  void reset_layer_timings();
  // Layer by node name (first match); throws ConfigError listing valid names if absent.
  Layer& layer(const std::string& name);
  std::vector<std::pair<std::string, Layer*>> layers() const;
  // Every node with the input tensors it received in the last forward (layer-wise checks).
  struct NodeInputs {
    std::string name;
    Layer* layer;
    std::vector<Tensor> inputs;
  };
  std::vector<NodeInputs> last_forward_inputs() const;
  // Output of a named node from the last forward (hidden activations for health statistics).
  const Tensor& activation(const std::string& name) const;
  // Every node with its output from the last forward, in node order. Names may repeat
  // (torchvision reuses one ReLU module per block), which activation(name) cannot tell apart.
  struct NodeOutput {
    std::string name;
    Layer* layer;
    Tensor output;  // shares storage with the node's output
  };
  std::vector<NodeOutput> last_forward_outputs() const;
  void reset_parameters(uint64_t seed);
  // Mixed precision for every layer (see Layer::set_compute_type): bf16 convolutions and
  // matrix products with f32 master weights, as torch.autocast(dtype=torch.bfloat16).
  void set_compute_type(DataType type);
  // Folds every plain ReLU into the layer before it when that layer feeds nothing else and can
  // compute the ReLU itself (Conv2d post-op, BatchNorm2d's fused flag, Add): one pass over the
  // data instead of two, forward and backward, with the same results bit for bit. The ReLU
  // nodes stay (names, summary) as pass-throughs. Returns how many were fused.
  int fuse_relus();
  // With `enabled`, every residual Add whose first input feeds nothing else and may be
  // overwritten (Layer::output_overwritable) writes its sum there, as torchvision's
  // `out += identity` does: same results, one activation buffer fewer per block. The
  // overwritten outputs are then gone after forward, so activation(), last_forward_outputs()
  // and last_forward_inputs() refuse to hand them out; tools that read hidden activations
  // (health statistics, gradient checks, pictures) turn it off. Returns how many Adds do it.
  int set_in_place_adds(bool enabled);
  // Whether backward computes the gradient w.r.t. the input batch (default: yes, for gradient
  // checks and receptive fields). Training never uses it: off, the layers that read only the
  // batch skip that work (the first convolution's backward-data) and backward returns an empty
  // tensor.
  void set_input_gradient_needed(bool needed);
  // Bytes of the distinct buffers holding the last forward's node outputs: the activation
  // memory kept for backward (workspaces and layer-private copies not included).
  size_t activation_bytes() const;
  // The buffers backward draws gradients from (their count shows how much reuse there is).
  const GradientBufferPool& gradient_buffers() const { return gradient_buffers_; }

 private:
  struct PassTiming {
    double seconds = 0, reorder_seconds = 0;
  };
  struct Node {
    std::string name;
    std::unique_ptr<Layer> layer;
    std::vector<NodeId> inputs;
    int consumer_count = 0;
    std::vector<int> parameter_indices;
    Tensor output;
    // Gradient w.r.t. the output during backward; dropped once the node's backward used it.
    Tensor grad;
    bool grad_set = false;
    bool grad_is_sum = false;   // `grad` is a sum buffer of the Net's (fan-out nodes)
    NodeId overwritten_by = 0;  // the in-place Add that overwrites this output (0: none)
    PassTiming forward_timing, backward_timing;
    BackwardHook backward_hook;
  };
  NodeId index_of(const std::string& name) const;
  // Backward from node `start` down to the input; `every_node_reached` makes a node that no
  // gradient reached an error (a full backward) instead of a skip (backward_from).
  Tensor backward_through(NodeId start, const Tensor& output_grad,
                          const GradientsReadyCallback& on_ready, bool every_node_reached);
  // Whether it summed (a fan-out node's second or later contribution).
  bool add_gradient(Node& node, const Tensor& contribution);
  std::string node_label(const Node& node) const;
  // Throws when the node's last output was overwritten in place (see set_in_place_adds).
  void require_intact_output(const Node& node) const;
  // Where a timed pass began: the clock, and the reorder time so far (profiling only).
  struct TimingMark {
    std::chrono::steady_clock::time_point start;
    double reorder_seconds = 0;
  };
  TimingMark timing_mark() const;
  // Adds the time since `mark` to `timing` (profiling) and a span to the timeline, if set.
  void record_time(const Node& node, const char* pass, const TimingMark& mark,
                   PassTiming& timing);

  std::vector<Node> nodes_{1};  // nodes_[0] is the input
  std::vector<NamedParameter> parameters_;
  std::vector<NamedBuffer> buffers_;
  std::vector<float> values_arena_, grads_arena_;
  // Every layer's input gradients and the fan-out sums come from here (see backward_through).
  GradientBufferPool gradient_buffers_;
  bool input_gradient_needed_ = true;
  bool finalized_ = false;
  bool profiling_ = false;
  Timeline* timeline_ = nullptr;
};

}  // namespace convoy
