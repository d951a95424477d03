#pragma once
// AdaptiveAvgPool2d: average pooling to a fixed (out_h, out_w) whatever the input size, exactly as
// torch.nn.AdaptiveAvgPool2d (torchvision's VGG and AlexNet heads use 7x7 and 6x6).

#include <optional>

#include "framework/kernels/adaptive_average_pooling.hpp"
#include "framework/layers/layer.hpp"

namespace convoy {

struct AdaptiveAvgPool2dOptions {
  int64_t output_h = 1;
  int64_t output_w = 1;
};

class AdaptiveAvgPool2d : public Layer {
 public:
  explicit AdaptiveAvgPool2d(const AdaptiveAvgPool2dOptions& options);

  std::string describe() const override;
  // Bins depend on the input size, so the window is that of the last forward's input: the widest
  // bin, ceil(H / out_h), and stride floor(H / out_h). Before the first forward, and for a 1x1
  // output (which Net::summarize widens to the whole map itself), the identity window.
  Window window() const override;
  const AdaptiveAvgPool2dOptions& options() const { return options_; }

 protected:
  Shape infer_output_shape(const std::vector<Shape>& input_shapes) const override;
  void reshape(const std::vector<Shape>& input_shapes) override;
  Tensor forward_impl(const std::vector<Tensor>& inputs, Mode mode) override;
  std::vector<Tensor> backward_impl(const Tensor& output_grad) override;

 private:
  void build_kernel(const Layout& source_layout);

  AdaptiveAvgPool2dOptions options_;
  Shape input_shape_;
  std::optional<kernels::AdaptiveAveragePooling> kernel_;
  Tensor output_;      // (N, C, out_h, out_w)
};

}  // namespace convoy
