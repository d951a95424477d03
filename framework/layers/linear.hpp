#pragma once
// Linear: fully connected layer as torch.nn.Linear. Input (N, in), weight [out, in], bias [out].

#include <optional>

#include "framework/kernels/inner_product.hpp"
#include "framework/layers/layer.hpp"

namespace convoy {

struct LinearOptions {
  int64_t in_features = 0;
  int64_t out_features = 0;
  bool bias = true;
  DataType compute_type = DataType::f32;  // see Layer::set_compute_type
};

class Linear : public Layer {
 public:
  explicit Linear(const LinearOptions& options);

  std::string describe() const override;
  int64_t forward_flops(const std::vector<Shape>& input_shapes) const override;
  std::string implementation() const override;
  void reset_parameters(std::mt19937_64& generator) override;
  void set_compute_type(DataType type) override;
  const LinearOptions& options() const { return options_; }
  Parameter& weight() { return *weight_; }
  Parameter* bias() { return bias_; }

 protected:
  Shape infer_output_shape(const std::vector<Shape>& input_shapes) const override;
  void reshape(const std::vector<Shape>& input_shapes) override;
  Tensor forward_impl(const std::vector<Tensor>& inputs, Mode mode) override;
  std::vector<Tensor> backward_impl(const Tensor& output_grad) override;

 private:
  LinearOptions options_;
  Parameter* weight_ = nullptr;
  Parameter* bias_ = nullptr;
  std::optional<kernels::InnerProduct> kernel_;
  Tensor input_;   // (N, in), saved for backward_weights
  Tensor output_;  // (N, out)
};

}  // namespace convoy
