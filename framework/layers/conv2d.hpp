#pragma once
// Conv2d: 2-D convolution with stride, padding, dilation, groups (depthwise included) and an
// optional bias, as torch.nn.Conv2d. Weight (O, C/groups, KH, KW), bias (O).

#include <optional>

#include "framework/kernels/convolution.hpp"
#include "framework/layers/layer.hpp"

namespace convoy {

struct Conv2dOptions {
  int64_t in_channels = 0;
  int64_t out_channels = 0;
  int64_t kernel = 1;
  int64_t stride = 1;
  int64_t padding = 0;
  int64_t dilation = 1;
  int64_t groups = 1;
  bool bias = true;
  // Computes relu(conv(x)) in one primitive; the Net sets it when a ReLU follows (performance).
  bool fuse_relu = false;
  DataType compute_type = DataType::f32;  // see Layer::set_compute_type
  // Where the convolution runs as whole-map matmuls, Winograd tiles + matmuls or im2col +
  // matmul instead of oneDNN's primitives (kernels::ConvolutionPaths).
  kernels::ConvolutionPaths paths{};
};

class Conv2d : public Layer {
 public:
  explicit Conv2d(const Conv2dOptions& options);

  std::string describe() const override;
  int64_t forward_flops(const std::vector<Shape>& input_shapes) const override;
  Window window() const override;
  std::string implementation() const override;
  void reset_parameters(std::mt19937_64& generator) override;
  const Conv2dOptions& options() const { return options_; }
  Parameter& weight() { return *weight_; }
  Parameter* bias() { return bias_; }
  void set_fuse_relu(bool fuse);
  bool absorb_relu() override {
    set_fuse_relu(true);
    return true;
  }
  void set_compute_type(DataType type) override;
  void set_paths(const kernels::ConvolutionPaths& paths);

  // Backward reads the output only to mask a fused ReLU's gradient.
  bool output_overwritable() const override { return !options_.fuse_relu; }

 protected:
  Shape infer_output_shape(const std::vector<Shape>& input_shapes) const override;
  void reshape(const std::vector<Shape>& input_shapes) override;
  Tensor forward_impl(const std::vector<Tensor>& inputs, Mode mode) override;
  std::vector<Tensor> backward_impl(const Tensor& output_grad) override;

 private:
  kernels::ConvolutionConfig kernel_config(const Shape& input) const;
  void rebuild_kernel();

  Conv2dOptions options_;
  Parameter* weight_ = nullptr;
  Parameter* bias_ = nullptr;
  std::optional<kernels::Convolution> kernel_;
  Tensor input_;   // saved by forward for backward_weights // (N, C, H, W)
  Tensor output_;  // (N, O, H_out, W_out)
};

}  // namespace convoy
