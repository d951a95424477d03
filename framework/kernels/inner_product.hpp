#pragma once
// InnerProduct: oneDNN's fully connected forward, backward-data and backward-weights for one
// shape. Weights come and go in plain [out, in], bias in plain [out].

#include <memory>

#include "framework/kernels/memory.hpp"

namespace convoy::kernels {

struct InnerProductConfig {
  int64_t batch = 0;
  int64_t in_features = 0;
  int64_t out_features = 0;
  bool bias = true;
  DataType compute_type = DataType::f32;  // bf16: bf16 inputs to the primitive, f32 results
};

class InnerProduct {
 public:
  explicit InnerProduct(const InnerProductConfig& config);
  ~InnerProduct();
  InnerProduct(InnerProduct&&) noexcept;
  InnerProduct& operator=(InnerProduct&&) noexcept;

  Layout destination_layout() const;
  Layout source_layout() const;
  // oneDNN's implementations, "forward | backward-data | backward-weights" where they differ.
  std::string implementation() const;

  void forward(const Memory& source, const Memory& weights, const Memory& bias,
               const Memory& destination);
  void backward_data(const Memory& destination_grad, const Memory& weights,
                     const Memory& source_grad);
  void backward_weights(const Memory& source, const Memory& destination_grad,
                        const Memory& weights_grad, const Memory& bias_grad);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace convoy::kernels
