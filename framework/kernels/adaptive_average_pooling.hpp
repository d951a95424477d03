#pragma once
// AdaptiveAveragePooling: torch.nn.AdaptiveAvgPool2d. Output cell i along H averages input rows
// [floor(i * H / out_h), ceil((i + 1) * H / out_h)), likewise along W; bins may overlap, and
// out > H repeats rows (torchvision's VGG asks 7x7 of smaller maps).

#include <memory>

#include "framework/kernels/memory.hpp"

namespace convoy::kernels {

struct AdaptiveAveragePoolingConfig {
  Shape input;           // (N, C, H, W)
  Layout source_layout;  // layout the input arrives in; empty means plain
  int64_t output_h = 1, output_w = 1;

  Shape output_shape() const { return {input.at(0), input.at(1), output_h, output_w}; }
  // H % out_h == 0 and W % out_w == 0: every bin has the same size and bins tile the input, so
  // it is an ordinary average pooling with kernel = stride = H / out_h.
  bool bins_are_uniform() const;
};

class AdaptiveAveragePooling {
 public:
  explicit AdaptiveAveragePooling(const AdaptiveAveragePoolingConfig& config);
  ~AdaptiveAveragePooling();
  AdaptiveAveragePooling(AdaptiveAveragePooling&&) noexcept;
  AdaptiveAveragePooling& operator=(AdaptiveAveragePooling&&) noexcept;

  const AdaptiveAveragePoolingConfig& config() const;
  Layout destination_layout() const;
  Layout source_layout() const;  // of the input gradient

  void forward(const Memory& source, const Memory& destination);
  void backward(const Memory& destination_grad, const Memory& source_grad);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace convoy::kernels
