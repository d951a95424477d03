#pragma once
// Layer: the contract every layer follows (after Caffe's layer.hpp). A layer knows only its
// inputs, its output and its parameters; the Net knows the graph.

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "framework/gradient_buffer_pool.hpp"
#include "framework/tensor.hpp"

namespace convoy {

enum class Mode { train, eval };

// A learnable tensor and its gradient, both plain f32 in the canonical layout (OIHW for conv
// weights, [out, in] for Linear), so optimizer, allreduce and checkpoint need no layout logic.
struct Parameter {
  std::string name;  // local name inside the layer: "weight", "bias"
  Tensor value;
  Tensor grad;
  // Biases and normalization scales/shifts: exempt from weight decay when the recipe asks.
  bool is_bias_or_norm = false;
};

// State that is saved and synchronized but not learned: BatchNorm running statistics.
struct Buffer {
  std::string name;  // "running_mean", "running_var", "num_batches_tracked"
  Tensor value;      // plain f32
};

class Layer {
 public:
  explicit Layer(std::string type) : type_(std::move(type)) {}
  virtual ~Layer() = default;
  Layer(const Layer&) = delete;
  Layer& operator=(const Layer&) = delete;

  const std::string& type() const { return type_; }
  // One line with the options, e.g. "Conv2d(3, 16, kernel=3, stride=1, padding=1, bias=false)".
  virtual std::string describe() const { return type_; }
  virtual int input_count() const { return 1; }

  // Checks the input count and shapes; re-runs reshape() when the input shapes change (kernels
  // are built there, once per shape), then runs the layer. The returned tensor stays valid and
  // unchanged until the next forward.
  Tensor forward(const std::vector<Tensor>& inputs, Mode mode);
  // Gradient with respect to each input, given the gradient of the last forward's output.
  // Parameter gradients are written (not accumulated): each parameter belongs to exactly one
  // layer and is used once per forward. Input gradients are new tensors (from the gradient
  // buffer pool) or `output_grad` itself, never state of the layer: they stay valid while the
  // caller holds them, and their buffers are reused once nobody does.
  std::vector<Tensor> backward(const Tensor& output_grad);
  // Where backward takes its input-gradient buffers from; the Net attaches its pool in
  // finalize(). Without a pool (a layer used on its own) each backward allocates them.
  void set_gradient_buffer_pool(GradientBufferPool* pool) { gradient_buffers_ = pool; }

  // Output shape for the given input shapes, validating them (throws ShapeError naming the
  // layer). Used by the Net and `convoy summary` without running anything.
  Shape output_shape(const std::vector<Shape>& input_shapes) const;
  // Multiply-accumulates of one forward pass for these input shapes (summary, benchmarks).
  virtual int64_t forward_flops(const std::vector<Shape>& input_shapes) const { return 0; }
  // Receptive-field arithmetic: kernel extent, stride and padding along H (1, 1, 0 if none).
  struct Window {
    int64_t kernel = 1, stride = 1, padding = 0, dilation = 1;
  };
  virtual Window window() const { return {}; }
  // The kernels running this layer as oneDNN names them (e.g. "jit:avx2"; convoy bench shows
  // them); empty for layers that do not report one, and before the first forward.
  virtual std::string implementation() const { return ""; }

  std::vector<Parameter*> parameters();
  std::vector<Buffer*> buffers();
  // Draws fresh initial values from `generator` (torchvision's defaults for the layer type).
  virtual void reset_parameters(std::mt19937_64& generator) {}
  // Mixed precision: the arithmetic type of the layer's matrix products (Conv2d, Linear compute
  // in bf16 with `DataType::bf16`). Conv2d then also writes bf16 activations and input
  // gradients, which the layers after it (BatchNorm, ReLU, pooling, Add) keep in bf16, as they
  // work in whatever layout and type their input arrives in; Linear writes f32 (the logits).
  // Parameters and their gradients stay f32. Layers without matrix products ignore it.
  virtual void set_compute_type(DataType type) {}
  // Takes over a ReLU that follows this layer (oneDNN's fused post-op or flag), if the layer
  // can: returns true and from then on outputs relu(y). Net::fuse_relus() calls it.
  virtual bool absorb_relu() { return false; }
  // True when the tensor forward returns is the layer's own buffer and its backward never reads
  // it, so the output's single consumer may overwrite it in place (Net::set_in_place_adds).
  virtual bool output_overwritable() const { return false; }
  // Whether backward must compute the gradients w.r.t. the inputs. The Net turns it off for
  // layers that read only the image batch when nobody wants the batch's gradient (training,
  // like PyTorch's requires_grad=False input); a layer that then skips the work (Conv2d's
  // backward-data) returns empty tensors for its input gradients. Others ignore it.
  void set_input_gradient_needed(bool needed) { input_gradient_needed_ = needed; }
  bool input_gradient_needed() const { return input_gradient_needed_; }

 protected:
  virtual Shape infer_output_shape(const std::vector<Shape>& input_shapes) const = 0;
  virtual void reshape(const std::vector<Shape>& input_shapes) = 0;
  virtual Tensor forward_impl(const std::vector<Tensor>& inputs, Mode mode) = 0;
  virtual std::vector<Tensor> backward_impl(const Tensor& output_grad) = 0;

  // Backward's input gradients (and any other scratch that lives only during one backward)
  // come from here, not from members: a layer that kept its input gradient for the whole run
  // would keep one activation-sized buffer per layer alive. The contents are unspecified (a
  // recycled buffer), so backward must overwrite every element, and must not keep a handle
  // after returning, or the buffer is never reused. What backward needs from forward (input,
  // output, statistics) is state of the layer as before.
  Tensor gradient_buffer(const Layout& layout);
  // `gradient` itself if it is plain f32, otherwise a plain copy in a gradient buffer (for
  // hand-written backward loops).
  Tensor plain_gradient(const Tensor& gradient);

  Parameter& add_parameter(const std::string& name, const Shape& shape, bool is_bias_or_norm);
  Buffer& add_buffer(const std::string& name, const Shape& shape);
  // "Conv2d(3, 16, ...): <message>", for ShapeError messages.
  [[noreturn]] void fail(const std::string& message) const;

 private:
  std::string type_;
  std::vector<std::unique_ptr<Parameter>> parameters_;  // unique_ptr: addresses stay stable
  std::vector<std::unique_ptr<Buffer>> buffers_;
  std::vector<Shape> reshaped_for_;
  bool forward_ran_ = false;
  bool input_gradient_needed_ = true;
  GradientBufferPool* gradient_buffers_ = nullptr;  // owned by the Net, which owns the layer
};

}  // namespace convoy
