#pragma once
// LocalResponseNorm: normalization across neighbouring channels, AlexNet's "NORM" layer, as
// torch.nn.LocalResponseNorm(size, alpha, beta, k):
//   b_c = a_c * (k + alpha / size * sum over the size channels centred on c of a^2)^(-beta)
// Only odd sizes (see kernels/local_response_normalization.cpp for why).

#include <optional>

#include "framework/kernels/local_response_normalization.hpp"
#include "framework/layers/layer.hpp"

namespace convoy {

struct LocalResponseNormOptions {
  int64_t size = 5;
  float alpha = 1e-4f;  // PyTorch's defaults
  float beta = 0.75f;
  float k = 1.0f;  // AlexNet (Krizhevsky et al. 2012) uses size 5, alpha 1e-4, beta 0.75, k 2
};

class LocalResponseNorm : public Layer {
 public:
  explicit LocalResponseNorm(const LocalResponseNormOptions& options);

  std::string describe() const override;
  const LocalResponseNormOptions& options() const { return options_; }

 protected:
  Shape infer_output_shape(const std::vector<Shape>& input_shapes) const override;
  void reshape(const std::vector<Shape>& input_shapes) override;
  Tensor forward_impl(const std::vector<Tensor>& inputs, Mode mode) override;
  std::vector<Tensor> backward_impl(const Tensor& output_grad) override;

 private:
  void build_kernel(const Layout& source_layout);

  LocalResponseNormOptions options_;
  Shape input_shape_;
  std::optional<kernels::LocalResponseNormalization> kernel_;
  Tensor input_;       // saved by forward for backward // (N, C, H, W)
  Tensor output_;      // (N, C, H, W)
};

}  // namespace convoy
