#pragma once
// BatchNormalization: batch normalization (training forward, inference forward, backward) for one
// input layout: oneDNN's primitives, created once and executed every step, or for f32 NHWC inputs
// convoy's own loops (nhwc_batch_normalization.hpp). Scale, shift, mean and variance come and go
// as plain (C) f32 arrays.

#include <memory>

#include "framework/kernels/memory.hpp"

namespace convoy::kernels {

struct BatchNormalizationConfig {
  // Layout of the (N, C, H, W) input. oneDNN normalization has no format_tag::any: the primitive
  // works in whatever layout the producer chose, and the output keeps it.
  Layout source;
  float epsilon = 1e-5f;
  bool affine = true;  // scale (gamma) and shift (beta) are applied and learned
  // Output is relu(bn(x)); oneDNN keeps the ReLU mask in a workspace, the own loops recompute it.
  bool fuse_relu = false;
  // f32 NHWC inputs run convoy's own loops, about 1.4x faster than oneDNN 2.6's bnorm_tbb_jit
  // there (resnet20, batch 64, 1 thread); off only to compare the two.
  bool own_nhwc_loops = true;
};

class BatchNormalization {
 public:
  explicit BatchNormalization(const BatchNormalizationConfig& config);
  ~BatchNormalization();
  BatchNormalization(BatchNormalization&&) noexcept;
  BatchNormalization& operator=(BatchNormalization&&) noexcept;

  const BatchNormalizationConfig& config() const;
  // oneDNN's implementations, "forward training | backward" where they differ, or "own nhwc
  // loops".
  std::string implementation() const;
  Layout destination_layout() const;
  Layout source_grad_layout() const;

  // Normalizes with the batch statistics and writes them to mean and variance (biased, as used
  // for normalizing). scale/shift are ignored (may be empty) without affine.
  void forward_training(const Memory& source, const Memory& scale, const Memory& shift,
                        const Memory& destination, const Memory& mean, const Memory& variance);
  // Normalizes with the given (running) statistics.
  void forward_inference(const Memory& source, const Memory& scale, const Memory& shift,
                         const Memory& mean, const Memory& variance, const Memory& destination);
  // Gradient through the last forward_training (same source, mean and variance); writes
  // source_grad and, with affine, scale_grad and shift_grad.
  // oneDNN 2.6 requires the shift as an argument of backward with use_shift, though unused.
  void backward(const Memory& source, const Memory& destination_grad, const Memory& scale,
                const Memory& shift, const Memory& mean, const Memory& variance,
                const Memory& source_grad, const Memory& scale_grad, const Memory& shift_grad);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace convoy::kernels
